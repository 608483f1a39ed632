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

#: Share of the GPU that must stay free at memplan's estimated peak, whatever the setting: the
#: allocator's fragmentation beyond memplan's flat overhead and kernels' workspaces.
REQUIRED_HEADROOM = 0.05
#: Extra free share per unit of the peak that grows with tokens (activations, recompute, logits
#: and loss). Derived in benchmarks/memplan/published.md: on Unsloth's published Hugging Face +
#: FA2 QLoRA maximum contexts memplan's peak is 3-15% under the capacity the runs filled, the
#: gap growing with the token-driven share of the peak (up to ~90% of it at 28k tokens), while
#: on PEFT's weight-heavier bf16 LoRA runs it is 2-6% over. 0.12 x that share covers the worst
#: row, so no published maximum context is exceeded and no published OOM is called a fit.
TOKEN_HEADROOM = 0.12
#: A step that fits with less than this much beyond its required free share is tight (PF402).
COMFORT_MARGIN = 0.05
#: The comfort level for a bare peak without breakdown (and the documented default).
COMFORT_HEADROOM = REQUIRED_HEADROOM + COMFORT_MARGIN

_TOKEN_TERMS = ("activations", "logits_and_loss", "recompute")


def token_share(breakdown: dict[str, int] | dict[str, float]) -> float:
    """Share of a peak's breakdown made of terms that grow with tokens."""
    total = float(sum(breakdown.values()))
    if total <= 0:
        return 0.0
    return float(sum(breakdown.get(k, 0) for k in _TOKEN_TERMS)) / total


def required_headroom(breakdown: dict[str, int] | dict[str, float] | None) -> float:
    """memplan's headroom rule for a peak with this breakdown (see the module docstring)."""
    share = token_share(breakdown) if breakdown else 0.0
    return REQUIRED_HEADROOM + TOKEN_HEADROOM * share


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
    breakdown: dict[str, int] | dict[str, float] | None = None,
) -> Verdict:
    """The verdict for a plan (or a peak in bytes) on a GPU of ``capacity_gib``.

    With a :class:`MemoryPlan`, its own capacity and breakdown are used unless given.
    ``headroom`` (default: :func:`required_headroom` of the breakdown) is the share that must
    stay free; ``comfort`` (default: that plus :data:`COMFORT_MARGIN`) marks a tight fit.
    """
    if isinstance(plan_or_peak, MemoryPlan):
        peak_bytes = float(plan_or_peak.peak_bytes)
        if capacity_gib is None:
            capacity_gib = plan_or_peak.capacity_gib
        if breakdown is None:
            breakdown = plan_or_peak.breakdown
    else:
        peak_bytes = float(plan_or_peak)
    need = required_headroom(breakdown) if headroom is None else float(headroom)
    if not 0 <= need < 1:
        raise ValueError(f"headroom must be in [0, 1), got {need:g}")
    ease = max(need, need + COMFORT_MARGIN if comfort is None else float(comfort))
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
