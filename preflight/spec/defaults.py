"""What Trainer does for a TrainingArguments field nobody set."""

from __future__ import annotations

from typing import Any

from .training_fields import training_fields

# Defaults that the field table holds as an expression, resolved by hand. Source: transformers
# 5.24 training_args.py (``default_optim = "adamw_torch"``, made fused on torch >= 2.8 with CUDA).
_RESOLVED: dict[str, Any] = {"optim": "adamw_torch"}


def trainer_default(name: str) -> tuple[bool, Any]:
    """(True, default) for a known field, (False, None) for an unknown one."""
    if name in _RESOLVED:
        return True, _RESOLVED[name]
    info = training_fields().fields.get(name)
    if info is None:
        return False, None
    if info.default_kind in ("value", "factory"):
        return True, info.default
    return True, None
