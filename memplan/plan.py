"""The result of an estimate: components in bytes, the peak, and the verdict against capacity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memplan.constants import GIB


@dataclass(frozen=True)
class MemoryPlan:
    """Peak memory of one training step on one GPU, and what it is made of (bytes).

    ``breakdown`` holds the components live at the peak and sums to ``peak_bytes``.
    ``tensor_peak_bytes`` is the part PyTorch's allocator is asked for (what the traced engine
    measures and ``torch.cuda.max_memory_allocated`` reports); the rest is CUDA context, cuBLAS
    workspace and allocator overhead.
    """

    peak_bytes: int
    tensor_peak_bytes: int
    breakdown: dict[str, int]
    capacity_bytes: int | None
    total_params: int
    trainable_params: int
    peak_phase: str
    phase_peaks: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    engine: str = "analytic"
    #: Where the model came from: name, resolved_from (catalog, local directory, Hugging Face
    #: cache, hub), inventory (precomputed, meta-device build, hand-written layout), source.
    model: dict[str, str] = field(default_factory=dict)

    @property
    def peak_gib(self) -> float:
        return self.peak_bytes / GIB

    @property
    def capacity_gib(self) -> float | None:
        return None if self.capacity_bytes is None else self.capacity_bytes / GIB

    @property
    def fits(self) -> bool | None:
        """The toolkit's one verdict (:func:`memplan.verdict.judge`, its default headroom rule);
        None when capacity is unknown."""
        from memplan.verdict import judge

        return judge(self).fits

    def headroom_fraction(self) -> float | None:
        """Share of capacity left free at the peak (negative when it does not fit)."""
        if not self.capacity_bytes:
            return None
        return 1.0 - self.peak_bytes / self.capacity_bytes

    def fits_with(self, headroom: float) -> bool | None:
        """True when at least ``headroom`` (a fraction of capacity) stays free (same judge)."""
        from memplan.verdict import judge

        return judge(self, headroom=headroom).fits

    def to_json(self) -> dict[str, Any]:
        """The ``memory`` object of preflight's JSON report, plus parameter counts."""
        from memplan.verdict import judge

        cap = self.capacity_gib
        verdict = judge(self)
        return {
            "peak_gib": round(self.peak_gib, 3),
            "capacity_gib": None if cap is None else round(cap, 3),
            "fits": verdict.fits,
            "verdict": verdict.to_json(),
            "breakdown_gib": {k: round(v / GIB, 3) for k, v in self.breakdown.items()},
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "tensor_peak_gib": round(self.tensor_peak_bytes / GIB, 3),
            "peak_phase": self.peak_phase,
            "engine": self.engine,
            "model": dict(self.model),
            "notes": list(self.notes),
        }
