"""compare(): rows, constraints, the seed's heuristic beside the model, JSON keys."""

from __future__ import annotations

import pytest

from costmodel import Workload, compare

SEED = Workload(
    params_total=7_241_732_096,
    params_trainable=6_815_744,
    num_layers=32,
    hidden_size=4096,
    embedding_params=32_000 * 4096,
    tokens_per_example=64,
    num_examples=19_500_000,
    grad_accum=16,
    lora=True,
    gradient_checkpointing=True,
)


def test_rows_and_json_shape() -> None:
    cmp = compare(SEED, ["ml.g5.xlarge", "ml.g6e.xlarge"], runs=5_000, checkpoint_minutes=1)
    assert [(o.instance_type, o.market) for o in cmp.options] == [
        ("ml.g5.xlarge", "on-demand"),
        ("ml.g5.xlarge", "spot"),
        ("ml.g6e.xlarge", "on-demand"),
        ("ml.g6e.xlarge", "spot"),
    ]
    out = cmp.to_json()
    row = out["options"][0]  # type: ignore[index]
    for key in (
        "instance_type",
        "market",
        "expected_hours",
        "p90_hours",
        "expected_cost_usd",
        "p90_cost_usd",
    ):
        assert key in row
    assert set(out["checkpoint"]) >= {"optimal_interval_minutes", "save_steps"}  # type: ignore[arg-type]
    assert out["seed_heuristic"] is not None and out["recommendation"]["reason"]  # type: ignore[index]


def test_spot_costs_less_but_takes_longer() -> None:
    cmp = compare(SEED, ["ml.g5.xlarge"], runs=5_000, checkpoint_minutes=1)
    od = cmp.option("ml.g5.xlarge", "on-demand")
    sp = cmp.option("ml.g5.xlarge", "spot")
    assert od is not None and sp is not None
    assert sp.expected_cost_usd < od.expected_cost_usd
    assert sp.expected_hours > od.expected_hours
    assert sp.p90_hours >= sp.p50_hours
    assert od.expected_cost_usd == pytest.approx(od.expected_hours * 1.408)
    # save_steps is the optimal interval expressed in this instance's steps
    assert sp.save_steps == round(sp.interval_minutes * 60 / sp.seconds_per_step)


def test_constraints_steer_the_recommendation() -> None:
    cmp = compare(SEED, ["ml.g5.xlarge", "ml.g6e.xlarge"], runs=5_000, checkpoint_minutes=1)
    assert cmp.recommendation.market == "spot"
    # A tight deadline rules out everything slow; at the seed's 41 h MTBF for both types only
    # g6e on-demand fits within 119 h (g6e's own advisor band, 5-10%, would let spot fit).
    tight = compare(
        SEED,
        ["ml.g5.xlarge", "ml.g6e.xlarge"],
        runs=5_000,
        checkpoint_minutes=1,
        deadline_hours=119.0,
        mtbf_hours=41,
    )
    assert (tight.recommendation.instance_type, tight.recommendation.market) == (
        "ml.g6e.xlarge",
        "on-demand",
    )
    # Memory: an instance that does not fit is never recommended.
    nofit = compare(
        SEED,
        ["ml.g5.xlarge", "ml.g6e.xlarge"],
        runs=5_000,
        checkpoint_minutes=1,
        fits={"ml.g5.xlarge": True, "ml.g6e.xlarge": False},
    )
    assert nofit.recommendation.instance_type == "ml.g5.xlarge"
    # Nothing meets a $1 budget: say so, name the fastest.
    broke = compare(SEED, ["ml.g5.xlarge"], runs=2_000, checkpoint_minutes=1, budget_usd=1.0)
    assert "no option meets" in broke.recommendation.reason


def test_unpriced_instances_are_skipped_with_reason() -> None:
    cmp = compare(SEED, ["ml.g5.xlarge", "ml.p4de.24xlarge"], runs=2_000)
    assert [n for n, _ in cmp.skipped] == ["ml.p4de.24xlarge"]
    assert "no on-demand price" in cmp.skipped[0][1]


def test_more_nodes_are_interrupted_more_often() -> None:
    one = compare(SEED, ["ml.g5.xlarge"], runs=2_000, mtbf_hours=41)
    two = compare(SEED, ["ml.g5.xlarge"], runs=2_000, mtbf_hours=41, instance_count=2)
    assert two.params["ml.g5.xlarge"].mtbf_hours == pytest.approx(20.5)
    assert one.params["ml.g5.xlarge"].mtbf_hours == pytest.approx(41)
    o1 = one.option("ml.g5.xlarge", "on-demand")
    o2 = two.option("ml.g5.xlarge", "on-demand")
    assert o1 is not None and o2 is not None
    assert o2.compute_hours == pytest.approx(o1.compute_hours / 2, rel=1e-3)
    assert o2.usd_per_hour == pytest.approx(2 * o1.usd_per_hour)


def test_seed_heuristic_uses_the_models_failure_probability() -> None:
    cmp = compare(SEED, ["ml.g5.xlarge"], runs=2_000, mtbf_hours=41, checkpoint_minutes=1)
    h = cmp.seed_heuristic
    assert h is not None
    assert h.p_failure > 0.99  # hundreds of hours at MTBF 41 h: an interruption is certain
    # The heuristic's risk cost treats a failure as losing the whole run; the model does not.
    assert cmp.model_spot_expected_usd is not None
    assert cmp.model_spot_expected_usd < h.failure_cost_usd
