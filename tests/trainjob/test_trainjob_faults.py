"""Fault tests: real subprocesses, real signals, the tiny model.

- SIGTERM mid-run saves a checkpoint and exits 0; the rerun resumes and reaches max_steps with
  every global_step logged exactly once.
- SIGKILL during a checkpoint write leaves a partial folder; the rerun moves it aside (kept, not
  deleted) and resumes from the previous valid checkpoint.
- A full disk (ENOSPC raised by a patched ``torch.save``, see fault_driver.py) gives one clear
  error, exit 2, and leaves the last good checkpoint byte-for-byte intact (the real full
  filesystem, a tmpfs, is in test_trainjob_killsuite.py).
"""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path

import pytest
from trainjob_helpers import (
    last_attempt,
    logged_steps,
    manifest,
    start_driver,
    wait_for,
    write_spec,
)

from trainjob.checkpoints import list_checkpoints, validate_checkpoint

pytestmark = pytest.mark.slow


def _recorded(output_dir: Path, name: str) -> bool:
    return name in manifest(output_dir)["checkpoints"]


def test_sigterm_mid_run_then_resume_reaches_max_steps(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = write_spec(tmp_path, output_dir=out, training={"max_steps": 40, "save_steps": 10})
    proc = start_driver(spec, "--step-sleep", "0.25")
    wait_for(lambda: _recorded(out, "checkpoint-10"), timeout=90, proc=proc)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output[-3000:]
    first = last_attempt(out)
    assert first["outcome"] == "stopped"
    stop_ckpt = first["sigterm_checkpoint"]
    assert stop_ckpt is not None
    assert validate_checkpoint(out / stop_ckpt).valid
    assert first["global_step"] < 40
    # the finally block ran: the adapter of the interrupted run is saved too
    assert (out / "final-model" / "adapter_model.safetensors").is_file()

    proc = start_driver(spec)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output[-3000:]
    second = last_attempt(out)
    newest_before = max(int(c["name"].split("-")[1]) for c in first["checkpoints"])
    assert second["resumed_from"] == f"checkpoint-{newest_before}"
    assert second["outcome"] == "completed"
    assert second["global_step"] == 40
    assert logged_steps(out / "checkpoint-40") == list(range(1, 41))


def test_kill_9_during_checkpoint_write_resumes_from_previous_valid(tmp_path: Path) -> None:
    out = tmp_path / "out"
    marker = tmp_path / "writing"
    spec = write_spec(tmp_path, output_dir=out, training={"max_steps": 30, "save_steps": 10})
    proc = start_driver(spec, "--hang-in-save", "20", "--marker", str(marker))
    wait_for(marker.exists, timeout=90, proc=proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    partial = out / "checkpoint-20"
    assert partial.is_dir() and not validate_checkpoint(partial).valid
    partial_files = sorted(p.name for p in partial.iterdir())

    proc = start_driver(spec)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output[-3000:]
    attempt = last_attempt(out)
    assert attempt["resumed_from"] == "checkpoint-10"
    assert attempt["global_step"] == 30
    moved = list(out.glob("quarantine-checkpoint-20-*"))
    assert len(moved) == 1, output[-2000:]
    assert sorted(p.name for p in moved[0].iterdir()) == partial_files  # kept, not deleted
    assert [p.name for p in list_checkpoints(out)] == [
        "checkpoint-10",
        "checkpoint-20",
        "checkpoint-30",
    ]
    assert all(validate_checkpoint(p).valid for p in list_checkpoints(out))
    assert logged_steps(out / "checkpoint-30") == list(range(1, 31))


def test_full_disk_gives_clear_error_and_keeps_last_good_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = write_spec(tmp_path, output_dir=out, training={"max_steps": 20, "save_steps": 5})
    proc = start_driver(spec, "--enospc-in-save", "10")
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, output[-3000:]
    assert "disk full" in output
    assert "Traceback" not in output
    good = out / "checkpoint-5"
    assert validate_checkpoint(good).valid
    recorded = manifest(out)["checkpoints"]["checkpoint-5"]["files"]
    for name, info in recorded.items():
        assert hashlib.sha256((good / name).read_bytes()).hexdigest() == info["sha256"]
    assert [p.name for p in list_checkpoints(out)] == ["checkpoint-5"]
    assert len(list(out.glob("quarantine-checkpoint-10-*"))) == 1
    assert "checkpoint-5" in output.split("disk full", 1)[1]


def test_ctrl_c_saves_and_stops_like_sigterm(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = write_spec(tmp_path, output_dir=out, training={"max_steps": 60, "save_steps": 50})
    proc = start_driver(spec, "--step-sleep", "0.2")
    wait_for(
        lambda: (
            (out / "trainjob.log").is_file() and " step 3/" in (out / "trainjob.log").read_text()
        ),
        90,
        proc,
    )
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output[-3000:]
    attempt = last_attempt(out)
    assert attempt["outcome"] == "stopped" and attempt["global_step"] < 50
    assert validate_checkpoint(out / attempt["sigterm_checkpoint"]).valid
