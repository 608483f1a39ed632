"""preflight: check a fine-tuning job before launch, so it cannot lose its work.

Public API::

    import preflight
    report = preflight.check("job.yaml")          # -> Report
    spec = preflight.load_spec("job.yaml").spec    # -> JobSpec

Heavy libraries (torch, transformers, boto3) are never imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .findings import Finding, Severity
from .report import Report
from .spec import JobSpec, LoadedSpec, SpecError, SpecIssue, load_spec

if TYPE_CHECKING:
    from pathlib import Path

__version__ = "0.1.0"


def check(target: str | Path | LoadedSpec | list[str | Path], **kwargs: Any) -> Report:
    """Check a job (spec path, other config, or loaded spec): see ``preflight.pipeline.check``."""
    from .pipeline import check as _check

    return _check(target, **kwargs)


__all__ = [
    "Finding",
    "JobSpec",
    "LoadedSpec",
    "Report",
    "Severity",
    "SpecError",
    "SpecIssue",
    "__version__",
    "check",
    "load_spec",
]
