"""Helpers for trainjob's tests (a plain module, not a conftest, so names never clash): tiny specs, offline subprocess runs, checkpoint polling."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "examples" / "data"
DRIVER = Path(__file__).with_name("fault_driver.py")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def offline_env(**extra: str) -> dict[str, str]:
    """The subprocess environment: offline, one thread, no SageMaker variables leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env.update(OFFLINE)
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def write_spec(
    folder: Path,
    *,
    output_dir: Path | None = None,
    data: str | None = None,
    fmt: str = "pairs",
    training: dict[str, Any] | None = None,
    compute: dict[str, Any] | None = None,
    name: str = "spec.yaml",
) -> Path:
    """A tiny-mistral LoRA spec in ``folder`` (JSON is valid YAML, so no YAML writer is needed)."""
    train: dict[str, Any] = {
        "max_steps": 20,
        "per_device_train_batch_size": 4,
        "learning_rate": 0.002,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": 5,
        "save_total_limit": None,
        "seed": 7,
    }
    if output_dir is not None:
        train["output_dir"] = str(output_dir)
    train.update(training or {})
    spec = {
        "name": "tiny-test",
        "model": {"name": "tiny-mistral", "dtype": "float32"},
        "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]},
        "data": {
            "train": data or str(DATA / "tiny-pairs.jsonl"),
            "format": fmt,
            "prompt_template": "EN: {source}\nFR: {target}",
            "max_length": 24,
        },
        "training": train,
        "compute": compute or {"provider": "local"},
    }
    path = folder / name
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return path


def run_trainjob(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``trainjob ARGS`` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "trainjob.cli", *args],
        capture_output=True,
        text=True,
        env=env or offline_env(),
        timeout=timeout,
        cwd=REPO,
    )


def start_driver(
    spec: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """The fault driver (real trainjob code plus an injected fault) as a background process."""
    return subprocess.Popen(
        [sys.executable, str(DRIVER), str(spec), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or offline_env(),
        cwd=REPO,
    )


def wait_for(predicate: Any, timeout: float, proc: subprocess.Popen[str] | None = None) -> None:
    """Poll until ``predicate()`` is true; fail with the process output if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(
                f"process ended (rc {proc.returncode}) before the condition held:\n{out[-3000:]}"
            )
        time.sleep(0.05)
    pytest.fail("timed out waiting")


def manifest(output_dir: Path) -> dict[str, Any]:
    path = output_dir / "trainjob-manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"checkpoints": {}}


def last_attempt(output_dir: Path) -> dict[str, Any]:
    record = json.loads((output_dir / "trainjob-run.json").read_text(encoding="utf-8"))
    return record["attempts"][-1]  # type: ignore[no-any-return]


def logged_steps(checkpoint: Path) -> list[int]:
    state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    return [e["step"] for e in state["log_history"] if "loss" in e]


def write_safetensors(path: Path, tensors: dict[str, int]) -> None:
    """A safetensors file whose tensors are float32 vectors of the given lengths."""
    header: dict[str, object] = {}
    offset = 0
    for name, length in tensors.items():
        header[name] = {
            "dtype": "F32",
            "shape": [length],
            "data_offsets": [offset, offset + 4 * length],
        }
        offset += 4 * length
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)


def write_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", b"x" * 64)


def make_checkpoint(root: Path, step: int, *, state_step: int | None = None) -> Path:
    folder = root / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    write_safetensors(folder / "adapter_model.safetensors", {"q.lora_A": 8, "q.lora_B": 8})
    (folder / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 4}')
    write_zip(folder / "optimizer.pt")
    write_zip(folder / "scheduler.pt")
    state = {"global_step": step if state_step is None else state_step, "log_history": []}
    (folder / "trainer_state.json").write_text(json.dumps(state))
    return folder
