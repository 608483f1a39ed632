"""Resume verifies what it loads: every file Trainer will read on resume, read the way Trainer
reads it, plus the sha256 the manifest recorded when the checkpoint was saved.

``checkpoints.validate_checkpoint`` is the cheap structural check (headers, zip directories,
the completion mark) that needs no torch; this is the deep one, run once per resume on the
checkpoint about to be used (``find_resume_point(..., verify=verify_checkpoint_files)``), so a
file whose bytes were flipped (same size), a truncated ``rng_state.pth`` or a
``trainer_state.json`` of the wrong shape is moved aside *before* Trainer fails on it, and the
next older valid checkpoint is used instead.

Cost: hashing reads every byte once (a LoRA checkpoint of a few MB: milliseconds; a full
fine-tune's tens of GB at ~1 GB/s: tens of seconds per resume, paid once at start, never per
step); the loads are ``torch.load(weights_only=True)`` of the same files Trainer then loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .checkpoints import ADAPTER_WEIGHTS, STATE_FILE
from .manifest import Manifest, sha256_file

# trainer_state.json keys Trainer's resume reads, and the types each may have (the first one is
# named in the problem line); Trainer writes no epoch before the first one ends.
STATE_SHAPE: dict[str, tuple[type, ...]] = {
    "global_step": (int,),
    "log_history": (list,),
    "max_steps": (int,),
    "epoch": (int, float, type(None)),
}


def state_problems(path: Path) -> list[str]:
    """Why ``trainer_state.json`` could not drive a resume (keys missing or of the wrong type)."""
    try:
        state = json.loads(path.read_bytes())  # Trainer writes it as UTF-8 JSON
    except (OSError, ValueError) as exc:
        return [f"{path.name} does not parse ({str(exc)[:60]})"]
    if not isinstance(state, dict):
        return [f"{path.name} is not a JSON object"]
    out = []
    for key, types in STATE_SHAPE.items():
        value = state.get(key)
        if not isinstance(value, types) or isinstance(value, bool):
            out.append(f"{path.name}: {key} is {type(value).__name__}, not {types[0].__name__}")
    history = state.get("log_history")
    if isinstance(history, list) and not all(isinstance(e, dict) for e in history):
        out.append(f"{path.name}: log_history holds entries that are not objects")
    return out


def _load_problem(path: Path) -> str | None:
    import torch

    try:
        from transformers.trainer_pt_utils import safe_globals

        with safe_globals():
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any reason torch cannot read it is a reason not to resume from it
        return f"{path.name} does not load ({type(exc).__name__}: {str(exc).splitlines()[0][:60]})"
    if not isinstance(obj, dict):
        return f"{path.name} holds a {type(obj).__name__}, not a state dict"
    if path.name.startswith("rng_state") and "cpu" not in obj:
        return f"{path.name} has no CPU RNG state"
    if path.name == "optimizer.pt" and not {"state", "param_groups"} <= set(obj):
        return f"{path.name} is not an optimizer state (no state/param_groups)"
    return None


def _weights_problem(path: Path) -> str | None:
    if path.suffix != ".safetensors":
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            for key in fh.keys():
                fh.get_tensor(key)
    except Exception as exc:
        return f"{path.name} does not load ({type(exc).__name__}: {str(exc).splitlines()[0][:60]})"
    return None


def hash_problems(folder: Path, entry: dict[str, Any] | None) -> list[str]:
    """Files whose size or sha256 differs from what the manifest recorded at save time."""
    if not entry or not isinstance(entry.get("files"), dict):
        return []
    out = []
    for name, info in entry["files"].items():
        file = folder / name
        if not file.is_file():
            out.append(f"{name} recorded in the manifest is missing")
        elif file.stat().st_size != info.get("bytes"):
            out.append(
                f"{name} is {file.stat().st_size} bytes, the manifest recorded {info.get('bytes')}"
            )
        elif sha256_file(file) != info.get("sha256"):
            out.append(f"{name} sha256 differs from the manifest (bytes changed since the save)")
    return out


def verify_checkpoint_files(
    folder: Path, *, manifest: Manifest | None = None, require_optimizer: bool = True
) -> list[str]:
    """Every problem a resume from ``folder`` would hit; empty when Trainer can load all of it."""
    hashed = hash_problems(folder, manifest.entry(folder.name) if manifest else None)
    if hashed:
        return hashed
    problems = state_problems(folder / STATE_FILE)
    for name in ADAPTER_WEIGHTS + ("model.safetensors",):
        if (folder / name).is_file():
            found = _weights_problem(folder / name)
            if found:
                problems.append(found)
    rng = sorted(folder.glob("rng_state*.pth"))
    if require_optimizer and not rng:
        problems.append("rng_state.pth missing (the resume would not be exact)")
    names = [p.name for p in rng]
    if require_optimizer:
        names += ["optimizer.pt", "scheduler.pt"]
    for name in names:
        if (folder / name).is_file():
            found = _load_problem(folder / name)
            if found:
                problems.append(found)
    return problems
