"""Severity by consequence: how much a finding can cost depends on how long the run is.

A checkpoint rule's harm is lost training. On a 60-step demo that is a minute of compute, and a
warning there is noise that teaches users to switch the linter off; on a run of days it is the
week the seed story lost. So rules say what they can lose (``Rule.consequence``) and the engine
scales their severity by the run's size, read from the plan (the cost model's expected hours,
else the optimizer steps). The thresholds live here, once, and docs/rules.md quotes them.
When neither is known, a stated MaxRuntime of at most ``DEMO_MAX_HOURS``, a test file or a
small stated training slice (``run_evidence.py``) makes it a demo; else its size is unknown.

- ``"run"``: the finding can lose the run's checkpoints or all its progress (PF101, PF201,
  PF210, ...). A demo run: info. A run of ``LONG_RUN_HOURS`` or more: error.
- ``"progress"``: the finding loses part of the work or time (one save interval, a slow resume,
  old checkpoints). A demo run: silent. Otherwise the rule's own severity.
- ``None``: the finding does not depend on the run's size (a ValueError at start fails a demo
  as surely as a week-long run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .findings import Finding, Severity
from .run_evidence import DEMO_MAX_EXAMPLES

if TYPE_CHECKING:
    from .plan import Plan

DEMO_MAX_STEPS = 100
"""A run of at most this many optimizer steps is a demo: the examples' and tutorials' size."""
DEMO_MAX_HOURS = 1.0
"""...or one expected to take at most an hour."""
LONG_RUN_HOURS = 24.0
"""A run expected to take a day or more: losing it costs a day of GPU time at least."""

CONSEQUENCES = ("run", "progress")


@dataclass(frozen=True)
class RunSize:
    """What is known of a run's size, and the words that say it in a finding."""

    kind: str
    """``demo``, ``normal``, ``long`` or ``unknown``."""
    why: str = ""


def run_size(plan: Plan) -> RunSize:
    """The run's size class from the expected duration, else from its optimizer steps."""
    from .rules.sync import total_steps

    hours = plan.cost.get("hours") if plan.cost else None
    steps = total_steps(plan)
    if isinstance(hours, int | float):
        if hours >= LONG_RUN_HOURS:
            return RunSize("long", f"an expected {hours:,.0f} h run")
        if hours <= DEMO_MAX_HOURS or (steps is not None and steps <= DEMO_MAX_STEPS):
            return RunSize("demo", _demo_words(hours, steps))
        return RunSize("normal")
    if steps is not None:
        if steps <= DEMO_MAX_STEPS:
            return RunSize("demo", _demo_words(None, steps))
        return RunSize("normal")
    capped = _max_runtime_cap(plan)
    if capped is not None:
        return RunSize("demo", capped)
    from .run_evidence import demo_evidence

    evidence = demo_evidence(plan)
    return RunSize("demo", evidence) if evidence else RunSize("unknown")


def _max_runtime_cap(plan: Plan) -> str | None:
    """A SageMaker job whose stated MaxRuntime is at most ``DEMO_MAX_HOURS``: it cannot run
    longer, whatever its steps (``max_runtime_in_seconds=600`` in a 10-minute demo)."""
    from .rules.sync import on_sagemaker

    compute = plan.spec.compute
    if compute is None or not on_sagemaker(plan):
        return None
    if plan.loaded.stated is not None and not plan.stated("compute.max_run_hours"):
        return None
    hours = compute.max_run_hours
    if not isinstance(hours, int | float) or not 0 < hours <= DEMO_MAX_HOURS:
        return None
    return f"a job MaxRuntime stops within {hours * 60:.0f} min"


def _demo_words(hours: float | None, steps: int | None) -> str:
    if steps is not None and steps <= DEMO_MAX_STEPS:
        return f"a {steps:,}-step run"
    return f"an expected {hours:.1f} h run" if hours is not None else "a short run"


def scale(finding: Finding, consequence: str | None, size: RunSize) -> Finding | None:
    """``finding`` at the severity its consequence has on a run of ``size`` (None: silent)."""
    if consequence is None or size.kind in ("normal", "unknown"):
        return finding
    if size.kind == "demo":
        if consequence == "progress":
            return None
        if finding.severity is Severity.INFO:
            return finding
        return finding.model_copy(
            update={
                "severity": Severity.INFO,
                "message": f"{finding.message} [info on {size.why}: little to lose]",
            }
        )
    if consequence == "run" and finding.severity is Severity.WARNING:
        return finding.model_copy(
            update={
                "severity": Severity.ERROR,
                "message": f"{finding.message} [error on {size.why}]",
            }
        )
    return finding


def thresholds_markdown() -> str:
    """The paragraph docs/rules.md shows above the catalog."""
    return (
        "Severity by consequence: a rule marked *run* can lose a run's checkpoints or all its "
        "progress; one marked *progress* loses part of it (a save interval, a slow resume). "
        f"On a demo run (at most {DEMO_MAX_STEPS} optimizer steps, or an expected "
        f"{DEMO_MAX_HOURS:g} h or less) a *run* finding is an info and a *progress* finding is "
        f"silent; on a run expected to take {LONG_RUN_HOURS:g} h or more a *run* finding is an "
        "error. Otherwise, and when the run's size is unknown, the rule's own severity holds. "
        "The run's size is the cost model's expected duration, else `max_steps`; when neither "
        f"is known, a stated MaxRuntime of {DEMO_MAX_HOURS:g} h or less, a test file "
        "(`test_*.py`, a `tests/` folder) or a stated training slice (`select(range(N))`, "
        f'`split="train[:N]"`) of at most {DEMO_MAX_EXAMPLES:,} examples over all epochs '
        "makes it a demo (preflight/severity.py, preflight/run_evidence.py)."
    )
