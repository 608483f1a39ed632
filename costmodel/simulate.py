"""Monte Carlo of a spot job: the distribution the closed form only gives the mean of.

Each simulated run replays the process of :mod:`costmodel.spot` event by event: draw the time
to the next interruption, count the checkpoint segments completed before it, lose the partial
one, wait the restart time, repeat until the job ends.  All runs advance together as numpy
arrays, one interruption per loop pass, so the number of passes is the largest interruption
count of any run (tens), not the number of runs.  A job so long that runs still go on after
``MAX_PASSES`` interruptions (years of work on spot) would make that loop grow with the job's
size; those runs are finished with the closed form's expected remainder instead, so the time
stays bounded and the mean stays exact (only the tail of such hopeless jobs is narrowed).  It shares no formula with the closed form,
which is what makes the agreement between the two a check of both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from costmodel.spot import SpotParams, spot_expectation

MAX_PASSES = 200
"""Most interruptions simulated per run; real spot jobs see tens."""


@dataclass(frozen=True)
class SimulationResult:
    """Per-run outcomes of a Monte Carlo of one spot job."""

    hours: NDArray[np.float64]
    billed_hours: NDArray[np.float64]
    interruptions: NDArray[np.int64]

    @property
    def runs(self) -> int:
        """Number of simulated runs."""
        return int(self.hours.size)

    def hours_percentile(self, q: float) -> float:
        """Wall-hours percentile (``q`` in 0..100)."""
        return float(np.percentile(self.hours, q))

    def billed_percentile(self, q: float) -> float:
        """Billed-hours percentile (``q`` in 0..100)."""
        return float(np.percentile(self.billed_hours, q))

    def p_exceeds(self, hours: float) -> float:
        """Share of runs whose wall time exceeds ``hours`` (e.g. a deadline)."""
        return float(np.mean(self.hours > hours))

    def mean_hours(self) -> float:
        """Mean wall hours."""
        return float(self.hours.mean())

    def mean_billed_hours(self) -> float:
        """Mean billed hours."""
        return float(self.billed_hours.mean())


def simulate(
    work_hours: float,
    interval_hours: float,
    params: SpotParams,
    *,
    runs: int = 100_000,
    seed: int | None = 0,
) -> SimulationResult:
    """Simulate ``runs`` independent spot runs of ``work_hours`` compute.

    ``seed`` makes reports reproducible; pass ``None`` for fresh randomness.
    """
    if interval_hours <= 0:
        raise ValueError("checkpoint interval must be positive")
    if runs < 1:
        raise ValueError("runs must be >= 1")
    m, c, r = params.mtbf_hours, params.checkpoint_hours, params.restart_hours
    seg_len = interval_hours + c
    n_full = math.floor(work_hours / interval_hours + 1e-12)
    rest = work_hours - n_full * interval_hours
    rest_len = rest + c if rest > 1e-12 * max(work_hours, 1.0) else 0.0
    total_len = n_full * seg_len + rest_len

    hours = np.zeros(runs)
    billed = np.zeros(runs)
    interruptions = np.zeros(runs, dtype=np.int64)
    if math.isinf(m):
        hours[:] = total_len
        billed[:] = total_len
        return SimulationResult(hours, billed, interruptions)

    rng = np.random.default_rng(seed)
    done_segments = np.zeros(runs, dtype=np.int64)
    active = np.arange(runs)
    passes = 0
    while active.size and passes < MAX_PASSES:
        passes += 1
        remaining = (n_full - done_segments[active]) * seg_len + rest_len
        x = rng.exponential(m, size=active.size)
        finished = x >= remaining
        fin = active[finished]
        hours[fin] += remaining[finished]
        billed[fin] += remaining[finished]
        hit = active[~finished]
        xs = x[~finished]
        done_segments[hit] += np.floor(xs / seg_len).astype(np.int64)
        hours[hit] += xs + r
        billed[hit] += xs
        interruptions[hit] += 1
        active = hit
    if active.size:
        _finish_expected(
            active,
            n_full - done_segments[active],
            rest,
            interval_hours,
            params,
            out=(hours, billed, interruptions),
        )
    return SimulationResult(hours, billed, interruptions)


def _finish_expected(
    active: NDArray[np.int64],
    segments_left: NDArray[np.int64],
    rest: float,
    interval_hours: float,
    params: SpotParams,
    *,
    out: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]],
) -> None:
    """Add the closed-form expected hours, billed hours and interruptions of what is left."""
    hours, billed, interruptions = out
    one = spot_expectation(interval_hours, interval_hours, params)
    tail = spot_expectation(rest, interval_hours, params) if rest > 0 else None
    left = segments_left.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        hours[active] += left * one.expected_hours + (tail.expected_hours if tail else 0.0)
        billed[active] += left * one.expected_billed_hours + (
            tail.expected_billed_hours if tail else 0.0
        )
        more = left * one.expected_interruptions + (tail.expected_interruptions if tail else 0.0)
        interruptions[active] += np.minimum(np.nan_to_num(more, posinf=2**62), 2**62).astype(
            np.int64
        )
