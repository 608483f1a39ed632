"""``trainjob launch SPEC --entry-point train.py --source-dir src``: the user's own script shipped
to SageMaker and run under ``trainjob exec``, against moto in server mode (real boto3 calls)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import boto3
from click.testing import CliRunner
from sm_specs import ROOT, SEED_FIXED

from trainjob.cli_launch import launch

BUCKET = "igbo-training"
SCRIPT = ROOT / "tests" / "trainjob" / "exec_scripts" / "sft_chat.py"


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(launch, list(args), catch_exceptions=False)


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "lib").mkdir(parents=True)
    (src / "train.py").write_text(SCRIPT.read_text(encoding="utf-8"), encoding="utf-8")
    (src / "lib" / "helpers.py").write_text("X = 1\n", encoding="utf-8")
    (src / "requirements.txt").write_text("trl==1.16.0\nrich>=13.7\n", encoding="utf-8")
    (src / ".git").mkdir()
    (src / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    return src


def _capture_requests(monkeypatch: Any) -> list[dict[str, Any]]:
    """The CreateTrainingJob parameters exactly as boto3 sends them to moto (which does not keep
    Environment in DescribeTrainingJob), seen through botocore's own event hook."""
    import trainjob.sagemaker.submit as submit

    sent: list[dict[str, Any]] = []

    def session(region: str) -> Any:
        real = boto3.Session(region_name=region)
        real.events.register(
            "provide-client-params.sagemaker.CreateTrainingJob",
            lambda params, **kw: sent.append(json.loads(json.dumps(params))),
        )
        return real

    monkeypatch.setattr(submit, "boto3_session", session)
    return sent


def test_launch_ships_the_users_script_wrapped_by_exec(
    aws: str, tmp_path: Path, monkeypatch: Any
) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    sent = _capture_requests(monkeypatch)
    src = _source(tmp_path)
    result = _invoke(
        str(SEED_FIXED),
        "--entry-point",
        "train.py",
        "--source-dir",
        str(src),
        "--no-aws",
        "--via",
        "boto3",
        "--format",
        "json",
        "--",
        "--max-steps",
        "3",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    sm = boto3.client("sagemaker")
    job = sm.describe_training_job(TrainingJobName=out["job_name"])  # created for real
    assert len(sent) == 1 and sent[0]["TrainingJobName"] == out["job_name"]
    env = sent[0]["Environment"]
    assert env["TRAINJOB_ENTRY_POINT"] == "train.py"
    assert json.loads(env["TRAINJOB_ENTRY_ARGS"]) == ["--max-steps", "3"]
    assert env["TRAINJOB_CHECKPOINT_DIR"] == "/opt/ml/checkpoints"
    assert job["HyperParameters"]["sagemaker_program"] == '"trainjob_entry.py"'
    assert job["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 240 * 3600

    key = out["code_uri"].split("/", 3)[3]
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = set(tar.getnames())
        requirements = tar.extractfile("requirements.txt").read().decode()  # type: ignore[union-attr]
    assert {"train.py", "lib/helpers.py", "trainjob_entry.py", "job.yaml"} <= names
    assert "trainjob/inject/sitecustomize.py" in names and "trainjob/protection.py" in names
    assert not any(n.startswith(".git") for n in names)
    lines = requirements.splitlines()
    assert lines[:2] == ["trl==1.16.0", "rich>=13.7"]  # the user's, first and unchanged
    assert "peft>=0.17" in lines and "rich>=13" not in lines  # theirs wins on a package both name


def test_dry_run_shows_the_request_and_creates_nothing(aws: str, tmp_path: Path) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    src = _source(tmp_path)
    result = _invoke(
        str(SEED_FIXED),
        "--entry-point",
        str(src / "train.py"),
        "--source-dir",
        str(src),
        "--dry-run",
        "--no-aws",
    )
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)
    assert request["Environment"]["TRAINJOB_ENTRY_POINT"] == "train.py"
    assert boto3.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []


def test_a_script_preflight_finds_errors_in_is_refused(aws: str, tmp_path: Path) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(
        "from transformers import TrainingArguments\n"
        "args = TrainingArguments(output_dir='o', evaluation_strategy='steps')\n",
        encoding="utf-8",
    )
    result = _invoke(
        str(SEED_FIXED),
        "--entry-point",
        "train.py",
        "--source-dir",
        str(src),
        "--no-aws",
        "--via",
        "boto3",
    )
    assert result.exit_code == 1
    assert "PF501" in result.output and "refused" in result.output
    assert boto3.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []


def test_entry_point_outside_the_source_dir_is_exit_2(tmp_path: Path) -> None:
    src = _source(tmp_path)
    result = _invoke(
        str(SEED_FIXED),
        "--entry-point",
        str(SCRIPT),
        "--source-dir",
        str(src),
        "--dry-run",
        "--no-aws",
    )
    assert result.exit_code == 2
    assert "outside --source-dir" in result.output


def test_container_entry_runs_the_script_under_exec(tmp_path: Path) -> None:
    """The staged source dir's own entry point, as the training toolkit starts it."""
    from trainjob.sagemaker.user_source import stage_user_source

    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(
        "import os, sys\nprint('USER', sys.argv[1:], 'TRAINJOB_EXEC_CONFIG' in os.environ)\n"
        "sys.exit(4)\n",
        encoding="utf-8",
    )
    staged, entry = stage_user_source(
        SEED_FIXED,
        str(tmp_path / "ckpt"),
        tmp_path / "staged",
        entry_point=Path("train.py"),
        source_dir=src,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "PYTHONPATH"))}
    env.update(
        TRAINJOB_ENTRY_POINT=entry,
        TRAINJOB_ENTRY_ARGS=json.dumps(["--epochs", "1"]),
        TRAINJOB_CHECKPOINT_DIR=str(tmp_path / "ckpt"),
    )
    done = subprocess.run(
        [sys.executable, str(staged / "trainjob_entry.py")],
        env=env,
        cwd=staged,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 4, done.stderr[-2000:]  # the script's own exit code
    assert "USER ['--epochs', '1'] True" in done.stdout
    assert "nothing was protected" in done.stderr
