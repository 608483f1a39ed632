"""The one "fits" of the toolkit: a peak estimate against a GPU's capacity, with the headroom rule.

memplan's CLI, preflight's PF401/PF402 and costmodel's feasibility rows (through
``preflight.cost.memory_fits``) all call :func:`judge`, so a setting cannot be approved by one
and refused by another.

The headroom rule comes from the published measurements in ``benchmarks/memplan/published.md``:
memplan's peak is compared with what published runs measured, and the share of capacity that
must stay free is chosen so that no configuration a published run saw go out of memory is
called a fit (the test ``tests/memplan/test_memplan_published.py`` holds that over the committed
rows). Capacities are what ``torch.cuda.get_device_properties().total_memory`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from memplan.constants import GIB
from memplan.plan import MemoryPlan

#: Share of the GPU that must stay free at memplan's estimated peak for a step to count as
#: fitting. memplan's analytic peak is within a few percent of its trace, but published runs
#: measure more than memplan in a minority of rows (allocator fragmentation, kernels' workspace,
#: stacks memplan does not model exactly): see benchmarks/memplan/published.md for the band.
REQUIRED_HEADROOM = 0.05
#: Below this free share a step that fits is reported as tight (PF402 warns).
COMFORT_HEADROOM = 0.10


@dataclass(frozen=True)
class Verdict:
    """Whether a step fits, and how close it is.

    ``fits`` is None when the capacity is unknown. ``tight`` is True when it fits with less than
    ``comfort`` free. ``free_share`` is the share of capacity left free at the peak (negative
    when over).
    """

    fits: bool | None
    tight: bool
    free_share: float | None
    peak_gib: float
    capacity_gib: float | None
    headroom: float
    comfort: float
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "fits": self.fits,
            "tight": self.tight,
            "free_share": None if self.free_share is None else round(self.free_share, 4),
            "headroom": self.headroom,
            "comfort": self.comfort,
            "reason": self.reason,
        }


def judge(
    plan_or_peak: MemoryPlan | int | float,
    capacity_gib: float | None = None,
    *,
    headroom: float | None = None,
    comfort: float | None = None,
) -> Verdict:
    """The verdict for a plan (or a peak in bytes) on a GPU of ``capacity_gib``.

    With a :class:`MemoryPlan`, its own capacity is used unless ``capacity_gib`` is given.
    ``headroom`` (default :data:`REQUIRED_HEADROOM`) is the share that must stay free;
    ``comfort`` (default :data:`COMFORT_HEADROOM`, never below ``headroom``) marks a tight fit.
    """
    need = REQUIRED_HEADROOM if headroom is None else float(headroom)
    if not 0 <= need < 1:
        raise ValueError(f"headroom must be in [0, 1), got {need:g}")
    ease = max(need, COMFORT_HEADROOM if comfort is None else float(comfort))
    if isinstance(plan_or_peak, MemoryPlan):
        peak_bytes = float(plan_or_peak.peak_bytes)
        if capacity_gib is None:
            capacity_gib = plan_or_peak.capacity_gib
    else:
        peak_bytes = float(plan_or_peak)
    peak = peak_bytes / GIB
    if capacity_gib is None or capacity_gib <= 0:
        return Verdict(None, False, None, peak, None, need, ease, "GPU capacity unknown")
    cap = float(capacity_gib)
    free = (cap - peak) / cap
    if peak > cap:
        reason = f"estimated peak {peak:.2f} GiB exceeds the {cap:.2f} GiB of the GPU"
        return Verdict(False, False, free, peak, cap, need, ease, reason)
    if free < need:
        reason = (
            f"estimated peak {peak:.2f} GiB leaves {free:.1%} of {cap:.2f} GiB free, under the "
            f"{need:.0%} memplan's measured error needs"
        )
        return Verdict(False, False, free, peak, cap, need, ease, reason)
    tight = free < ease
    reason = f"estimated peak {peak:.2f} GiB leaves {free:.1%} of {cap:.2f} GiB free" + (
        f" (under {ease:.0%}: tight)" if tight else ""
    )
    return Verdict(True, tight, free, peak, cap, need, ease, reason)
