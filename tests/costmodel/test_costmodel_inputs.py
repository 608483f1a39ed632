"""Issue 19: the inputs behind compare: prices and their age, interruption bands, restart split,
the same job across GPU counts, Trainer's padding and checkpoints, one feasibility with PF702."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

import costmodel
from costmodel import SpotParams, Workload, compare, mtbf_from_monthly_share, simulate
from costmodel.render import render_markdown
from preflight.cli_costmodel import cli
from preflight.cli_support import run_cli
from preflight.spec import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SEED = Workload(
    params_total=7_241_732_096,
    params_trainable=6_815_744,
    num_layers=32,
    hidden_size=4096,
    embedding_params=32_000 * 4096,
    tokens_per_example=256,
    max_steps=150_000,
    grad_accum=16,
    per_device_batch_size=1,
    lora=True,
    gradient_checkpointing=True,
)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        run_cli(cli, argv)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def _spec(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = (EXAMPLES / "seed-fixed.yaml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "job.yaml"
    path.write_text(text)
    return path


# --- the same job on 1, 4 and 8 GPUs ---------------------------------------------------------


def test_max_steps_trains_the_same_examples_on_any_gpu_count() -> None:
    w = dataclasses.replace(SEED, reference_world_size=1)
    for world in (1, 4, 8):
        assert w.examples(world) == 150_000 * 16
        assert w.global_batch(world) == 16  # grad accum 16 -> 4 -> 2
        assert w.steps(world) == 150_000
    assert w.grad_accum_for(8) == 2
    cmp = compare(SEED, ["ml.g5.xlarge", "ml.g5.12xlarge", "ml.g5.48xlarge"], runs=500)
    tokens = {d.tokens for d in cmp.durations.values()}
    assert tokens == {150_000 * 16 * 256.0}
    assert cmp.durations["ml.g5.48xlarge"].grad_accum == 2


def test_global_batch_grows_when_accumulation_cannot_shrink() -> None:
    w = dataclasses.replace(SEED, grad_accum=2, reference_world_size=1)
    # 8 GPUs x batch 1 is already 8 > 2: accumulation stays 1, fewer steps, same examples.
    assert w.grad_accum_for(8) == 1
    assert w.global_batch(8) == 8
    assert w.examples(8) == w.examples(1) == 300_000
    assert w.steps(8) == 37_500


# --- padding and checkpoints as the Trainer does them ------------------------------------------


def test_longest_padding_counts_the_batch_maximum() -> None:
    from preflight.cost import expected_batch_max, tokens_per_example

    assert tokens_per_example(64, 256, "longest", batch_size=1) == 64
    assert tokens_per_example(64, 256, "longest", batch_size=8, group_by_length=True) == 64
    got = tokens_per_example(64, 256, "longest", batch_size=8)
    # Independent check: the mean of max-of-8 exponential lengths (mean 64), truncated at 256.
    rng = np.random.default_rng(1)
    sample = np.minimum(rng.exponential(64.0, size=(200_000, 8)).max(axis=1), 256.0)
    assert got == pytest.approx(float(sample.mean()), rel=0.01)
    assert 64 < got < 256
    assert expected_batch_max(64, 256, 1) == 64


def test_checkpoint_bytes_follow_what_trainer_writes(tmp_path: Path) -> None:
    from preflight.cost import workload_from_spec

    lora = workload_from_spec(load_spec(EXAMPLES / "seed-fixed.yaml"))
    assert isinstance(lora, Workload)
    # adapters in fp32 + AdamW's two fp32 moments
    assert (lora.weight_bytes_per_param, lora.optimizer_bytes_per_param) == (4.0, 8.0)
    full = workload_from_spec(
        load_spec(
            _spec(
                tmp_path,
                (
                    "lora:\n  r: 16\n  alpha: 32\n  dropout: 0.05\n"
                    "  target_modules: [q_proj, v_proj]\n",
                    "",
                ),
                ("dtype: float16", "dtype: bfloat16"),
                ("fp16: true", "bf16: true"),
            )
        )
    )
    assert isinstance(full, Workload) and not full.lora
    # a bf16 full fine-tune: bf16 weights and bf16 moments, 6 bytes per parameter, not 12
    assert (full.weight_bytes_per_param, full.optimizer_bytes_per_param) == (2.0, 4.0)
    assert full.checkpoint_bytes() == pytest.approx(6.0 * full.params_trainable + 1e6)
    only = workload_from_spec(
        load_spec(_spec(tmp_path, ("  fp16: true", "  fp16: true\n  save_only_model: true")))
    )
    assert isinstance(only, Workload) and only.optimizer_bytes_per_param == 0.0


# --- interruptions: bands, ranges, the verdict across them --------------------------------------


def test_bands_become_an_mtbf_range() -> None:
    assert mtbf_from_monthly_share(0.2) == pytest.approx(-730 / math.log(0.8))
    assert math.isinf(mtbf_from_monthly_share(0.0))
    cat = costmodel.load_catalog()
    g5 = cat.interruption(cat.instance("ml.g5.xlarge"), "us-east-1")
    assert g5.band == ">20%" and g5.mtbf_low_hours == 41  # the seed's observation
    assert g5.mtbf_high_hours == pytest.approx(3271.4, abs=0.1)
    p4de = cat.interruption(cat.instance("ml.p4de.24xlarge"), "us-east-1")
    assert p4de.band == "<5%" and math.isinf(p4de.mtbf_high_hours)
    g6e = cat.interruption(cat.instance("ml.g6e.xlarge"), "us-west-2")
    assert g6e.band == ">20%"  # bands differ by region: us-east-1 has 5-10%
    assert cat.interruption(cat.instance("ml.g6e.xlarge"), "us-east-1").band == "5-10%"


def test_spot_rows_are_priced_at_both_ends_and_the_verdict_says_if_it_holds() -> None:
    cmp = compare(SEED, ["ml.g5.xlarge"], runs=2_000, checkpoint_minutes=1)
    sp = cmp.option("ml.g5.xlarge", "spot")
    assert sp is not None and sp.expected_cost_range_usd is not None
    short, long_ = sp.expected_cost_range_usd
    assert short == pytest.approx(sp.expected_cost_usd)
    assert long_ < short  # fewer interruptions at the long-MTBF end
    assert (
        sp.p90_cost_range_usd is not None and sp.p90_cost_range_usd[1] <= sp.p90_cost_range_usd[0]
    )
    assert cmp.recommendation.holds_across_range is True
    assert "holds across" in cmp.recommendation.range_note
    # A budget between the two ends: spot passes at the long end only -> the verdict moves.
    budget = (short + long_) / 2 if short - long_ > 0.5 else None
    if budget is not None:
        moved = compare(SEED, ["ml.g5.xlarge"], runs=2_000, checkpoint_minutes=1, budget_usd=budget)
        assert moved.recommendation.holds_across_range is not None


def test_a_given_mtbf_collapses_the_range() -> None:
    cmp = compare(SEED, ["ml.g5.xlarge"], runs=1_000, mtbf_hours=41)
    sp = cmp.option("ml.g5.xlarge", "spot")
    assert sp is not None and sp.mtbf_range_hours == (41, 41)
    assert cmp.recommendation.holds_across_range is None


# --- restarts: the capacity wait is not billed, the restore is ---------------------------------


def test_billed_restore_is_billed_and_the_wait_is_not() -> None:
    base = SpotParams(41.0, 1 / 60, 0.5)
    split = SpotParams(41.0, 1 / 60, 0.5, billed_restart_hours=0.2)
    e0 = costmodel.spot_expectation(168.0, 1.0, base)
    e1 = costmodel.spot_expectation(168.0, 1.0, split)
    assert e1.expected_hours > e0.expected_hours
    # billed = expected wall - unbilled wait per interruption
    assert e1.expected_billed_hours == pytest.approx(
        e1.expected_hours - 0.5 * e1.expected_interruptions
    )
    sim = simulate(168.0, 1.0, split, runs=40_000, seed=3)
    assert sim.mean_hours() == pytest.approx(e1.expected_hours, rel=0.01)
    assert sim.mean_billed_hours() == pytest.approx(e1.expected_billed_hours, rel=0.01)


def test_restore_is_sized_from_model_and_checkpoint() -> None:
    small = costmodel.estimate_restore_minutes(dataclasses.replace(SEED, model_bytes=0.0))
    big = costmodel.estimate_restore_minutes(dataclasses.replace(SEED, model_bytes=14.5e9))
    assert big - small == pytest.approx(14.5e9 / 125e6 / 60)
    cmp = compare(SEED, ["ml.g5.xlarge"], runs=500, restart_minutes=120)
    p = cmp.params["ml.g5.xlarge"]
    assert p.restart_hours == 2.0 and p.billed_restart_hours > 0


# --- prices: age, stale flags, overrides ---------------------------------------------------------


def test_stale_and_old_prices_warn() -> None:
    cat = costmodel.load_catalog()
    p5 = cat.instance("ml.p5.48xlarge").price("us-east-1")
    assert p5.stale and "June 2025" in (p5.warning() or "")
    fresh = costmodel.Price(1.0, "price-list", "X", as_of="2026-11-01")
    assert fresh.warning(dt.date(2026, 12, 1)) is None
    assert "days old" in (fresh.warning(dt.date(2027, 3, 1)) or "")
    cmp = compare(SEED, ["ml.p5.48xlarge"], runs=500)
    assert any("stale" in w for w in cmp.warnings)
    assert {a for a, _ in cmp.inputs["ml.p5.48xlarge"]} >= {
        "on-demand price",
        "spot price",
        "interruptions",
        "throughput",
        "restart",
    }


def test_price_overrides_on_the_command_line_and_in_the_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["compare", str(EXAMPLES / "seed-fixed.yaml"), "--format", "json", "--runs", "500"]
    argv += ["--instances", "ml.g5.xlarge", "--price", "g5.xlarge=1.0", "--spot-discount", "50"]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    rows = {o["market"]: o for o in json.loads(out)["options"]}
    assert rows["on-demand"]["usd_per_hour"] == 1.0 and rows["spot"]["usd_per_hour"] == 0.5
    spec = _spec(
        tmp_path,
        ("  deadline_hours: 300", "  deadline_hours: 300\n  spot_prices: {ml.g5.xlarge: 0.3}"),
    )
    code, out, err = _run(
        ["compare", str(spec), "--format", "json", "--runs", "500", "--instances", "ml.g5.xlarge"],
        capsys,
    )
    assert code == 0, err
    rows = {o["market"]: o for o in json.loads(out)["options"]}
    assert rows["spot"]["usd_per_hour"] == 0.3 and rows["on-demand"]["usd_per_hour"] == 1.408
    code, _, err = _run(argv[:-4] + ["--price", "ml.nope.xlarge=1"], capsys)
    assert code == 2 and "--price" in err
    bad = _spec(
        tmp_path,
        ("  deadline_hours: 300", "  deadline_hours: 300\n  prices: {ml.nope.xlarge: 1.0}"),
    )
    code, _, err = _run(["compare", str(bad), "--runs", "500"], capsys)
    assert code == 2 and "budget.prices" in err and "Traceback" not in err


# --- one feasibility: what preflight rejects is never recommended, in words ------------------


def test_a_row_preflight_rejects_is_marked_in_words_and_never_recommended(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, ("fp16: true", "bf16: true"))
    base = ["compare", str(spec), "--runs", "500", "--instances", "ml.g4dn.xlarge,ml.g5.xlarge"]
    code, out, err = _run(base + ["--format", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    g4 = [o for o in doc["options"] if o["instance_type"] == "ml.g4dn.xlarge"]
    for o in g4:
        assert o["feasible"] is False
        assert o["fit"].startswith("does not fit: ")
        assert any(r.startswith("dtype: bf16 on T4") for r in o["does_not_fit"])
    assert doc["recommendation"]["instance_type"] == "ml.g5.xlarge"
    for fmt in ("plain", "markdown"):
        code, out, err = _run(base + ["--format", fmt], capsys)
        assert code == 0, err
        assert "does not fit: " in out and "dtype" in out


def test_nothing_feasible_means_no_recommendation() -> None:
    cmp = compare(
        SEED,
        ["ml.g5.xlarge"],
        runs=500,
        reject=lambda inst: [f"dtype: nothing runs on {inst.gpu}"],
    )
    assert cmp.recommendation.instance_type is None
    assert "no option preflight would accept" in cmp.recommendation.reason
    assert "does not fit: dtype" in render_markdown(cmp)
    capped = compare(SEED, ["ml.g5.xlarge"], runs=500, max_run_hours=10)
    assert capped.recommendation.instance_type is None
    assert all(o.does_not_fit[0].startswith("runtime cap") for o in capped.options)


def test_preflight_report_warns_about_prices() -> None:
    from preflight.pipeline import check

    report = check(EXAMPLES / "seed-fixed.yaml")
    assert report.cost is not None and report.cost["price_warnings"]
    assert any(n.startswith("price: ") for n in report.notes)
    from preflight.render.markdown import render_markdown as render_report_markdown

    md = render_report_markdown(report)
    assert "price warning: ml.g5.xlarge" in md and "across the interruption band" in md
    assert report.cost["spot_mtbf_range_hours"] == [41.0, pytest.approx(3271.44, abs=0.01)]


def test_seed_fixed_names_each_rows_inputs_and_their_age(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(
        ["compare", str(EXAMPLES / "seed-fixed.yaml"), "--format", "json", "--runs", "500"],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc["inputs"]) == {o["instance_type"] for o in doc["options"]}
    for rows in doc["inputs"].values():
        by = {r["input"]: r["value"] for r in rows}
        assert "d ago" in by["on-demand price"] or "d old" in by["on-demand price"]
        assert "d old" in by["spot price"] and "d old" in by["interruptions"]
        assert "source" in by["throughput"] or "basis" in by["throughput"]
    assert any("stale" in w for w in doc["warnings"])  # p4d/p5 predate the 2025 price cut


@pytest.mark.parametrize(
    "edits",
    [
        (("fp16: true", "bf16: true"),),
        (("dtype: float16", "dtype: bfloat16"),),
        (),
    ],
    ids=["bf16-training", "bf16-weights", "fp16"],
)
def test_pf702_and_compare_judge_every_instance_alike(tmp_path: Path, edits: tuple) -> None:
    from preflight.cost import dtype_rejections
    from preflight.engine import run_rules
    from preflight.pipeline import build_plan

    cat = costmodel.load_catalog()
    families = {i.family: i for i in cat.instances.values()}
    fired_on: list[str] = []
    for inst in families.values():
        spec = _spec(
            tmp_path, *edits, ("instance_type: ml.g5.xlarge", f"instance_type: {inst.name}")
        )
        loaded = load_spec(spec)
        fired = [f for f in run_rules(build_plan(loaded)) if f.rule == "PF702"]
        rejected = dtype_rejections(loaded, inst)
        assert bool(fired) == bool(rejected), inst.name
        assert len(fired) == len(rejected), inst.name
        fired_on += [inst.gpu] if fired else []
    assert fired_on == (["T4"] if edits else [])


def test_published_throughputs_give_an_mfu_range_per_gpu_family_and_method() -> None:
    cat = costmodel.load_catalog()
    lora = cat.published_mfu[("A100", "lora")]
    qlora = cat.published_mfu[("A100", "qlora")]
    full = cat.published_mfu[("A100", "full")]
    assert len(lora) == 4 and lora[0] < cat.default_mfu < lora[-1]
    # QLoRA dequantises on the fly: slower than LoRA at the same length (Qwen's own table).
    assert max(qlora) < max(lora)
    assert 0 < min(full) and ("H100", "lora") in cat.published_mfu
    # One row by hand: Qwen-7B LoRA, 8 x 2048 tokens in 5.2 s on one A100 (312 TFLOPS bf16).
    w = Workload(
        params_total=7_720_000_000,
        params_trainable=4_194_304,
        num_layers=32,
        hidden_size=4096,
        embedding_params=151_936 * 4096,
        tokens_per_example=2048,
        max_steps=1,
        gradient_checkpointing=True,
    )
    assert 8 * 2048 / 5.2 * w.flops_per_token() / 312e12 in [pytest.approx(m) for m in lora]
    cmp = compare(SEED, ["ml.p4d.24xlarge"], runs=200)
    text = dict(cmp.inputs["ml.p4d.24xlarge"])["throughput"]
    assert "published A100 lora runs imply MFU 24%-59%" in text
