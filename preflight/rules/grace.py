"""PF214: can the SIGTERM checkpoint be written inside SageMaker's 120 s window?

The estimate is the bytes a checkpoint holds (memplan's weights and optimizer state for a full
fine-tune; the trainable parameters and their optimizer state for LoRA) over the write rate of
the instance's checkpoint disk (``preflight/data/checkpoint_disks.json``, sourced per instance
family). Families whose disk has no published sequential rate (NVMe instance stores) are not
judged: the rule stays silent rather than guess.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..findings import Finding, Severity
from .base import Rule
from .memory import memory_json
from .sync import cutoff_reason, save_strategy

if TYPE_CHECKING:
    from ..plan import Plan

GIB = 1024**3
MIB = 1024**2
#: bytes per trainable parameter of an adapter checkpoint: the fp32 weight (4) plus AdamW's two
#: fp32 moments (8), as Trainer's optimizer.pt holds them.
ADAPTER_BYTES_PER_PARAM = 12


@cache
def disks() -> dict[str, Any]:
    text = resources.files("preflight.data").joinpath("checkpoint_disks.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def family_of(instance_type: str) -> str:
    """``ml.g5.12xlarge`` -> ``g5``."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) >= 3 and parts[0] == "ml" else parts[0]


def write_rate(instance_type: str, volume_gib: int) -> tuple[float, str] | None:
    """Checkpoint-disk write rate (bytes/s) and what it is, or None when not published."""
    data = disks()
    family = family_of(instance_type)
    if family not in data["families"]["ebs"]:
        return None
    for tier in data["gp2"]:
        limit = tier["max_volume_gib"]
        if limit is None or volume_gib <= limit:
            return tier["mib_per_s"] * MIB, f"EBS gp2, {volume_gib} GB: {tier['mib_per_s']} MiB/s"
    return None


def checkpoint_bytes(memory: dict[str, Any]) -> int | None:
    """Estimated bytes of one checkpoint from memplan's JSON estimate, or None."""
    breakdown = memory.get("breakdown_gib") or {}
    total = memory.get("total_params")
    trainable = memory.get("trainable_params")
    optimizer = float(breakdown.get("optimizer") or 0.0) * GIB
    if isinstance(total, int) and isinstance(trainable, int) and 0 < trainable < total:
        return int(trainable * ADAPTER_BYTES_PER_PARAM)
    weights = breakdown.get("weights")
    if not isinstance(weights, int | float) or weights <= 0:
        return None
    return int(float(weights) * GIB + optimizer)


class CheckpointOutlastsGraceWindow(Rule):
    """
    What it does:
    Estimates how long the SIGTERM checkpoint takes to write (its size: weights and optimizer
    state from memplan's estimate; over the write rate of the instance's checkpoint disk, e.g.
    128 MiB/s for the default 30 GB gp2 volume) and flags a job whose checkpoint cannot be
    written inside the 120 s SageMaker allows between SIGTERM and the kill.

    Why is this bad?
    A full fine-tune's checkpoint runs to tens of GB (a 7B model in bf16 plus AdamW's fp32
    moments is about 70 GB). At 128 MiB/s that is nine minutes: the SIGTERM save of a stopped or
    reclaimed job is cut off, and everything since the last periodic checkpoint is lost, although
    the job "saves on SIGTERM".

    Example:
    ```yaml
    model: {name: mistralai/Mistral-7B-v0.1, dtype: bfloat16}
    compute: {provider: sagemaker, instance_type: ml.p3.16xlarge, spot: true}
    ```

    Use instead:
    ```yaml
    model: {name: mistralai/Mistral-7B-v0.1, dtype: bfloat16}
    lora: {r: 16, alpha: 32, target_modules: [q_proj, v_proj]}
    compute: {provider: sagemaker, instance_type: ml.p3.16xlarge, spot: true}
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-train-storage-tips-considerations.html
    - https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html
    """

    id = "PF214"
    name = "checkpoint-outlasts-grace-window"
    severity = Severity.WARNING
    consequence = "progress"  # the work since the last periodic checkpoint, not the run
    title = "The SIGTERM checkpoint cannot be written inside SageMaker's 120 s window"
    fix = (
        "Train LoRA adapters, choose an instance family with NVMe instance storage (ml.g5, "
        "ml.p4d), or save periodically often enough that losing the SIGTERM save costs little."
    )
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-train-storage-tips-considerations.html"
    requires = ("memory",)

    def applies(self, plan: Plan) -> bool:
        compute = plan.spec.compute
        return (
            cutoff_reason(plan) is not None
            and save_strategy(plan) != "no"
            and compute is not None
            and bool(compute.instance_type)
        )

    def check(self, plan: Plan) -> Iterator[Finding]:
        compute = plan.spec.compute
        memory = memory_json(plan)
        if compute is None or not compute.instance_type or memory is None:
            return
        size = checkpoint_bytes(memory)
        volume = int(getattr(compute, "volume_size_gb", 30) or 30)
        rate = write_rate(compute.instance_type, volume)
        if size is None or rate is None:
            return
        bytes_per_s, disk = rate
        window = float(disks()["grace_seconds"])
        seconds = size / bytes_per_s
        if seconds <= window:
            return
        fits_at = size / window / MIB
        yield self.finding(
            "compute.instance_type",
            f"a checkpoint of about {size / GIB:.1f} GiB takes about {seconds:.0f} s to write on "
            f"{compute.instance_type} ({disk}); SageMaker kills the job {window:.0f} s after "
            f"SIGTERM, so the SIGTERM save is cut off",
            fix=(
                f"It fits at {fits_at:,.0f} MiB/s or more: train LoRA adapters (a checkpoint of MBs), "
                "use an NVMe family (ml.g5, ml.p4d), or rely on periodic saves (shorter save_steps)."
            ),
        )
