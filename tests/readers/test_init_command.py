"""``preflight init --from``: a complete spec from a partial source, every assumption commented."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from ruamel.yaml import YAML

from preflight.cli import cli
from preflight.spec import load_spec

CORPUS = Path(__file__).parent / "corpus"


def _init(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["init", *args])
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_a_spec_that_loads_and_marks_every_assumption(tmp_path: Path) -> None:
    out = tmp_path / "job.yaml"
    code, _, err = _init(
        "--from",
        str(CORPUS / "scripts/seed_train.py"),
        "--instance",
        "ml.g5.2xlarge",
        "-o",
        str(out),
    )
    assert code == 0, err
    loaded = load_spec(out)  # a complete, valid job spec
    spec = loaded.spec
    assert spec.training.values["output_dir"] == "/opt/ml/output/data"  # stated: copied
    assert spec.model is not None and spec.model.name == "mistralai/Mistral-7B-v0.1"
    assert spec.compute is not None and spec.compute.instance_type == "ml.g5.2xlarge"
    lines = out.read_text().splitlines()
    assumed = {line.split(":")[0].strip() for line in lines if "# assumed" in line}
    # what the script did not say is assumed, and says so; what it said is not
    assert {"max_run_hours", "checkpoint_s3_uri", "instance_type", "num_examples"} <= assumed
    assert "output_dir" not in assumed and "save_total_limit" not in assumed
    stated_lines = [line for line in lines if line.strip().startswith(("output_dir:", "fp16:"))]
    assert stated_lines and all("#" not in line for line in stated_lines)


def test_init_then_check_finds_the_seed_problem(tmp_path: Path) -> None:
    out = tmp_path / "job.yaml"
    assert _init("--from", str(CORPUS / "notebooks/seed_broken.ipynb"), "-o", str(out))[0] == 0
    result = CliRunner().invoke(cli, ["check", str(out), "--format", "json"])
    assert result.exit_code == 1
    assert '"rule": "PF101"' in result.stdout


def test_init_never_overwrites_without_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "job.yaml"
    out.write_text("mine: true\n")
    code, _, err = _init("--from", str(CORPUS / "recipes/trl_sft_config.yaml"), "-o", str(out))
    assert code == 2 and "--overwrite" in err
    assert out.read_text() == "mine: true\n"
    code, _, _ = _init(
        "--from", str(CORPUS / "recipes/trl_sft_config.yaml"), "-o", str(out), "--overwrite"
    )
    assert code == 0
    data = YAML(typ="safe").load(out.read_text())
    assert data["model"]["name"] == "Qwen/Qwen2.5-0.5B"
    assert data["training"]["max_seq_length"] == 1024


def test_init_to_stdout_and_unknown_instance(tmp_path: Path) -> None:
    code, out, _ = _init("--from", str(CORPUS / "launchers/accelerate_zero3.yaml"), "-o", "-")
    assert code == 0
    data = YAML(typ="safe").load(out)
    assert data["compute"]["distributed"] == "zero3"
    assert data["compute"]["provider"] == "local"
    code, _, err = _init(
        "--from", str(CORPUS / "scripts/seed_train.py"), "--instance", "ml.g5.xlarg"
    )
    assert code == 2 and "ml.g5.xlarge" in err


def test_init_keeps_an_impossible_source_as_is_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "job.yaml"
    code, _, err = _init("--from", str(CORPUS / "sagemaker/launch_spot_sft.py"), "-o", str(out))
    assert code == 0
    assert "max_wait_hours" in err and "fails" in err  # max_wait 1 h < max_run 10 h in the source
    data = YAML(typ="safe").load(out.read_text())
    assert data["compute"]["max_wait_hours"] == 1.0 and data["compute"]["max_run_hours"] == 10.0
