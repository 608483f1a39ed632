"""Readers: turn whatever the user has (a job spec, and more formats over time) into LoadedSpecs.

``read_sources`` is the single entry point that ``preflight check`` uses; each reader returns the
same LoadedSpec the rules read, with its own line (and cell) map.
"""

from __future__ import annotations

from pathlib import Path

from ..spec import LoadedSpec, load_spec


def read_sources(paths: list[Path], input_format: str | None = None) -> list[LoadedSpec]:
    """Every plan source found at ``paths``; raises SpecError for a file that cannot be used."""
    out: list[LoadedSpec] = []
    for path in paths:
        out.append(load_spec(path))
    return out
