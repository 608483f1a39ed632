"""The seed's interruption-premium rule, to the cent."""

from __future__ import annotations

import pytest

from costmodel import SpotParams, seed_heuristic, spot_expectation


def test_seed_numbers_to_the_cent() -> None:
    h = seed_heuristic(1.41, 0.42, 168, 0.5, failure_cost_usd=237)
    assert round(h.on_demand_premium_usd, 2) == 166.32
    assert round(h.risk_cost_usd, 2) == 118.50
    # Without a value on time the rule itself says spot; the seed needed > $47.82 of it.
    assert h.decision == "spot"
    assert round(h.break_even_time_value_usd, 2) == 47.82
    assert seed_heuristic(1.41, 0.42, 168, 0.5, 237, time_value_usd=50).decision == "on-demand"


def test_default_failure_cost_is_the_whole_run() -> None:
    h = seed_heuristic(1.41, 0.42, 168, 0.5)
    assert h.failure_cost_usd == pytest.approx(236.88)
    assert round(h.risk_cost_usd, 2) == 118.44


def test_model_prices_the_seed_job_with_synced_checkpoints() -> None:
    # Seed: 168 h at $0.42 spot, MTBF 41 h; checkpoints every hour taking 1 min, 30 min restart.
    exp = spot_expectation(168.0, 1.0, SpotParams(41.0, 1 / 60, 0.5))
    spot_cost = exp.expected_billed_hours * 0.42
    # Far below on-demand's 168 x 1.41 = $236.88, far above the naive 168 x 0.42 = $70.56.
    assert 70.56 < spot_cost < 80.0
    assert exp.expected_interruptions == pytest.approx(4.2, abs=0.2)


def test_rejects_bad_probability() -> None:
    with pytest.raises(ValueError):
        seed_heuristic(1.41, 0.42, 168, 1.5)
