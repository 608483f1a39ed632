"""Which release of transformers / TRL has which field, default and closed value set.

A project runs with the transformers it pins, not with the one installed next to preflight: a
key that 4.56 accepts is no TypeError for a repo that pins 4.56. The table is the bundled
``preflight/data/field_history.json`` (one line per field: first and last release that has it,
its default where it changed), written by ``scripts/snapshot_field_history.py`` from the
released wheels with ``ast``. It is read once, lazily: a check that needs no version pays
nothing.

Versions are compared by (major, minor, patch); a version between two snapshots is judged by
the newest snapshot not newer than it (patches do not change fields), one older than the oldest
by the oldest (with that said in the report), one newer than the newest by the newest.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

Version = tuple[int, ...]


def vkey(version: str) -> Version:
    """(major, minor, patch) of a version string; missing parts are 0 ("4.36" -> (4, 36, 0))."""
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


@lru_cache(maxsize=1)
def field_history() -> dict[str, Any]:
    text = resources.files("preflight.data").joinpath("field_history.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def releases(package: str) -> list[str]:
    """The releases the snapshot has for ``package`` ("transformers" or "trl"), oldest first."""
    versions: list[str] = field_history()[package]["versions"]
    return versions


def snapshot_release(package: str, version: str) -> str:
    """The snapshot release that stands for ``version`` (see the module docstring)."""
    known = releases(package)
    want = vkey(version)
    best = known[0]
    for release in known:
        if vkey(release)[:2] <= want[:2]:
            best = release
    return best


def _has(span_first: str, span_last: str | None, version: str) -> bool:
    want = vkey(version)[:2]
    if vkey(span_first)[:2] > want:
        return False
    return span_last is None or vkey(span_last)[:2] >= want


def training_fields_at(version: str) -> dict[str, dict[str, Any]]:
    """TrainingArguments fields in transformers ``version``: name -> history entry."""
    fields: dict[str, dict[str, Any]] = field_history()["transformers"]["fields"]
    release = snapshot_release("transformers", version)
    return {n: e for n, e in fields.items() if _has(e["first"], e["last"], release)}


def training_field_span(name: str) -> tuple[str, str | None] | None:
    """(first release with the field, last release or None if still there), or None."""
    entry = field_history()["transformers"]["fields"].get(name)
    return None if entry is None else (entry["first"], entry["last"])


def allowed_values(field: str, version: str) -> set[str] | None:
    """The values ``field`` accepts in transformers ``version`` (a closed set), or None."""
    values = field_history()["transformers"]["values"].get(field)
    if values is None:
        return None
    release = snapshot_release("transformers", version)
    return {v for v, (first, last) in values.items() if _has(first, last, release)}


def value_span(field: str, value: str) -> tuple[str, str | None] | None:
    values = field_history()["transformers"]["values"].get(field, {})
    span = values.get(value)
    return None if span is None else (span[0], span[1])


def trl_fields_at(config: str, version: str) -> dict[str, dict[str, Any]] | None:
    """The own fields of TRL's ``config`` (SFTConfig, ...) in trl ``version``; None if unknown."""
    configs = field_history()["trl"]["configs"]
    entry = configs.get(config)
    if entry is None:
        return None
    release = snapshot_release("trl", version)
    return {n: e for n, e in entry.items() if _has(e["first"], e["last"], release)}


def trl_field_span(config: str, name: str) -> tuple[str, str | None] | None:
    entry = field_history()["trl"]["configs"].get(config, {}).get(name)
    return None if entry is None else (entry["first"], entry["last"])


def default_at(entry: dict[str, Any], version: str) -> Any:
    """The default an entry's field had in ``version`` (the last change not after it)."""
    value = None
    for since, default in entry["defaults"]:
        if vkey(since)[:2] <= vkey(version)[:2]:
            value = default
    return value
