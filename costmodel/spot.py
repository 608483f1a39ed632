r"""Spot interruptions as a Poisson process: expected completion time and the best checkpoint interval.

The model
---------
A job needs ``W`` hours of compute.  It writes a checkpoint after every ``tau`` hours of work;
a save takes ``C`` hours.  Interruptions arrive as a Poisson process of rate ``1/M`` (M = mean
time between interruptions) while the instance runs.  After an interruption the job waits and
restarts for ``R`` hours (capacity wait, start-up, checkpoint download; no interruption can
strike during it), then resumes from the last *completed* checkpoint.  Work since that
checkpoint is lost.  The work therefore splits into ``floor(W / tau)`` segments of ``tau`` plus
one shorter remainder, each ending with a save (the last save is the final model).

Expected time of one segment
----------------------------
Let ``L = tau + C`` be the segment's uninterrupted length and ``X ~ Exp(1/M)`` the time to the
next interruption after a (re)start.  With probability ``exp(-L/M)`` the segment finishes
(``X >= L``), taking ``L``.  Otherwise it costs ``X + R`` and starts over with the same law::

    E = P(X>=L) L + E[X; X<L] + P(X<L) (R + E)

Since ``P(X>=L) L + E[X; X<L] = E[min(X, L)] = M (1 - exp(-L/M))``, solving for ``E`` gives::

    E(tau) = (M + R) (exp((tau + C) / M) - 1)

The number of interruptions in one segment is geometric with mean ``exp(L/M) - 1``; the
billed time excludes their restart waits (SageMaker bills managed spot by billable seconds,
i.e. while the instance runs).  The same expression appears in Daly (2006), "A higher order
estimate of the optimum checkpoint interval for restart dumps", Future Generation Computer
Systems 22(3):303-312, eq. (3)-(6); the first-order optimum ``sqrt(2 C M)`` is Young (1974),
"A first order approximation to the optimum checkpoint interval", CACM 17(9):530-531.

The exact optimum of ``E(tau)/tau`` (time per unit of work) does not depend on ``R``; setting
the derivative to zero gives ``exp((tau + C)/M) (tau/M - 1) = -1``, whose root is
``tau* = M (1 + W0(-exp(-(1 + C/M))))`` with Lambert's W0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SpotParams:
    """Interruption and recovery figures (all in hours); ``mtbf_hours=inf`` means never.

    A restart has two parts: ``restart_hours`` is not billed (waiting for spot capacity: no
    instance runs), ``billed_restart_hours`` is (container start, model load and checkpoint
    download run on a billed instance).  Both delay the job; no interruption is modelled
    during either.
    """

    mtbf_hours: float
    checkpoint_hours: float
    restart_hours: float
    billed_restart_hours: float = 0.0

    def __post_init__(self) -> None:
        if not self.mtbf_hours > 0:
            raise ValueError("mtbf_hours must be positive")
        if self.checkpoint_hours < 0 or self.restart_hours < 0 or self.billed_restart_hours < 0:
            raise ValueError("checkpoint and restart times cannot be negative")

    @property
    def total_restart_hours(self) -> float:
        """Wall hours from an interruption to training again (billed and unbilled)."""
        return self.restart_hours + self.billed_restart_hours


@dataclass(frozen=True)
class SpotExpectation:
    """Closed-form expectation for one job."""

    work_hours: float
    interval_hours: float
    segments: int
    expected_hours: float
    expected_billed_hours: float
    expected_interruptions: float
    p_no_interruption: float


def _segments(work_hours: float, interval_hours: float) -> list[tuple[float, int]]:
    """(length, count) pairs: the full segments and the remainder."""
    if interval_hours <= 0:
        raise ValueError("checkpoint interval must be positive")
    if work_hours <= 0:
        return []
    full = math.floor(work_hours / interval_hours + 1e-12)
    rest = work_hours - full * interval_hours
    out: list[tuple[float, int]] = []
    if full:
        out.append((interval_hours, full))
    if rest > 1e-12 * max(work_hours, 1.0):
        out.append((rest, 1))
    return out


def expm1_or_inf(x: float) -> float:
    """``exp(x) - 1``, or inf where it overflows a float (a segment far longer than the MTBF)."""
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def segment_expected_hours(tau: float, params: SpotParams) -> float:
    """Expected wall hours to finish one segment of ``tau`` work (see the module docstring)."""
    m, c, r = params.mtbf_hours, params.checkpoint_hours, params.total_restart_hours
    if math.isinf(m):
        return tau + c
    return (m + r) * expm1_or_inf((tau + c) / m)


def spot_expectation(
    work_hours: float, interval_hours: float, params: SpotParams
) -> SpotExpectation:
    """Expected completion time, billed time and interruptions of ``work_hours`` of compute."""
    m, c, r = params.mtbf_hours, params.checkpoint_hours, params.restart_hours
    expected = 0.0
    interruptions = 0.0
    total_len = 0.0
    segments = 0
    for length, count in _segments(work_hours, interval_hours):
        segments += count
        total_len += count * (length + c)
        expected += count * segment_expected_hours(length, params)
        if not math.isinf(m):
            interruptions += count * expm1_or_inf((length + c) / m)
    p_none = 1.0 if math.isinf(m) else math.exp(-total_len / m)
    return SpotExpectation(
        work_hours=work_hours,
        interval_hours=interval_hours,
        segments=segments,
        expected_hours=expected,
        expected_billed_hours=expected - r * interruptions,
        expected_interruptions=interruptions,
        p_no_interruption=p_none,
    )


def on_demand_hours(work_hours: float, interval_hours: float, checkpoint_hours: float) -> float:
    """Uninterrupted wall hours: the work plus every checkpoint save."""
    segments = sum(count for _, count in _segments(work_hours, interval_hours))
    return work_hours + segments * checkpoint_hours


def _lambert_w0(x: float) -> float:
    """Principal branch of Lambert's W for ``-1/e <= x < 0`` (Halley's iteration)."""
    if not -1.0 / math.e <= x < 0.0:
        raise ValueError("lambert_w0 is only needed on [-1/e, 0)")
    # Series about the branch point is a good start near -1/e; x itself near 0.
    p = math.sqrt(max(2.0 * (math.e * x + 1.0), 0.0))
    w = -1.0 + p - p * p / 3.0 if x < -0.25 else x
    for _ in range(50):
        ew = math.exp(w)
        f = w * ew - x
        wp1 = w + 1.0
        if abs(wp1) < 1e-300:
            break
        step = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1))
        w -= step
        if abs(step) < 1e-15 * (1.0 + abs(w)):
            break
    return w


@dataclass(frozen=True)
class CheckpointInterval:
    """The best interval between checkpoints, three ways (hours of work)."""

    exact_hours: float
    daly_hours: float
    young_hours: float

    @property
    def minutes(self) -> float:
        """The exact optimum in minutes (what reports show)."""
        return self.exact_hours * 60.0


def optimal_checkpoint_interval(mtbf_hours: float, checkpoint_hours: float) -> CheckpointInterval:
    """Work between checkpoints that minimises expected completion time.

    ``exact`` minimises this module's closed form (via Lambert W); ``daly`` is Daly's (2006)
    higher-order estimate ``sqrt(2CM)[1 + sqrt(C/2M)/3 + (C/2M)/9] - C`` (``M`` when
    ``C >= 2M``); ``young`` is Young's (1974) ``sqrt(2CM)``.  With no interruptions the best
    interval is "never", returned as infinity.
    """
    m, c = mtbf_hours, checkpoint_hours
    if math.isinf(m):
        return CheckpointInterval(math.inf, math.inf, math.inf)
    if c <= 0:
        # Free checkpoints: save as often as possible.
        return CheckpointInterval(0.0, 0.0, 0.0)
    exact = m * (1.0 + _lambert_w0(-math.exp(-(1.0 + c / m))))
    young = math.sqrt(2.0 * c * m)
    if c < 2.0 * m:
        ratio = c / (2.0 * m)
        daly = young * (1.0 + math.sqrt(ratio) / 3.0 + ratio / 9.0) - c
    else:
        daly = m
    return CheckpointInterval(exact_hours=exact, daly_hours=daly, young_hours=young)
