"""Monte Carlo against the closed form, and properties of the simulated distribution."""

from __future__ import annotations

import math

import numpy as np
import pytest

from costmodel import SpotParams, simulate, spot_expectation

GRID = [
    # work h, interval h, MTBF h, checkpoint h, restart h
    (168.0, 1.16, 41.0, 1 / 60, 0.5),
    (334.0, 0.83, 41.0, 0.5 / 60, 0.5),
    (24.0, 2.0, 10.0, 0.1, 1.0),
    (50.0, 5.0, 8.0, 0.25, 0.25),
    (10.0, 10.0, 20.0, 0.0, 2.0),
]


@pytest.mark.parametrize(("w", "tau", "m", "c", "r"), GRID)
def test_mean_agrees_with_closed_form(w: float, tau: float, m: float, c: float, r: float) -> None:
    p = SpotParams(m, c, r)
    exp = spot_expectation(w, tau, p)
    sim = simulate(w, tau, p, runs=100_000, seed=1)
    assert sim.mean_hours() == pytest.approx(exp.expected_hours, rel=0.01)
    assert sim.mean_billed_hours() == pytest.approx(exp.expected_billed_hours, rel=0.01)
    assert float(sim.interruptions.mean()) == pytest.approx(exp.expected_interruptions, rel=0.03)


def test_single_segment_interruptions_are_geometric() -> None:
    # One segment of L = 2 h with M = 2 h: P(no interruption) = e^-1.
    p = SpotParams(2.0, 0.0, 0.0)
    sim = simulate(2.0, 2.0, p, runs=200_000, seed=3)
    assert float(np.mean(sim.interruptions == 0)) == pytest.approx(math.exp(-1), abs=0.005)
    assert float(sim.interruptions.mean()) == pytest.approx(math.e - 1, rel=0.02)


def test_billed_time_excludes_restart_waits() -> None:
    p = SpotParams(10.0, 0.1, 1.5)
    sim = simulate(30.0, 2.0, p, runs=5_000, seed=4)
    np.testing.assert_allclose(sim.hours - sim.billed_hours, 1.5 * sim.interruptions)
    assert np.all(sim.billed_hours >= 30.0 + 15 * 0.1 - 1e-9)


def test_no_interruptions_is_deterministic() -> None:
    sim = simulate(10.0, 3.0, SpotParams(math.inf, 0.1, 1.0), runs=10)
    np.testing.assert_allclose(sim.hours, 10.0 + 4 * 0.1)
    assert sim.p_exceeds(10.3) == 1.0 and sim.p_exceeds(10.5) == 0.0


def test_seeded_runs_repeat_and_percentiles_order() -> None:
    p = SpotParams(41.0, 1 / 60, 0.5)
    a = simulate(168.0, 1.0, p, runs=20_000, seed=7)
    b = simulate(168.0, 1.0, p, runs=20_000, seed=7)
    np.testing.assert_array_equal(a.hours, b.hours)
    assert a.hours_percentile(50) <= a.hours_percentile(90) <= a.hours_percentile(99)
    assert a.p_exceeds(a.hours_percentile(90)) == pytest.approx(0.10, abs=0.01)
