"""Training data: jsonl or csv rows of text or translation pairs, turned into token ids.

A path may be a file or a directory (a SageMaker channel): every ``.jsonl``/``.json``/``.csv``
file in it is read, in name order. Rows with the wrong fields stop the run with the file and line,
not a KeyError in the middle of a collate. Truncation to ``data.max_length`` is counted and
reported, because silently cut targets are the classic reason a translation model learns to stop
mid-sentence.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import TrainjobError

DATA_SUFFIXES = (".jsonl", ".json", ".csv")


@dataclass
class TextData:
    """The training texts and a fingerprint of the files they came from."""

    texts: list[str]
    files: list[Path]
    sha256: str


@dataclass
class Tokenized:
    """Token ids per example, plus what truncation did to them."""

    examples: list[dict[str, list[int]]]
    truncated: int
    max_length: int | None
    tokens: int
    longest: int = 0
    lengths: list[int] = field(default_factory=list, repr=False)

    def report(self) -> str:
        n = len(self.examples)
        if self.max_length is None:
            return f"{n} examples, {self.tokens} tokens, longest {self.longest} (no max_length)"
        pct = 100.0 * self.truncated / n if n else 0.0
        return (
            f"{n} examples, {self.tokens} tokens after truncation; {self.truncated} "
            f"({pct:.1f}%) longer than max_length {self.max_length} were truncated "
            f"(longest {self.longest})"
        )


def data_files(path: Path) -> list[Path]:
    """The data files a path stands for: itself, or the data files in a directory."""
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES)
        if not files:
            raise TrainjobError(f"{path}: no .jsonl, .json or .csv files in this directory")
        return files
    raise TrainjobError(f"{path}: data file or directory not found")


def read_texts(
    path: Path,
    *,
    fmt: str = "text",
    text_field: str = "text",
    source_field: str = "source",
    target_field: str = "target",
    prompt_template: str = "{source}\n{target}",
    limit: int | None = None,
) -> TextData:
    """Read rows and render each as one training text (``fmt`` "text" or "pairs")."""
    files = data_files(path)
    digest = hashlib.sha256()
    texts: list[str] = []
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
        for line_no, row in _rows(file):
            texts.append(
                _render(
                    row,
                    file,
                    line_no,
                    fmt,
                    text_field,
                    source_field,
                    target_field,
                    prompt_template,
                )
            )
            if limit is not None and len(texts) >= limit:
                break
        if limit is not None and len(texts) >= limit:
            break
    if not texts:
        raise TrainjobError(f"{path}: no training rows found")
    return TextData(texts=texts, files=files, sha256=digest.hexdigest())


def _rows(file: Path) -> list[tuple[int, dict[str, Any]]]:
    text = file.read_text(encoding="utf-8")
    if file.suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        return [(i + 2, dict(row)) for i, row in enumerate(reader)]
    if file.suffix == ".json" and text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except ValueError as exc:
            raise TrainjobError(f"{file}: not valid JSON ({exc})") from None
        return [(1, r) for r in rows]
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise TrainjobError(f"{file}:{i}: not a JSON object ({exc.args[0]})") from None
        out.append((i, row))
    return out


def _render(
    row: Any,
    file: Path,
    line: int,
    fmt: str,
    text_field: str,
    source_field: str,
    target_field: str,
    template: str,
) -> str:
    if not isinstance(row, dict):
        raise TrainjobError(f"{file}:{line}: each row must be an object, not {type(row).__name__}")
    if fmt == "pairs":
        missing = [f for f in (source_field, target_field) if f not in row]
        if missing:
            raise TrainjobError(
                f"{file}:{line}: row has no {', '.join(missing)!s} field "
                f"(data.format is pairs; fields present: {', '.join(map(str, row)) or 'none'})"
            )
        try:
            return template.format(source=str(row[source_field]), target=str(row[target_field]))
        except (KeyError, IndexError) as exc:
            raise TrainjobError(
                f"data.prompt_template: unknown placeholder {exc}; use {{source}} and {{target}}"
            ) from None
    if text_field not in row:
        raise TrainjobError(
            f"{file}:{line}: row has no {text_field!r} field "
            f"(fields present: {', '.join(map(str, row)) or 'none'})"
        )
    return str(row[text_field])


def tokenize(texts: list[str], tokenizer: Any, max_length: int | None) -> Tokenized:
    """Token ids with the model's tokenizer, EOS appended, cut to ``max_length``, counted."""
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
    eos = getattr(tokenizer, "eos_token_id", None)
    examples: list[dict[str, list[int]]] = []
    truncated = 0
    tokens = 0
    longest = 0
    lengths: list[int] = []
    for ids in encoded:
        ids = list(ids) + ([eos] if eos is not None else [])
        longest = max(longest, len(ids))
        if max_length is not None and len(ids) > max_length:
            ids = ids[:max_length]
            truncated += 1
        tokens += len(ids)
        lengths.append(len(ids))
        examples.append({"input_ids": ids})
    return Tokenized(examples, truncated, max_length, tokens, longest, lengths)
