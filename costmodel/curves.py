"""Cost curves behind the plot and the terminal chart: cost vs checkpoint interval and vs MTBF."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from costmodel.simulate import simulate
from costmodel.spot import (
    SpotParams,
    on_demand_hours,
    optimal_checkpoint_interval,
    spot_expectation,
)


@dataclass(frozen=True)
class CurvePoint:
    """One x value with spot expected/P90 cost and the flat on-demand cost."""

    x: float
    spot_expected_usd: float
    spot_p90_usd: float
    on_demand_usd: float


@dataclass(frozen=True)
class Curve:
    """A named series of points; ``marker`` is the x of the optimum (or the given value)."""

    x_label: str
    points: list[CurvePoint]
    marker: float | None = None
    marker_label: str = ""
    marker_unit: str = ""


def cost_vs_interval(
    work_hours: float,
    params: SpotParams,
    spot_usd_per_hour: float,
    on_demand_usd_per_hour: float,
    *,
    n: int = 24,
    runs: int = 20_000,
    seed: int = 0,
) -> Curve:
    """Spot cost against the checkpoint interval (minutes, log-spaced around the optimum)."""
    best = optimal_checkpoint_interval(params.mtbf_hours, params.checkpoint_hours).exact_hours
    if not math.isfinite(best) or best <= 0:
        best = max(work_hours / 10.0, 1.0 / 60.0)
    lo = max(best / 20.0, 1.0 / 60.0)
    hi = max(min(best * 20.0, work_hours), lo * 2)
    pts: list[CurvePoint] = []
    for tau in np.geomspace(lo, hi, n):
        t = float(tau)
        exp = spot_expectation(work_hours, t, params)
        sim = simulate(work_hours, t, params, runs=runs, seed=seed)
        od = on_demand_hours(work_hours, t, params.checkpoint_hours) * on_demand_usd_per_hour
        pts.append(
            CurvePoint(
                x=t * 60.0,
                spot_expected_usd=exp.expected_billed_hours * spot_usd_per_hour,
                spot_p90_usd=sim.billed_percentile(90) * spot_usd_per_hour,
                on_demand_usd=od,
            )
        )
    return Curve("checkpoint interval (minutes)", pts, best * 60.0, "optimum", "min")


def cost_vs_mtbf(
    work_hours: float,
    params: SpotParams,
    spot_usd_per_hour: float,
    on_demand_usd_per_hour: float,
    *,
    n: int = 24,
    runs: int = 20_000,
    seed: int = 0,
) -> Curve:
    """Spot cost against MTBF (hours), each point at its own optimal interval."""
    m0 = params.mtbf_hours if math.isfinite(params.mtbf_hours) else 100.0
    pts: list[CurvePoint] = []
    for m in np.geomspace(max(m0 / 10.0, 0.5), m0 * 20.0, n):
        p = SpotParams(
            float(m), params.checkpoint_hours, params.restart_hours, params.billed_restart_hours
        )
        tau = optimal_checkpoint_interval(p.mtbf_hours, p.checkpoint_hours).exact_hours
        tau = min(max(tau, 1.0 / 3600.0), work_hours)
        exp = spot_expectation(work_hours, tau, p)
        sim = simulate(work_hours, tau, p, runs=runs, seed=seed)
        od = on_demand_hours(work_hours, tau, p.checkpoint_hours) * on_demand_usd_per_hour
        pts.append(
            CurvePoint(
                x=float(m),
                spot_expected_usd=exp.expected_billed_hours * spot_usd_per_hour,
                spot_p90_usd=sim.billed_percentile(90) * spot_usd_per_hour,
                on_demand_usd=od,
            )
        )
    return Curve("mean time between interruptions (hours)", pts, m0, "assumed MTBF", "h")
