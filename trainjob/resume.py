"""Phase 2 of a run: which checkpoint to start from, and whether it belongs to this job.

The newest *valid* checkpoint is chosen (broken ones are moved aside with the reason, never
deleted), and a resume into a changed job (batch, length of run, data, model, LoRA shape) is
refused before anything is loaded, naming each difference.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from .checkpoints import CheckpointCheck, ResumePoint, find_resume_point
from .errors import RunRefused
from .manifest import Manifest
from .runcontext import RunContext

log = logging.getLogger("trainjob")

# Plan keys that make a resume a different job if they change (batch, length of run, data).
RESUME_KEYS = (
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "world_size",
    "max_steps",
    "num_train_epochs",
    "data_sha256",
    "max_length",
    "model",
    "dtype",
    "lora_r",
    "lora_alpha",
    "lora_targets",
)


def is_rank_zero() -> bool:
    """Rank 0 of an ``accelerate launch``/torchrun job, or a single process."""
    return os.environ.get("RANK", "0") == "0"


def choose_resume_point(ctx: RunContext, output_dir: Path, manifest: Manifest) -> ResumePoint:
    """The newest valid checkpoint in ``output_dir``; invalid ones are quarantined and logged."""
    from .verify import verify_checkpoint_files

    save_only_model = bool(ctx.training_value("save_only_model"))

    def deep(path: Path) -> list[str]:
        return verify_checkpoint_files(
            path, manifest=manifest, require_optimizer=not save_only_model
        )

    point = find_resume_point(
        output_dir, require_optimizer=not save_only_model, move_aside=is_rank_zero(), verify=deep
    )
    log_quarantined(point, manifest)
    if point.quarantined:
        manifest.save()
    return point


def log_quarantined(point: ResumePoint, manifest: Manifest) -> None:
    for check, moved in point.quarantined:
        log.warning(
            "moved aside invalid %s -> %s (%s); it is kept, not deleted",
            check.path.name,
            moved.name,
            "; ".join(check.problems),
        )
        manifest.mark(check.path.name, "quarantined", f"{moved.name}: {check.problems[0]}")


def check_resume(
    resume: CheckpointCheck,
    manifest: Manifest,
    plan: dict[str, Any],
    *,
    allow_mismatch: bool,
) -> bool:
    """Refuse a resume into a changed job unless allowed; True when allowed despite changes."""
    entry = manifest.entry(resume.path.name) or {}
    before = entry.get("plan")
    if not before:
        state = json.loads((resume.path / "trainer_state.json").read_bytes())
        before = {"max_steps": state.get("max_steps")}
        now_batch = plan["per_device_train_batch_size"] * max(plan["world_size"], 1)
        if state.get("train_batch_size") not in (None, now_batch):
            before["train_batch_size"] = state.get("train_batch_size")
            plan = {**plan, "train_batch_size": now_batch}
        if plan["max_steps"] in (-1, None):
            before.pop("max_steps")
    before = {**adapter_plan(resume.path), **before}
    changed = [
        f"{k}: {before[k]!r} -> {plan.get(k)!r}"
        for k in (*RESUME_KEYS, "train_batch_size")
        if k in before and before[k] != plan.get(k)
    ]
    if not changed:
        return False
    text = "; ".join(changed)
    if allow_mismatch:
        log.warning(
            "resuming %s although the job changed (--allow-mismatch): %s", resume.path.name, text
        )
        return True
    raise RunRefused(
        f"{resume.path} was trained under a different plan: {text}. Resuming would silently "
        "change the job (Trainer does not check). Restore the spec, use a new output_dir, "
        "or pass --allow-mismatch."
    )


def adapter_plan(folder: Path) -> dict[str, Any]:
    """The LoRA shape a checkpoint was saved with, read from its own ``adapter_config.json``
    (so a changed ``lora.r`` is named even when the manifest has no plan for it)."""
    try:  # bytes: json decodes them as UTF-8 (what JSON is) whatever the locale says
        config = json.loads((folder / "adapter_config.json").read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(config, dict):
        return {}
    out: dict[str, Any] = {}
    if isinstance(config.get("r"), int):
        out["lora_r"] = config["r"]
    if isinstance(config.get("lora_alpha"), int | float):
        out["lora_alpha"] = config["lora_alpha"]
    targets = config.get("target_modules")
    if isinstance(targets, list):
        out["lora_targets"] = sorted(str(t) for t in targets)
    return out


def finished(check: CheckpointCheck, planned_max_steps: int | None, changed: bool) -> bool:
    """True when the checkpoint already reached this job's last step.

    With ``max_steps`` stated that is the bound; for an epoch-based job the checkpoint's own
    ``max_steps`` is, unless the plan was changed under ``--allow-mismatch`` (then Trainer decides).
    """
    if planned_max_steps is not None and planned_max_steps > 0:
        return check.step >= planned_max_steps
    if changed:
        return False
    state = json.loads((check.path / "trainer_state.json").read_bytes())
    max_steps = state.get("max_steps") or 0
    return bool(max_steps) and check.step >= max_steps
