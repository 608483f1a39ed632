"""Monte Carlo of a spot job: the distribution the closed form only gives the mean of.

Each simulated run replays the process of :mod:`costmodel.spot` event by event: draw the time
to the next interruption, count the checkpoint segments completed before it, lose the partial
one, wait the restart time, repeat until the job ends.  All runs advance together as numpy
arrays, one interruption per loop pass, so the number of passes is the largest interruption
count of any run (tens), not the number of runs.

Work must not grow with the job's size: a job expecting more than ``MANY_INTERRUPTIONS``
interruptions (far beyond a real spot job) is not replayed; its total is then a sum of many
independent segments, and the central limit theorem gives it as a normal distribution whose
mean and variance come from the segment's own law (:func:`_segment_moments`), returned as
``runs`` evenly spaced quantiles. The loop is also stopped after ``MAX_PASSES`` passes; runs
still going then get the closed form's expected remainder.  It shares no formula with the closed form,
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
MANY_INTERRUPTIONS = 40.0
"""Expected interruptions past which the normal approximation replaces the replay."""


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
    rb = params.billed_restart_hours
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

    expected = spot_expectation(work_hours, interval_hours, params)
    if not expected.expected_interruptions <= MANY_INTERRUPTIONS:  # also inf / nan
        return _normal_result(n_full, rest, interval_hours, params, runs)

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
        hours[hit] += xs + r + rb
        billed[hit] += xs + rb
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


def _segment_moments(length: float, params: SpotParams) -> tuple[float, float, float, float]:
    """Mean and variance of the wall and the billed hours of one segment of ``length`` work.

    A segment of run length ``L = length + C`` is tried until an attempt survives (probability
    ``q = exp(-L/M)``): ``K ~ Geometric`` failed attempts, each costing ``Y + R`` wall hours
    (``Y`` the exponential time to the interruption, truncated to ``Y < L``) and ``Y`` billed,
    then ``L``.  Wald's identities give mean ``L + E[K] E[Y+R]`` and variance
    ``E[K] Var(Y) + Var(K) E[Y+R]^2``.
    """
    m, c, r = params.mtbf_hours, params.checkpoint_hours, params.restart_hours
    run = length + c
    ratio = run / m
    q = math.exp(-ratio)
    if q <= 0.0:
        return math.inf, math.inf, math.inf, math.inf
    k_mean = (1.0 - q) / q
    k_var = (1.0 - q) / (q * q)
    # Truncated exponential on [0, L): mean m - L q/(1-q); E[Y^2] = 2m^2 - q(L^2 + 2mL + 2m^2)/(1-q)
    one_minus_q = -math.expm1(-ratio)
    y_mean = m - run * q / one_minus_q
    y_sq = 2 * m * m - q * (run * run + 2 * m * run + 2 * m * m) / one_minus_q
    y_var = max(y_sq - y_mean * y_mean, 0.0)
    wall_mean = run + k_mean * (y_mean + r)
    wall_var = k_mean * y_var + k_var * (y_mean + r) ** 2
    billed_mean = run + k_mean * y_mean
    billed_var = k_mean * y_var + k_var * y_mean**2
    return wall_mean, wall_var, billed_mean, billed_var


def _normal_result(
    n_full: int, rest: float, interval_hours: float, params: SpotParams, runs: int
) -> SimulationResult:
    """``runs`` evenly spaced quantiles of the normal approximation of a very long job."""
    from statistics import NormalDist

    parts = [(interval_hours, n_full)] + ([(rest, 1)] if rest > 0 else [])
    wall_mean = wall_var = billed_mean = billed_var = 0.0
    for length, count in parts:
        wm, wv, bm, bv = _segment_moments(length, params)
        wall_mean += count * wm
        wall_var += count * wv
        billed_mean += count * bm
        billed_var += count * bv
    points = min(runs, 2001)
    probs = (np.arange(points) + 0.5) / points
    z = np.array([NormalDist().inv_cdf(float(p)) for p in probs])
    with np.errstate(over="ignore", invalid="ignore"):
        hours = np.maximum(wall_mean + z * math.sqrt(wall_var), 0.0)
        billed = np.maximum(billed_mean + z * math.sqrt(billed_var), 0.0)
        if not math.isfinite(wall_mean):
            hours = np.full(points, math.inf)
            billed = np.full(points, math.inf)
    expected = spot_expectation(n_full * interval_hours + rest, interval_hours, params)
    mean_count = min(expected.expected_interruptions, 2.0**62)
    interruptions = np.full(
        points, int(mean_count) if math.isfinite(mean_count) else 2**62, dtype=np.int64
    )
    return SimulationResult(hours, billed, interruptions)
