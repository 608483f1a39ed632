"""``costmodel compare`` and preflight's cost glue on real spec files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import memplan
from preflight.cli_costmodel import cli
from preflight.cli_support import run_cli
from preflight.spec import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.skipif(
    not all(hasattr(memplan, n) for n in ("load_architecture", "count_params", "LoraSetup")),
    reason="memplan's public API (load_architecture, count_params, LoraSetup) has not landed",
)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        run_cli(cli, argv)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_compare_json_for_the_seed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        [
            "compare",
            str(EXAMPLES / "seed-broken.yaml"),
            "--format",
            "json",
            "--runs",
            "2000",
            "--instances",
            "ml.g5.xlarge,g6e.xlarge",
        ],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    markets = {(o["instance_type"], o["market"]) for o in doc["options"]}
    assert ("ml.g5.xlarge", "spot") in markets and ("ml.g6e.xlarge", "on-demand") in markets
    assert doc["checkpoint"]["save_steps"] > 0
    assert doc["seed_heuristic"]["on_demand_premium_usd"] > 0
    assert doc["recommendation"]["reason"]
    # 19.5M examples do not fit in the seed's 168 h on a g5.xlarge.
    g5 = next(o for o in doc["options"] if o["instance_type"] == "ml.g5.xlarge")
    assert g5["expected_hours"] > 168


def test_rich_report_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "cost.png"
    argv = [
        "compare",
        str(EXAMPLES / "seed-fixed.yaml"),
        "--runs",
        "2000",
        "--instances",
        "ml.g5.xlarge",
        "--plot",
        str(png),
    ]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    assert "Recommendation" in out and "optimum" in out
    assert png.read_bytes()[:4] == b"\x89PNG"
    before = png.read_bytes()
    code, _, err = _run(argv, capsys)
    assert code == 2 and "already exists" in err
    assert png.read_bytes() == before


def test_unknown_instance_is_exit_2_with_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        ["compare", str(EXAMPLES / "seed-fixed.yaml"), "--instances", "ml.g5.xlarg"], capsys
    )
    assert code == 2
    assert "ml.g5.xlarge" in err and "Traceback" not in err


def test_spec_without_data_names_file_line_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(
        "model:\n  name: mistralai/Mistral-7B-v0.1\ntraining:\n  output_dir: /opt/ml/checkpoints\n"
        "compute:\n  provider: sagemaker\n  instance_type: ml.g5.xlarge\n"
        "  role_arn: arn:aws:iam::123456789012:role/R\n  checkpoint_s3_uri: s3://b/c\n"
    )
    code, _, err = _run(["compare", str(spec)], capsys)
    assert code == 2
    assert f"{spec}" in err and "data.num_examples" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "flag", [["--mtbf-hours", "-1"], ["--checkpoint-minutes", "0"], ["--mfu", "1.5"]]
)
def test_bad_numbers_are_exit_2(flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["compare", str(EXAMPLES / "seed-fixed.yaml"), *flag], capsys)
    assert code == 2 and flag[0] in err


def test_live_prices_without_credentials_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = _run(
        [
            "compare",
            str(EXAMPLES / "seed-fixed.yaml"),
            "--live-prices",
            "--instances",
            "ml.g5.xlarge",
        ],
        capsys,
    )
    assert code == 2
    assert "Price List" in err or "credentials" in err.lower()


def test_cost_summary_for_preflight() -> None:
    from preflight.cost import cost_summary, duration_vs_max_run, save_steps_vs_optimal

    summary = cost_summary(load_spec(EXAMPLES / "seed-broken.yaml"))
    assert summary is not None
    for key in (
        "hours",
        "on_demand_usd",
        "spot_expected_usd",
        "recommendation",
        "optimal_save_steps",
        "first_checkpoint_hours",
        "seconds_per_step",
        "total_steps",
    ):
        assert key in summary
    assert summary["total_steps"] == 1_218_750  # 19.5M / 16, one epoch
    hours, cap, over = duration_vs_max_run(summary)
    assert cap == 168 and hours > 168 and over
    assert summary["first_checkpoint_hours"] == pytest.approx(
        1000 * summary["seconds_per_step"] / 3600, rel=1e-3
    )
    assert save_steps_vs_optimal(summary)[0] == 1000


def test_cost_summary_epoch_saves_are_one_pass_over_the_data(tmp_path: Path) -> None:
    """The seed-fixed spec (19.5M examples, batch 1 x grad_accum 16 = 1,218,750 steps an epoch)
    with save_strategy epoch and its max_steps 150,000: Trainer stops long before the first
    epoch ends, so the first epoch save is the final one, not max_steps / num_train_epochs."""
    from preflight.cost import cost_summary

    text = (EXAMPLES / "seed-fixed.yaml").read_text()
    assert "  save_strategy: steps\n" in text and "  max_steps: 150000\n" in text
    spec = tmp_path / "epoch.yaml"
    spec.write_text(text.replace("  save_strategy: steps\n", "  save_strategy: epoch\n"))
    summary = cost_summary(load_spec(spec))
    assert summary is not None
    assert summary["total_steps"] == 150_000
    assert summary["steps_per_epoch"] == summary["save_steps"] == 1_218_750
    assert summary["first_checkpoint_hours"] is None  # no periodic save inside the run


def test_cost_summary_is_none_without_instance(tmp_path: Path) -> None:
    from preflight.cost import cost_summary

    spec = tmp_path / "local.yaml"
    spec.write_text("model:\n  name: mistralai/Mistral-7B-v0.1\ncompute:\n  provider: local\n")
    assert cost_summary(load_spec(spec)) is None


def test_tokens_per_example_rules() -> None:
    from preflight.cost import tokens_per_example

    assert tokens_per_example(64, 256, padding="longest") == 64
    assert tokens_per_example(300, 256, padding="longest") == 256
    assert tokens_per_example(64, 256, padding="max_length") == 256
    assert tokens_per_example(64, None, padding="max_length") == 64
    assert tokens_per_example(None, 128, padding="longest") == 128


def test_seed_fixed_spec_matches_the_seeds_observed_rate() -> None:
    from preflight.cost import cost_summary

    summary = cost_summary(load_spec(EXAMPLES / "seed-fixed.yaml"))
    assert summary is not None
    # The seed reached step 152,000 in 168 h: 150,000 steps take 150,000 / 152,000 x 168 h.
    assert summary["compute_hours"] == pytest.approx(150_000 / 152_000 * 168, rel=0.02)
    assert summary["exceeds_max_run"] is False  # max_run_hours: 240


def test_spot_spec_reports_max_wait_risk(tmp_path: Path) -> None:
    from preflight.cost import cost_summary, duration_vs_max_run

    text = (EXAMPLES / "seed-fixed.yaml").read_text()
    text = text.replace("  spot: false\n", "  spot: true\n  max_wait_hours: 170\n")
    text = text.replace("  max_run_hours: 240\n", "  max_run_hours: 170\n")
    spec = tmp_path / "spot.yaml"
    spec.write_text(text)
    summary = cost_summary(load_spec(spec))
    assert summary is not None and summary["market"] == "spot"
    # ~166 h of compute plus checkpoints and ~4 restarts of 30 min: 170 h is usually too short.
    assert summary["max_wait_risk"] > 0.5
    hours, cap, over = duration_vs_max_run(summary)
    assert hours == summary["spot_p90_running_hours"] < summary["spot_p90_hours"]
    assert cap == 170 and over == (hours > 170)


def test_memory_verdict_comes_from_memplan(capsys: pytest.CaptureFixture[str]) -> None:
    # Mistral-7B in fp16 (~13.5 GiB of weights) plus activations does not fit a 16 GB T4.
    code, out, err = _run(
        [
            "compare",
            str(EXAMPLES / "seed-broken.yaml"),
            "--format",
            "json",
            "--runs",
            "1000",
            "--instances",
            "ml.g4dn.xlarge,ml.g5.xlarge",
        ],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    fits = {o["instance_type"]: o["fits_memory"] for o in doc["options"]}
    assert fits == {"ml.g4dn.xlarge": False, "ml.g5.xlarge": True}
    assert doc["recommendation"]["instance_type"] != "ml.g4dn.xlarge"


def test_padding_decides_the_tokens_counted(tmp_path: Path) -> None:
    from preflight.cost import cost_summary

    root = Path(__file__).resolve().parents[2]
    text = (root / "examples" / "seed-broken.yaml").read_text()
    padded = cost_summary(load_spec(root / "examples" / "seed-broken.yaml"))
    dynamic_path = tmp_path / "dynamic.yaml"
    dynamic_path.write_text(text.replace("padding: max_length", "padding: longest"))
    dynamic = cost_summary(load_spec(dynamic_path))
    assert padded is not None and dynamic is not None
    # 256 padded tokens vs 64 average tokens: about 4x the compute (attention makes it a bit more).
    assert 3.5 < padded["compute_hours"] / dynamic["compute_hours"] < 4.5
