"""Reading jsonl/csv rows of text or pairs, with errors that name the file and line, and the
truncation count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trainjob.data import read_texts, tokenize
from trainjob.errors import TrainjobError


def jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_pairs_render_through_the_template(tmp_path: Path) -> None:
    f = jsonl(tmp_path / "p.jsonl", [{"src": "hello", "tgt": "ndewo"}, {"src": "yes", "tgt": "ee"}])
    data = read_texts(
        f,
        fmt="pairs",
        source_field="src",
        target_field="tgt",
        prompt_template="{source} => {target}",
    )
    assert data.texts == ["hello => ndewo", "yes => ee"]


def test_text_rows_and_csv_and_directories(tmp_path: Path) -> None:
    jsonl(tmp_path / "a.jsonl", [{"text": "one"}, {"text": "two"}])
    (tmp_path / "b.csv").write_text("text,other\nthree,x\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored")
    data = read_texts(tmp_path)
    assert data.texts == ["one", "two", "three"]
    assert [f.name for f in data.files] == ["a.jsonl", "b.csv"]


def test_fingerprint_changes_with_the_data(tmp_path: Path) -> None:
    f = jsonl(tmp_path / "a.jsonl", [{"text": "one"}])
    before = read_texts(f).sha256
    jsonl(f, [{"text": "one!"}])
    assert read_texts(f).sha256 != before


def test_missing_field_names_file_and_line(tmp_path: Path) -> None:
    f = jsonl(tmp_path / "p.jsonl", [{"source": "a", "target": "b"}, {"source": "c"}])
    with pytest.raises(TrainjobError, match=r"p\.jsonl:2: row has no target field"):
        read_texts(f, fmt="pairs")


def test_bad_json_line_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text('{"text": "ok"}\n\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(TrainjobError, match=r"t\.jsonl:3: not a JSON object"):
        read_texts(f)


def test_missing_path_and_empty_dir(tmp_path: Path) -> None:
    with pytest.raises(TrainjobError, match="not found"):
        read_texts(tmp_path / "nope.jsonl")
    with pytest.raises(TrainjobError, match="no .jsonl"):
        read_texts(tmp_path)


def test_unknown_template_placeholder(tmp_path: Path) -> None:
    f = jsonl(tmp_path / "p.jsonl", [{"source": "a", "target": "b"}])
    with pytest.raises(TrainjobError, match="prompt_template"):
        read_texts(f, fmt="pairs", prompt_template="{source} {answer}")


class CharTokenizer:
    """One token per character: a stand-in for the external tokenizer with obvious lengths."""

    eos_token_id = 0

    def __call__(
        self, texts: list[str], add_special_tokens: bool = False
    ) -> dict[str, list[list[int]]]:
        return {"input_ids": [[ord(c) for c in t] for t in texts]}


def test_truncation_is_counted_and_eos_appended() -> None:
    tok = tokenize(["abc", "abcdefgh", "abcdefghij"], CharTokenizer(), max_length=6)
    assert [len(e["input_ids"]) for e in tok.examples] == [4, 6, 6]
    assert tok.examples[0]["input_ids"] == [97, 98, 99, 0]
    assert tok.truncated == 2 and tok.longest == 11 and tok.tokens == 16
    assert "2 (66.7%) longer than max_length 6 were truncated" in tok.report()
