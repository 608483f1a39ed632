"""Errors raised by costmodel; all subclass ValueError so callers can report them as bad input."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Names that look like ``name`` (case-insensitive, with or without the ``ml.`` prefix)."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    wanted = name.lower()
    if not wanted.startswith("ml.") and f"ml.{wanted}" in lowered:
        return [lowered[f"ml.{wanted}"]]
    hits = difflib.get_close_matches(wanted, list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


class UnknownInstanceError(ValueError):
    """An instance type that is not in the bundled catalog."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown instance type {name!r}{hint}")


class UnknownGPUError(ValueError):
    """A GPU name that is not in the bundled catalog."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown GPU {name!r}{hint}")


class MissingPriceError(ValueError):
    """The catalog has no citable price for this instance type in this region."""

    def __init__(self, instance: str, region: str, note: str | None = None) -> None:
        self.instance = instance
        self.region = region
        detail = f" ({note})" if note else ""
        super().__init__(
            f"no on-demand price for {instance} in {region}{detail}; "
            "use --live-prices or another region"
        )


class MissingThroughputError(ValueError):
    """Neither a peak TFLOPS figure nor a calibrated effective figure exists for this GPU."""

    def __init__(self, gpu: str) -> None:
        self.gpu = gpu
        super().__init__(
            f"no peak TFLOPS figure or calibration for GPU {gpu!r}; pass an explicit "
            "effective TFLOPS figure"
        )
