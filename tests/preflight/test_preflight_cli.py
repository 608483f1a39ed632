"""The ``preflight`` command line as a user runs it: exit codes, stdout vs stderr, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from preflight.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_help_teaches() -> None:
    out = run("--help")
    assert out.returncode == 0
    for word in ("check", "schema", "rules", "explain", "Exit codes"):
        assert word in out.stdout
    check_help = run("check", "--help").stdout
    assert "--fail-on" in check_help and "sarif" in check_help and "Examples" in check_help


def test_bad_yaml_exit_2_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n\tname: x\n")
    out = run("check", str(bad))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert f"{bad}:2" in out.stderr


def test_missing_file_json_mode(tmp_path: Path) -> None:
    out = run("check", str(tmp_path / "nope.yaml"), "--format", "json")
    assert out.returncode == 2
    doc = json.loads(out.stdout)
    assert doc["issues"][0]["message"] == "file not found"


def test_findings_exit_1_and_fail_on(tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text("training:\n  save_total_limt: 3\n")
    assert run("check", str(spec), "--format", "json").returncode == 1
    spec.write_text("training:\n  save_total_limit: 3\n")
    out = run("check", str(spec), "--format", "json")
    doc = json.loads(out.stdout)
    worst = {f["severity"] for f in doc["findings"]}
    expected = 1 if "error" in worst else 0
    assert out.returncode == expected


def test_schema_is_json_schema() -> None:
    out = run("schema")
    assert out.returncode == 0
    schema = json.loads(out.stdout)
    props = schema["properties"]
    assert {"model", "lora", "data", "training", "compute", "budget", "ignore"} <= set(props)
    assert "save_total_limit" in props["training"]["properties"]
    assert schema["$defs"]["ComputeSpec"]["additionalProperties"] is False


def test_explain_and_rules() -> None:
    out = run("explain", "PF502")
    assert out.returncode == 0 and "Why is this bad?" in out.stdout
    unknown = run("explain", "PF5O2")
    assert unknown.returncode == 2 and "did you mean" in unknown.stderr
    listing = json.loads(run("rules", "--format", "json").stdout)
    assert {"PF501", "PF502"} <= {r["id"] for r in listing}


def test_output_file_and_redact(tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(
        "training:\n  save_total_limt: 3\ncompute:\n  instance_type: ml.g5.xlarge\n"
        "  role_arn: arn:aws:iam::123456789012:role/R\n"
    )
    target = tmp_path / "out.sarif"
    out = run("check", str(spec), "--format", "sarif", "-o", str(target), "--redact")
    assert out.returncode == 1
    assert target.exists() and "123456789012" not in target.read_text()


@pytest.mark.parametrize("cmd", [["check", "--help"], ["schema"]])
def test_no_heavy_imports(cmd: list[str]) -> None:
    code = (
        "import sys\nfrom preflight.cli import main\n"
        f"sys.argv=['preflight', *{cmd!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy=[m for m in ('torch','transformers','peft','boto3','sagemaker','matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert "HEAVY []" in out.stderr


def test_check_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\nfrom preflight.pipeline import check\n"
        "check('examples/seed-broken.yaml')\n"
        "print([m for m in ('torch','transformers','peft','boto3','sagemaker','matplotlib') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("[]")
