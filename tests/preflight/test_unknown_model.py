"""An unknown model never stops ``preflight check``: memory is "not checked" once, the rest runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from preflight.commands.check import check

ROOT = Path(__file__).resolve().parents[2]


def _spec(tmp_path: Path, model: str) -> Path:
    text = (ROOT / "examples" / "seed-broken.yaml").read_text()
    lines = text.splitlines()
    out, in_model = [], False
    for line in lines:
        if line.startswith("model:"):
            in_model = True
        elif in_model and line.strip().startswith("name:"):
            line = line.split("name:")[0] + f"name: {model}"
            in_model = False
        out.append(line)
    path = tmp_path / "job.yaml"
    path.write_text("\n".join(out) + "\n")
    return path


def test_unknown_model_runs_every_other_rule(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "someone/unknown-model")
    result = CliRunner().invoke(check, [str(spec), "--format", "json", "--offline"])
    assert result.exit_code in (0, 1), result.output
    report, _ = json.JSONDecoder().raw_decode(result.output)
    messages = [f["message"] for f in report["findings"]]
    unchecked = [m for m in messages if m.startswith("not checked")]
    assert len(unchecked) == 1  # one line for everything that could not run
    line = unchecked[0]
    assert "memory (PF401, PF402" in line and "to fix:" in line and "config.json" in line
    assert line.count("unknown model 'someone/unknown-model'") == 1
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors  # the seed's checkpoint mistakes are still found


def test_catalog_instruct_model_is_estimated_in_check(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "Qwen/Qwen2.5-7B-Instruct")
    result = CliRunner().invoke(check, [str(spec), "--format", "json"])
    report, _ = json.JSONDecoder().raw_decode(result.output)
    assert report["memory"]["model"]["resolved_from"] == "catalog"
    assert report["memory"]["model"]["inventory"] == "precomputed"


def test_memplan_estimate_still_exits_2_for_an_unknown_model(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "someone/unknown-model")
    code = "from preflight.cli_memplan import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "estimate", str(spec), "--offline"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "unknown model 'someone/unknown-model'" in done.stdout + done.stderr
