"""``trainjob run`` end to end on the tiny model: the example, the gate, resume checks, the
SageMaker container mode, and the rehearsal. Each run is a real subprocess, offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from trainjob_helpers import (
    DATA,
    REPO,
    last_attempt,
    logged_steps,
    manifest,
    offline_env,
    run_trainjob,
    start_driver,
    write_spec,
)

from trainjob.checkpoints import list_checkpoints, safetensors_problem, validate_checkpoint

pytestmark = pytest.mark.slow


def test_example_spec_trains_and_keeps_every_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = run_trainjob(
        "run", "examples/tiny-local.yaml", "--output-dir", str(out), "--threads", "2"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = [p.name for p in list_checkpoints(out)]
    assert names == ["checkpoint-20", "checkpoint-40", "checkpoint-60"]
    assert all(validate_checkpoint(out / n).valid for n in names)
    recorded = manifest(out)["checkpoints"]
    assert {n: recorded[n]["status"] for n in names} == dict.fromkeys(names, "valid")
    for model_dir in (out / "final-model", out / "final-model-backup"):
        assert safetensors_problem(model_dir / "adapter_model.safetensors") is None
        assert (model_dir / "tokenizer.json").is_file()
    attempt = last_attempt(out)
    assert attempt["outcome"] == "completed" and attempt["global_step"] == 60
    assert attempt["gate"]["errors"] == 0 and len(attempt["gate"]["report_sha256"]) == 64
    assert "SAVED CHECKPOINTS" in proc.stderr and "[CHECK] CHECKPOINT SAVED" in proc.stderr
    losses = [
        json.loads(line.split("loss ", 1)[1].split()[0])
        for line in proc.stderr.splitlines()
        if " loss " in line
    ]
    assert len(losses) == 6 and losses[-1] < losses[0]


def test_gate_refuses_errors_and_force_records_the_reason(tmp_path: Path) -> None:
    import preflight

    out = tmp_path / "out"
    from preflight.severity import DEMO_MAX_STEPS

    # Just past a demo's size: on a demo, a run that never saves is only an info (severity
    # follows what a finding can lose), here it is PF201's error.
    steps = DEMO_MAX_STEPS + 1
    spec = write_spec(
        tmp_path, output_dir=out, training={"max_steps": steps, "save_strategy": "no"}
    )
    report = preflight.check(str(spec))
    error_rules = {f.rule for f in report.active() if f.severity.value == "error"}
    assert error_rules, "precondition: preflight must find an error in this spec"

    refused = run_trainjob("run", str(spec))
    assert refused.returncode == 1
    assert all(rule in refused.stderr for rule in error_rules)
    assert "nothing was trained" in refused.stderr and not out.exists()

    no_reason = run_trainjob("run", str(spec), "--force")
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr

    forced = run_trainjob(
        "run", str(spec), "--force", "--reason", "smoke test of the gate", "--canary-steps", "3"
    )
    assert forced.returncode == 0, forced.stderr[-3000:]
    gate = last_attempt(out)["gate"]
    assert gate["forced"] is True and gate["reason"] == "smoke test of the gate"
    assert any(rule in line for rule in error_rules for line in gate["overridden_errors"])
    # save_strategy "no", yet the canary proved the save path at step 3
    assert manifest(out)["checkpoints"]["checkpoint-3"]["kind"] == "canary"


def test_resume_refuses_a_changed_job_unless_allowed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = write_spec(tmp_path, output_dir=out, training={"max_steps": 8, "save_steps": 4})
    assert run_trainjob("run", str(spec)).returncode == 0

    longer = write_spec(
        tmp_path, output_dir=out, training={"max_steps": 12, "save_steps": 4}, name="longer.yaml"
    )
    refused = run_trainjob("run", str(longer))
    assert refused.returncode == 1
    assert "max_steps: 8 -> 12" in refused.stderr and "--allow-mismatch" in refused.stderr

    other_data = tmp_path / "other"
    other_data.mkdir()
    shutil.copy(DATA / "tiny-pairs.csv", other_data / "pairs.csv")
    changed = write_spec(
        tmp_path,
        output_dir=out,
        data=str(other_data),
        training={"max_steps": 8, "save_steps": 4},
        name="changed.yaml",
    )
    refused = run_trainjob("run", str(changed))
    assert refused.returncode == 1 and "data_sha256" in refused.stderr

    allowed = run_trainjob("run", str(longer), "--allow-mismatch")
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    assert last_attempt(out)["resumed_from"] == "checkpoint-8"
    assert logged_steps(out / "checkpoint-12") == list(range(1, 13))


def test_final_model_never_overwrites_foreign_files(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, output_dir=tmp_path / "out", training={"max_steps": 2})
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "weights.bin").write_bytes(b"mine")
    proc = run_trainjob("run", str(spec), "--model-dir", str(theirs))
    assert proc.returncode == 1 and "did not write" in proc.stderr
    assert (theirs / "weights.bin").read_bytes() == b"mine"


def test_bad_spec_and_bad_data_are_one_line_errors(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "model:\n  name: tiny-mistral\ntraining:\n  output_dir: out\nlora:\n  rank: 4\n"
    )
    proc = run_trainjob("run", str(spec))
    assert proc.returncode == 2
    assert f"{spec}:6: lora.rank: unknown key" in proc.stderr and "Traceback" not in proc.stderr

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": "a", "target": "b"}\n{"source": "c"}\n')
    spec = write_spec(tmp_path, output_dir=tmp_path / "out", data=str(bad))
    proc = run_trainjob("run", str(spec))
    assert proc.returncode == 2
    assert f"{bad}:2: row has no target field" in proc.stderr and "Traceback" not in proc.stderr


def test_sagemaker_mode_uses_the_container_paths_and_resumes_after_restart(tmp_path: Path) -> None:
    channel = tmp_path / "input" / "data" / "train"
    channel.mkdir(parents=True)
    shutil.copy(DATA / "tiny-pairs.jsonl", channel / "part-0.jsonl")
    config = tmp_path / "input" / "config"
    config.mkdir()
    ckpt = tmp_path / "checkpoints"
    (config / "checkpointconfig.json").write_text(json.dumps({"LocalPath": str(ckpt)}))
    env = offline_env(
        SM_MODEL_DIR=str(tmp_path / "model"),
        SM_OUTPUT_DATA_DIR=str(tmp_path / "output" / "data"),
        SM_CHANNEL_TRAIN=str(channel),
        SM_CHANNELS='["train"]',
        TRAINJOB_SM_CONFIG_DIR=str(config),
    )
    spec = write_spec(
        tmp_path,
        output_dir=Path("/opt/ml/checkpoints"),
        data="s3://my-bucket/tiny/train.jsonl",
        training={"max_steps": 8, "save_steps": 4, "logging_steps": 2},
        compute={
            "provider": "sagemaker",
            "instance_type": "ml.g5.xlarge",
            "checkpoint_s3_uri": "s3://my-bucket/tiny/checkpoints",
            "role_arn": "arn:aws:iam::123456789012:role/SageMakerTraining",
            "max_run_hours": 1,
        },
    )
    first = start_driver(spec, "--sagemaker", env=env)
    output, _ = first.communicate(timeout=120)
    assert first.returncode == 0, output[-3000:]
    assert [p.name for p in list_checkpoints(ckpt)] == ["checkpoint-4", "checkpoint-8"]
    assert safetensors_problem(tmp_path / "model" / "adapter_model.safetensors") is None
    assert (tmp_path / "output" / "data" / "final_model" / "adapter_model.safetensors").is_file()
    assert "cost $" in output  # ml.g5.xlarge priced from costmodel's catalog
    assert last_attempt(ckpt)["sagemaker"] is True

    # A spot restart: the same container contract, the checkpoints restored into LocalPath.
    second = start_driver(spec, "--sagemaker", env=env)
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output[-3000:]
    attempt = last_attempt(ckpt)
    assert attempt["resumed_from"] == "checkpoint-8" and attempt["global_step"] == 8


def test_rehearse_proves_save_interrupt_and_resume(tmp_path: Path) -> None:
    work = tmp_path / "rehearsal"
    proc = run_trainjob("rehearse", "examples/tiny-local.yaml", "--workdir", str(work), timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stderr.count("rehearse: [OK]") == 9 and "FAIL" not in proc.stderr
    attempts = json.loads((work / "checkpoints" / "trainjob-run.json").read_text())["attempts"]
    assert [a["outcome"] for a in attempts] == ["stopped", "completed"]
    assert attempts[1]["resumed_from"] == attempts[0]["sigterm_checkpoint"]
    assert 0 < attempts[0]["sigterm_save_seconds"] < 120
    assert "120 s window" in proc.stderr and "losses identical at all 8 steps" in proc.stderr


def test_cli_help_is_fast_and_imports_no_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from trainjob.cli import main\n"
        "r = CliRunner().invoke(main, ['--help'])\n"
        "assert r.exit_code == 0 and 'rehearse' in r.output, r.output\n"
        "r = CliRunner().invoke(main, ['run', '--help'])\n"
        "assert r.exit_code == 0 and '--force' in r.output, r.output\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'datasets') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def test_eval_best_model_and_rotation_after_validation(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = write_spec(
        tmp_path,
        output_dir=out,
        training={
            "max_steps": 12,
            "save_steps": 4,
            "eval_strategy": "steps",
            "eval_steps": 4,
            "load_best_model_at_end": True,
            "metric_for_best_model": "eval_loss",
            "save_total_limit": 2,
        },
    )
    data = json.loads(spec.read_text())
    data["data"]["eval"] = str(DATA / "tiny-pairs.csv")
    spec.write_text(json.dumps(data))
    proc = run_trainjob("run", str(spec))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("eval at step") == 3 and "'eval_loss':" in proc.stderr
    kept = [p.name for p in list_checkpoints(out)]
    assert len(kept) == 2 and "checkpoint-12" in kept
    state = json.loads((out / "checkpoint-12" / "trainer_state.json").read_text())
    best = Path(state["best_model_checkpoint"]).name
    assert best in kept  # rotation never removes the best checkpoint
    statuses = {k: v["status"] for k, v in manifest(out)["checkpoints"].items()}
    assert sorted(statuses.values()) == ["rotated", "valid", "valid"]


def test_model_from_a_local_directory(tmp_path: Path) -> None:
    from trainjob.data import read_texts
    from trainjob.modelbuild import TINY, build_from_config, bundled_config

    texts = read_texts(DATA / "tiny-text.jsonl").texts
    fields = bundled_config(TINY)
    assert fields is not None
    built = build_from_config(fields, texts, tmp_path / "assets", seed=1, origin=TINY)
    local = tmp_path / "my-model"
    built.model.save_pretrained(local)
    built.tokenizer.save_pretrained(local)
    spec = write_spec(
        tmp_path, output_dir=tmp_path / "out", training={"max_steps": 4, "save_steps": 2}
    )
    data = json.loads(spec.read_text())
    data["model"]["name"] = "my-model"  # relative to the spec file
    spec.write_text(json.dumps(data))
    proc = run_trainjob("run", str(spec))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"model: {local}" in proc.stderr
    assert [p.name for p in list_checkpoints(tmp_path / "out")] == ["checkpoint-2", "checkpoint-4"]
    assert not (tmp_path / "out" / "trainjob-assets").exists()  # nothing built: the dir was used


def test_a_sagemaker_spec_is_not_run_locally_by_accident(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        output_dir=Path("/opt/ml/checkpoints"),
        compute={
            "provider": "sagemaker",
            "instance_type": "ml.g5.xlarge",
            "checkpoint_s3_uri": "s3://my-bucket/tiny/checkpoints",
            "role_arn": "arn:aws:iam::123456789012:role/SageMakerTraining",
            "max_run_hours": 1,
        },
    )
    proc = run_trainjob("run", str(spec))
    assert proc.returncode == 1 and "trainjob launch" in proc.stderr
    assert (
        "compute.provider" in proc.stderr and not Path("/opt/ml/checkpoints/trainjob.log").exists()
    )
