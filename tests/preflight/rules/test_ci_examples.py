"""The CI gate a user copies: the GitHub Actions example and the pre-commit hooks really work."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / "examples" / "ci" / "github-actions-preflight.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
PREFLIGHT = Path(sys.executable).parent / "preflight"

BROKEN_SCRIPT = """\
from transformers import TrainingArguments

args = TrainingArguments(output_dir="/opt/ml/output/data", save_steps=1000)
"""


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def _repo(tmp_path: Path, *, broken: bool) -> Path:
    """A small repository: a workflow file, a clean job spec, an unrelated script."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(WORKFLOW, tmp_path / ".github" / "workflows" / "preflight.yml")
    (tmp_path / "jobs").mkdir()
    shutil.copy(ROOT / "examples" / "seed-fixed.yaml", tmp_path / "jobs" / "job.yaml")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "util.py").write_text("print('not a training script')\n")
    if broken:
        (tmp_path / "src" / "train.py").write_text(BROKEN_SCRIPT)
    return tmp_path


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_workflow_runs_check_and_uploads_its_sarif() -> None:
    wf = _load(WORKFLOW)
    assert wf["permissions"]["security-events"] == "write"
    steps = wf["jobs"]["preflight"]["steps"]
    check = next(s for s in steps if s.get("id") == "check")
    assert "preflight check" in check["run"] and "--format sarif" in check["run"]
    assert check.get("continue-on-error") is True
    sarif_out = shlex.split(check["run"].splitlines()[-1])
    out_path = sarif_out[sarif_out.index("-o") + 1]
    upload = next(
        s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")
    )
    assert upload["with"]["sarif_file"] == out_path
    assert "always()" in upload["if"]
    gate = steps[-1]
    assert gate["if"] == "steps.check.outcome == 'failure'" and "exit 1" in gate["run"]


def test_workflow_check_command_produces_sarif_for_configs_only(tmp_path: Path) -> None:
    repo = _repo(tmp_path, broken=True)
    run = _run([str(PREFLIGHT), "check", ".", "--format", "sarif", "-o", "preflight.sarif"], repo)
    assert run.returncode == 1, run.stdout + run.stderr
    sarif = json.loads((repo / "preflight.sarif").read_text())
    results = sarif["runs"][0]["results"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in results
        if r.get("locations")
    }
    assert uris <= {"src/train.py", "jobs/job.yaml"}
    assert any(r["ruleId"] == "PF101" for r in results)


def test_pre_commit_hooks_entries_gate_a_repo(tmp_path: Path) -> None:
    hooks = {h["id"]: h for h in _load(HOOKS)}
    assert set(hooks) == {"preflight", "preflight-files"}
    whole = hooks["preflight"]
    assert whole["pass_filenames"] is False and whole["language"] == "python"
    argv = shlex.split(whole["entry"])
    assert argv[:2] == ["preflight", "check"]
    clean = _repo(tmp_path / "clean", broken=False)
    assert _run([str(PREFLIGHT), *argv[1:]], clean).returncode == 0
    dirty = _repo(tmp_path / "dirty", broken=True)
    out = _run([str(PREFLIGHT), *argv[1:]], dirty)
    assert out.returncode == 1 and "PF101" in out.stdout


def test_pre_commit_files_hook_pattern_matches_job_specs() -> None:
    import re

    pattern = re.compile(_load(HOOKS)[1]["files"])
    assert pattern.search("jobs/mistral.yaml") and pattern.search("ml/specs/a.yml")
    assert not pattern.search(".github/workflows/ci.yml")
