"""The seed's back-of-envelope "interruption premium", reproduced so its verdict can be checked.

The seed story (000_6930b07ed2edde39.txt, "Decision Framework") reasoned::

    On-demand premium = (on-demand rate - spot rate) x training hours
    Risk cost         = probability of failure x cost of failure
    If time value + risk cost > premium: use on-demand, else spot

with ``(1.41 - 0.42) x 168 = $166`` against ``50% x $237 = $119``.  Two things make it a poor
model: the probability is a guess, and it prices a failure as losing the whole run, which is
only true when checkpoints are not synced.  :mod:`costmodel.spot` prices the same job with
synced checkpoints instead; reports show both side by side.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeedHeuristic:
    """The heuristic's inputs, its two numbers and its verdict."""

    on_demand_usd_per_hour: float
    spot_usd_per_hour: float
    hours: float
    p_failure: float
    failure_cost_usd: float
    time_value_usd: float
    on_demand_premium_usd: float
    risk_cost_usd: float
    decision: str
    break_even_time_value_usd: float

    def to_json(self) -> dict[str, object]:
        """Plain JSON-ready dict (money rounded to the cent)."""
        return {
            "on_demand_usd_per_hour": self.on_demand_usd_per_hour,
            "spot_usd_per_hour": self.spot_usd_per_hour,
            "hours": self.hours,
            "p_failure": self.p_failure,
            "failure_cost_usd": round(self.failure_cost_usd, 2),
            "time_value_usd": self.time_value_usd,
            "on_demand_premium_usd": round(self.on_demand_premium_usd, 2),
            "risk_cost_usd": round(self.risk_cost_usd, 2),
            "decision": self.decision,
            "break_even_time_value_usd": round(self.break_even_time_value_usd, 2),
        }


def seed_heuristic(
    on_demand_usd_per_hour: float,
    spot_usd_per_hour: float,
    hours: float,
    p_failure: float,
    failure_cost_usd: float | None = None,
    time_value_usd: float = 0.0,
) -> SeedHeuristic:
    """Apply the seed's rule.

    ``failure_cost_usd`` defaults to the on-demand cost of the whole run (``rate x hours``);
    the seed itself used its rounded bill, $237.  ``break_even_time_value_usd`` is how much the
    earlier finish must be worth for the rule to pick on-demand.
    """
    if not 0.0 <= p_failure <= 1.0:
        raise ValueError("p_failure must be a probability")
    cost = on_demand_usd_per_hour * hours if failure_cost_usd is None else failure_cost_usd
    premium = (on_demand_usd_per_hour - spot_usd_per_hour) * hours
    risk = p_failure * cost
    decision = "on-demand" if time_value_usd + risk > premium else "spot"
    return SeedHeuristic(
        on_demand_usd_per_hour=on_demand_usd_per_hour,
        spot_usd_per_hour=spot_usd_per_hour,
        hours=hours,
        p_failure=p_failure,
        failure_cost_usd=cost,
        time_value_usd=time_value_usd,
        on_demand_premium_usd=premium,
        risk_cost_usd=risk,
        decision=decision,
        break_even_time_value_usd=max(premium - risk, 0.0),
    )
