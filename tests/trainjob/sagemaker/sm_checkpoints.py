"""Checkpoint folders as the Trainer writes them (small, real formats), locally or into S3.

The adapter is a real safetensors file (safetensors' own writer), optimizer.pt and scheduler.pt
are zip archives like torch.save's, trainer_state.json carries the global_step: enough for every
check the audit makes, in a few KiB.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save as save_safetensors


def _zip_bytes(member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"archive/{member}", b"\x00" * 64)
    return buf.getvalue()


def checkpoint_files(step: int) -> dict[str, bytes]:
    """File name -> content of a valid LoRA checkpoint-<step>."""
    weights = {"lora_A": np.ones((4, 8), dtype=np.float32), "lora_B": np.zeros((8, 4), np.float32)}
    return {
        "adapter_model.safetensors": save_safetensors(weights),
        "adapter_config.json": json.dumps({"r": 4, "lora_alpha": 8}).encode(),
        "trainer_state.json": json.dumps({"global_step": step, "log_history": []}).encode(),
        "optimizer.pt": _zip_bytes("optimizer"),
        "scheduler.pt": _zip_bytes("scheduler"),
    }


def put_checkpoint(s3: Any, bucket: str, prefix: str, step: int, **overrides: bytes) -> None:
    """Upload checkpoint-<step> under ``s3://bucket/prefix/``; ``overrides`` replace files."""
    files = {**checkpoint_files(step), **overrides}
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix.strip('/')}/checkpoint-{step}/{name}", Body=body)


def write_checkpoint(folder: Path, step: int, **overrides: bytes) -> Path:
    """Write checkpoint-<step> under a local output dir."""
    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True, exist_ok=True)
    for name, body in {**checkpoint_files(step), **overrides}.items():
        (path / name).write_bytes(body)
    return path
