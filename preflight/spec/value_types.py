"""A light type check of TrainingArguments values against the annotation text of their field.

The field table gives annotations as written (``int | None``, ``SaveStrategy | str``,
``dict[str, Any] | str | None``). A value passes when it fits any part of the union; a part we
cannot judge (a class such as ``ParallelismConfig``) lets anything through rather than reject a
valid config.
"""

from __future__ import annotations

import re
from typing import Any

_ENUM_CHOICES: dict[str, tuple[str, ...]] = {
    # Source: transformers 5.24 trainer_utils.py (IntervalStrategy, SaveStrategy, HubStrategy).
    "IntervalStrategy": ("no", "steps", "epoch"),
    "SaveStrategy": ("no", "steps", "epoch", "best"),
    "HubStrategy": ("end", "every_save", "checkpoint", "all_checkpoints"),
}


def _parts(type_text: str) -> list[str]:
    text = type_text.replace("Optional[", "").replace("Union[", "")
    depth, part, parts = 0, "", []
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if (ch in "|," and depth <= 0) or (ch == "]" and depth < 0):
            parts.append(part.strip())
            part = ""
            depth = max(depth, 0)
            continue
        part += ch
    parts.append(part.strip())
    return [p for p in parts if p]


def describe(type_text: str) -> str:
    """A short human name of what a field accepts: ``int or null``."""
    names = []
    parts = _parts(type_text)
    has_enum = any(re.split(r"\[", p)[0] in _ENUM_CHOICES for p in parts)
    for part in parts:
        base = re.split(r"\[", part)[0]
        if base in _ENUM_CHOICES:
            names.append(" | ".join(_ENUM_CHOICES[base]))
        elif has_enum and base == "str":
            continue  # the enum's names are the strings it accepts
        else:
            names.append({"None": "null", "NoneType": "null"}.get(base, base))
    return " or ".join(dict.fromkeys(names))


def fits(type_text: str, value: Any) -> bool:
    """Whether ``value`` (plain YAML data) is acceptable for a field annotated ``type_text``."""
    parts = _parts(type_text)
    enum_parts = [p for p in parts if p in _ENUM_CHOICES]
    if enum_parts and isinstance(value, str):
        allowed = {c for p in enum_parts for c in _ENUM_CHOICES[p]}
        # ``SaveStrategy | str`` still means one of the strategy names: Trainer rejects others.
        return value in allowed
    return any(_fits_part(p, value) for p in parts)


def _fits_part(part: str, value: Any) -> bool:
    base = re.split(r"\[", part)[0].strip()
    if base in ("None", "NoneType"):
        return value is None
    if base == "bool":
        return isinstance(value, bool)
    if base == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if base == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if base == "str":
        return isinstance(value, str)
    if base in ("list", "List"):
        return isinstance(value, list)
    if base in ("dict", "Dict"):
        return isinstance(value, dict)
    if base.startswith("Literal"):
        return True
    if base in _ENUM_CHOICES:
        return False  # strings are handled in fits(); other types never fit an enum
    return True  # a class we cannot judge: do not reject
