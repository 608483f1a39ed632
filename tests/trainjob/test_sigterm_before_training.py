"""A SIGTERM that arrives before training starts (here: while the model's asset cache is written,
where a real job downloads and tokenises) ends ``trainjob run`` cleanly: exit 0, the stop logged,
the attempt recorded as stopped at step 0, nothing trained and no checkpoint.

One real ``trainjob run`` forked by the kill suite's worker (``kill_harness.py``), the signal a
real ``os.kill`` at the first asset-cache write. Without ``EarlyStop``'s handler the default
disposition kills the process (exit -15) within seconds; this test says so instead of the kill
suite's three-minute fixture. About 10-20 s on two cores (torch and transformers imported once).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from trainjob_helpers import REPO, offline_env, write_spec

pytestmark = pytest.mark.slow

HARNESS = Path(__file__).with_name("kill_harness.py")


def test_sigterm_while_the_asset_cache_is_written_stops_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = {
        "id": "sigterm-before-training",
        "work": str(tmp_path / "work"),
        "out": str(out),
        "spec": str(write_spec(tmp_path, output_dir=out, training={"max_steps": 4})),
        "fault": {"phase": "asset cache", "signal": "sigterm"},
        "reruns": 0,
    }
    jobs, results = tmp_path / "jobs.json", tmp_path / "results.json"
    jobs.write_text(json.dumps([job]))
    proc = subprocess.run(
        [sys.executable, str(HARNESS), str(jobs), str(results)],
        env=offline_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (result,) = json.loads(results.read_text())
    assert "harness_error" not in result, result.get("harness_error")
    log = result["logs"][0]
    assert result["rcs"] == [0], (
        f"exit {result['rcs'][0]} (-15: killed by the SIGTERM):\n{log[-2000:]}"
    )
    assert "SIGTERM received before or after training; stopping at the next safe point" in log
    assert "SIGTERM arrived before training started; nothing trained, exiting cleanly" in log
    assert "Traceback" not in log
    (attempt,) = result["attempts"]
    assert attempt["outcome"] == "stopped"
    assert attempt["global_step"] == 0
    assert not list(out.glob("checkpoint-*"))
    assert result["final_hash"] is None  # no final adapter: nothing was trained
