"""The closed form against hand-computed values, limits and its own optimum."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel import (
    SpotParams,
    on_demand_hours,
    optimal_checkpoint_interval,
    segment_expected_hours,
    spot_expectation,
)
from costmodel.spot import _lambert_w0


def test_known_value() -> None:
    # W=10 h in segments of 1 h, C=0.1 h, R=0.5 h, M=5 h:
    # 10 x (5 + 0.5) x (e^0.22 - 1) = 13.53422018230594... (computed with 30-digit decimals)
    exp = spot_expectation(10.0, 1.0, SpotParams(5.0, 0.1, 0.5))
    assert exp.segments == 10
    assert exp.expected_hours == pytest.approx(13.5342201823059450736, rel=1e-12)
    assert exp.expected_interruptions == pytest.approx(10 * 0.2460767305873808195, rel=1e-12)
    assert exp.expected_billed_hours == pytest.approx(
        13.5342201823059450736 - 0.5 * 2.460767305873808195, rel=1e-12
    )


def test_remainder_segment() -> None:
    p = SpotParams(5.0, 0.1, 0.5)
    whole = spot_expectation(2.5, 1.0, p)
    assert whole.segments == 3
    expected = 2 * segment_expected_hours(1.0, p) + segment_expected_hours(0.5, p)
    assert whole.expected_hours == pytest.approx(expected)


def test_no_failures_limit() -> None:
    exp = spot_expectation(10.0, 1.0, SpotParams(math.inf, 0.1, 0.5))
    assert exp.expected_hours == pytest.approx(11.0)
    assert exp.expected_interruptions == 0.0
    assert exp.p_no_interruption == 1.0
    # Very rare failures approach the same value from above.
    rare = spot_expectation(10.0, 1.0, SpotParams(1e9, 0.1, 0.5))
    assert 11.0 < rare.expected_hours < 11.0 + 1e-6
    assert on_demand_hours(10.0, 1.0, 0.1) == pytest.approx(11.0)


def test_p_no_interruption_is_poisson_zero() -> None:
    exp = spot_expectation(168.0, 168.0, SpotParams(41.0, 0.0, 0.0))
    assert exp.p_no_interruption == pytest.approx(math.exp(-168 / 41))


def test_lambert_w0_known_values() -> None:
    assert _lambert_w0(-1 / math.e) == pytest.approx(-1.0, abs=1e-7)
    assert _lambert_w0(-0.1) == pytest.approx(-0.111832559158962964, rel=1e-12)
    assert _lambert_w0(-0.3) == pytest.approx(-0.489402227180215, rel=1e-10)


def test_young_and_daly_formulas() -> None:
    iv = optimal_checkpoint_interval(5.0, 0.1)
    assert iv.young_hours == pytest.approx(1.0)  # sqrt(2 x 0.1 x 5)
    # Daly 2006: sqrt(2CM)(1 + sqrt(C/2M)/3 + (C/2M)/9) - C with C/2M = 0.01
    assert iv.daly_hours == pytest.approx(1.0 * (1 + 0.1 / 3 + 0.01 / 9) - 0.1)
    assert optimal_checkpoint_interval(5.0, 20.0).daly_hours == 5.0  # C >= 2M: M


@pytest.mark.parametrize(("m", "c"), [(41.0, 1 / 60), (41.0, 0.25), (5.0, 0.1), (2.0, 0.5)])
def test_exact_optimum_minimises_the_closed_form(m: float, c: float) -> None:
    iv = optimal_checkpoint_interval(m, c)
    tau = iv.exact_hours
    # The stationarity condition e^((tau+C)/M) (tau/M - 1) = -1 ...
    assert math.exp((tau + c) / m) * (tau / m - 1) == pytest.approx(-1.0, rel=1e-9)
    # ... and a minimum of time per unit of work, whatever R is.
    for r in (0.0, 0.5, 3.0):
        p = SpotParams(m, c, r)

        def per_work(t: float, p: SpotParams = p) -> float:
            return segment_expected_hours(t, p) / t

        assert per_work(tau) <= per_work(tau * 0.97)
        assert per_work(tau) <= per_work(tau * 1.03)


def test_daly_is_close_to_exact_when_saves_are_cheap() -> None:
    iv = optimal_checkpoint_interval(41.0, 2 / 60)
    assert iv.daly_hours == pytest.approx(iv.exact_hours, rel=1e-3)
    assert iv.young_hours == pytest.approx(iv.exact_hours, rel=0.02)


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        SpotParams(0.0, 0.1, 0.1)
    with pytest.raises(ValueError):
        spot_expectation(10.0, 0.0, SpotParams(5.0, 0.1, 0.1))


@given(
    work=st.floats(1.0, 500.0),
    tau=st.floats(0.05, 50.0),
    m=st.floats(0.5, 1000.0),
    c=st.floats(0.0, 1.0),
    r=st.floats(0.0, 5.0),
)
@settings(max_examples=200, deadline=None)
def test_closed_form_properties(work: float, tau: float, m: float, c: float, r: float) -> None:
    p = SpotParams(m, c, r)
    e = spot_expectation(work, tau, p)
    # never faster than running every segment once, and worse with more failures / costlier steps
    assert e.expected_hours >= on_demand_hours(work, tau, c) * (1 - 1e-12)
    assert e.expected_billed_hours <= e.expected_hours + 1e-9
    assert spot_expectation(work, tau, SpotParams(m / 2, c, r)).expected_hours >= e.expected_hours
    assert spot_expectation(work, tau, SpotParams(m, c, r + 1)).expected_hours >= e.expected_hours
