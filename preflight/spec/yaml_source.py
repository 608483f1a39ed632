"""Read a YAML file into plain Python data plus a map from dotted key to line number.

ruamel's round-trip loader keeps the position of every key; we walk the tree once, record
``key.path -> line`` (1-based) and return plain dicts and lists, so nothing downstream depends
on ruamel. Duplicate keys, tabs, bad bytes and syntax errors become ``SpecIssue``s with the line
ruamel reports, never a traceback.

Bad input must never hang: a file over ``MAX_BYTES`` is refused before it is read, and the walk
that expands anchors and aliases stops at ``MAX_VALUES`` values or ``MAX_DEPTH`` levels, so a
"billion laughs" document (ten aliases of ten aliases of ...) is one clear error, not gigabytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import SpecError, SpecIssue

T = TypeVar("T")

MAX_BYTES = 4 * 1024 * 1024
"""Largest YAML document parsed (4 MiB): real training configs are a few KiB; a DeepSpeed or
axolotl config with every key written is under 50 KiB."""
MAX_READ_BYTES = 64 * 1024 * 1024
"""Largest file read at all (notebooks with outputs can be tens of MB; a walk limits them)."""
MAX_VALUES = 50_000
"""Most values (keys, items, scalars) a document may expand to once aliases are followed."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and lists accepted."""


def nearest(mapping: Mapping[str, T], key: str | None) -> T | None:
    """The value of a dotted key in ``mapping``, or of its nearest parent that has one.

    The parents are counted out first (``a.b.c``, ``a.b``, ``a``): a bounded loop, so no slip in
    how a parent is cut from its child can turn a message lookup into an endless one.
    """
    parts = key.split(".") if key else []
    for end in range(len(parts), 0, -1):
        probe = ".".join(parts[:end])
        if probe in mapping:
            return mapping[probe]
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


def read_text(path: Path, limit: int = MAX_READ_BYTES) -> str:
    """The file's text as UTF-8, or a SpecError that says why it cannot be read (a file over
    ``limit`` bytes is refused unread)."""
    name = str(path)
    if not path.exists():
        raise SpecError([SpecIssue(name, None, "", "file not found")])
    if path.is_dir():
        raise SpecError([SpecIssue(name, None, "", "is a directory, not a spec file")])
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # a pipe or device has no size to stat
    except OSError as exc:
        raise SpecError([SpecIssue(name, None, "", f"cannot read: {exc.strerror}")]) from None
    if max(size, len(raw)) > limit:
        raise SpecError([SpecIssue(name, None, "", _too_big(size, limit))])
    try:
        return raw.decode()  # UTF-8
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
        text = read_text(path, MAX_BYTES)
    elif len(text) > MAX_BYTES:
        raise SpecError([SpecIssue(str(path), None, "", _too_big(len(text), MAX_BYTES))])
    depth_line = _flow_too_deep(text)
    if depth_line is not None:
        raise SpecError(
            [
                SpecIssue(
                    str(path),
                    depth_line,
                    "",
                    f"invalid YAML: nested deeper than {MAX_DEPTH} levels",
                )
            ]
        )
    yaml = YAML()  # round-trip, the default: it keeps the position of every key
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        if "duplicate key" in problem:
            problem = _duplicate_message(exc)
        if "character '\\t'" in problem:  # not "tab" alone: `*table` is an alias name
            problem += " (YAML does not allow tabs for indentation: use spaces)"
        raise SpecError([SpecIssue(str(path), line, "", f"invalid YAML: {problem}")]) from None
    except (YAMLError, ValueError) as exc:  # ReaderError for control characters, etc.
        message = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SpecError([SpecIssue(str(path), None, "", f"invalid YAML: {message}")]) from None
    except RecursionError:
        raise SpecError(
            [SpecIssue(str(path), None, "", f"invalid YAML: nested deeper than {MAX_DEPTH} levels")]
        ) from None
    doc = YamlDocument(path, None)
    walk = _Walk(doc.lines)
    try:
        doc.data = walk.plain(tree)
    except _TooBig as exc:
        raise SpecError([SpecIssue(str(path), exc.line, exc.key, str(exc))]) from None
    return doc


def _too_big(size: int, limit: int) -> str:
    shown = f"{size:,} bytes" if size > limit else f"over {limit:,} bytes"
    return (
        f"is {shown}; files over {limit:,} bytes are not read "
        "(a training config is a few KiB: is this the right file?)"
    )


def _flow_too_deep(text: str) -> int | None:
    """Line where ``[``/``{`` brackets nest past MAX_DEPTH, found before ruamel recurses into them
    (thousands of levels take it seconds before a RecursionError). Only the brackets are visited,
    so a 4 MiB file without them costs one regular-expression scan."""
    depth = 0
    for bracket in _BRACKETS.finditer(text):
        if bracket.group() in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return text[: bracket.start()].count("\n") + 1
        else:
            depth = max(depth - 1, 0)
    return None


_BRACKETS = re.compile(r"[\[\]{}]")


def _duplicate_message(exc: Exception) -> str:
    """``duplicate key "name"``, without the two values ruamel quotes (one may be a token)."""
    found = re.search(r'duplicate key "(.*?)" with value', str(exc))  # `.` stops at a line end
    return f'duplicate key "{found.group(1)}"' if found else "duplicate key"


class _TooBig(Exception):
    """The document expands past MAX_VALUES or MAX_DEPTH; carries where it happened."""

    def __init__(self, message: str, key: str, line: int | None) -> None:
        super().__init__(message)
        self.key = key
        self.line = line


class _Walk:
    """Plain dicts/lists from ruamel's commented containers, recording each key's line.

    Counts every value it makes, aliases included, so expansion is bounded by MAX_VALUES.
    """

    def __init__(self, lines: dict[str, int]) -> None:
        self.lines = lines
        self.count = 0

    def _tick(self, key: str, depth: int) -> None:
        self.count += 1
        if self.count > MAX_VALUES:
            where = ".".join(key.split(".")[:2])  # an alias's items carry its anchor's lines
            raise _TooBig(
                f"the YAML expands to more than {MAX_VALUES:,} values (anchors reused through "
                "aliases `*name` many times over?); write the values out or use fewer aliases",
                where,
                nearest(self.lines, where),
            )
        if depth > MAX_DEPTH:
            raise _TooBig(f"nested deeper than {MAX_DEPTH} levels", key, nearest(self.lines, key))

    def plain(self, node: Any, prefix: str = "", depth: int = 0) -> Any:
        """Plain data of ``node``, the value at dotted ``prefix``, ``depth`` levels down."""
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        self._tick(prefix, depth)
        if isinstance(node, CommentedMap):
            out: dict[Any, Any] = {}
            for key in node:
                child_key = join_key(prefix, key)
                try:
                    line, _col = node.lc.key(key)
                    self.lines[child_key] = line + 1
                except (KeyError, TypeError, AttributeError):
                    pass
                out[key] = self.plain(node[key], child_key, depth + 1)
            return out
        if isinstance(node, CommentedSeq):
            items = []
            for index, item in enumerate(node):
                child_key = join_key(prefix, index)
                try:
                    line, _col = node.lc.item(index)
                    self.lines[child_key] = line + 1
                except (KeyError, TypeError, AttributeError, IndexError):
                    pass
                items.append(self.plain(item, child_key, depth + 1))
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
