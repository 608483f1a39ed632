"""Read a YAML file into plain Python data plus a map from dotted key to line number.

ruamel's round-trip loader keeps the position of every key; we walk the tree once, record
``key.path -> line`` (1-based) and return plain dicts and lists, so nothing downstream depends
on ruamel. Duplicate keys, tabs, bad bytes and syntax errors become ``SpecIssue``s with the line
ruamel reports, never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import SpecError, SpecIssue

T = TypeVar("T")


def nearest(mapping: Mapping[str, T], key: str | None) -> T | None:
    """The value of a dotted key in ``mapping``, or of its nearest parent that has one."""
    probe = key or ""
    while probe:
        if probe in mapping:
            return mapping[probe]
        probe = probe.rpartition(".")[0]
    return None


@dataclass
class YamlDocument:
    """Plain data of one YAML file and where each key sits in it."""

    path: Path
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int | None:
        """Line of a dotted key, or of its nearest parent that has one."""
        return nearest(self.lines, key)


def join_key(prefix: str, part: object) -> str:
    """Dotted path segments: ``training.save_steps``, lists as ``lora.target_modules.0``."""
    return f"{prefix}.{part}" if prefix else str(part)


def read_text(path: Path) -> str:
    """The file's text as UTF-8, or a SpecError that says why it cannot be read."""
    name = str(path)
    if not path.exists():
        raise SpecError([SpecIssue(name, None, "", "file not found")])
    if path.is_dir():
        raise SpecError([SpecIssue(name, None, "", "is a directory, not a spec file")])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError([SpecIssue(name, None, "", f"cannot read: {exc.strerror}")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            [SpecIssue(name, line, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x})")]
        ) from None


def load_yaml(path: Path, text: str | None = None) -> YamlDocument:
    """Parse ``path`` (or ``text`` read from it) with positions; raise SpecError on bad YAML."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if text is None:
        text = read_text(path)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        if "duplicate key" in problem:
            problem = _duplicate_message(exc)
        if "\\t" in problem or "tab" in problem.lower():
            problem += " (YAML does not allow tabs for indentation: use spaces)"
        raise SpecError([SpecIssue(str(path), line, "", f"invalid YAML: {problem}")]) from None
    except (YAMLError, ValueError) as exc:  # ReaderError for control characters, etc.
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError([SpecIssue(str(path), None, "", f"invalid YAML: {message}")]) from None
    doc = YamlDocument(path, None)
    doc.data = _plain(tree, "", doc.lines)
    return doc


def _duplicate_message(exc: Exception) -> str:
    text = str(getattr(exc, "problem", "")) or str(exc)
    return text.split("\n")[0].replace("found duplicate key", "duplicate key")


def _plain(node: Any, prefix: str, lines: dict[str, int]) -> Any:
    """Plain dicts/lists from ruamel's commented containers, recording each key's line."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key in node:
            child_key = join_key(prefix, key)
            try:
                line, _col = node.lc.key(key)
                lines[child_key] = line + 1
            except (KeyError, TypeError, AttributeError):
                pass
            out[key] = _plain(node[key], child_key, lines)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, item in enumerate(node):
            child_key = join_key(prefix, index)
            try:
                line, _col = node.lc.item(index)
                lines[child_key] = line + 1
            except (KeyError, TypeError, AttributeError, IndexError):
                pass
            items.append(_plain(item, child_key, lines))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node
