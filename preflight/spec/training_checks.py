"""Ranges of numeric ``training:`` values: a negative batch or 10^30 steps is a clear error at its
key, never a crash or an hour-long loop further down. The table, with the reason for each bound,
is ``preflight/data/training_ranges.yaml``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Range:
    """Inclusive bounds of one field and why they are what they are (every field of the table
    states both: a number with no lower bound would take the default's ``-max_abs``)."""

    low: float
    high: float
    reason: str


@lru_cache(maxsize=1)
def ranges() -> tuple[dict[str, Range], Range]:
    """Per-field ranges and the default range of any other number."""
    from ruamel.yaml import YAML

    text = resources.files("preflight.data").joinpath("training_ranges.yaml").read_text()
    data = YAML(typ="safe").load(text)
    default = data["default"]
    fallback = Range(-default["max_abs"], default["max_abs"], default["reason"])
    fields = {
        name: Range(entry["min"], entry["max"], entry["reason"])
        for name, entry in data["fields"].items()
    }
    return fields, fallback


def range_problem(name: str, value: Any) -> str | None:
    """Why ``value`` of ``training.<name>`` is out of range, or None when it is fine (or not a
    number: the type check speaks to that)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value}"
    fields, fallback = ranges()
    bounds = fields.get(name, fallback)
    if bounds.low <= value <= bounds.high:
        return None
    return (
        f"must be within {_num(bounds.low)} .. {_num(bounds.high)} ({bounds.reason}), "
        f"got {_num(value)}"
    )


def _num(value: float) -> str:
    """A bound or a value as a reader compares them: whole numbers without ``.0``, big ones with
    thousands separators (or 3 digits past 10^16), other floats in full (``1000000.5`` must not
    read as ``1e+06`` next to a bound of 1,000,000)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 10**16:
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10**7:
        return f"{value:.3g}" if abs(value) > 10**16 else f"{value:,}"
    return str(value)
