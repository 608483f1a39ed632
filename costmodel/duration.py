"""How long a job takes on an instance: FLOPs / (GPUs x achieved TFLOPS)."""

from __future__ import annotations

from dataclasses import dataclass

from costmodel.catalog import Catalog, InstanceType, load_catalog
from costmodel.workload import Workload

#: Assumed time for SageMaker to start a replacement instance and its training container after
#: a spot interruption (minutes, billed: the instance runs).  An assumption, not a measurement.
CONTAINER_START_MINUTES = 5.0

#: Assumed sustained read speed of the model and the checkpoint from S3 or the hub (MB/s).
RESTORE_READ_MB_S = 125.0

#: Assumed sustained write speed of a checkpoint to the instance's local volume (MB/s) and a
#: fixed per-save overhead (seconds). Assumptions, not measurements: override checkpoint
#: minutes with --checkpoint-minutes when you know better.
CHECKPOINT_WRITE_MB_S = 125.0
CHECKPOINT_OVERHEAD_S = 30.0


@dataclass(frozen=True)
class DurationEstimate:
    """Compute time of one job on one instance type (no interruptions, no checkpoints)."""

    instance_type: str
    instance_count: int
    world_size: int
    total_steps: int
    global_batch: int
    tokens: float
    flops: float
    effective_tflops_per_gpu: float
    throughput_basis: str
    seconds_per_step: float
    hours: float
    grad_accum: int = 1
    #: Optimizer steps in one pass over the data (None when its size is unknown).
    steps_per_epoch: int | None = None

    def hours_for_steps(self, steps: int) -> float:
        """Wall hours of compute to reach ``steps`` optimizer steps."""
        return steps * self.seconds_per_step / 3600.0

    def steps_for_hours(self, hours: float) -> int:
        """Optimizer steps done in ``hours`` of compute (at least 1)."""
        return max(int(round(hours * 3600.0 / self.seconds_per_step)), 1)

    def to_json(self) -> dict[str, object]:
        """Plain JSON-ready dict."""
        return {
            "instance_type": self.instance_type,
            "instance_count": self.instance_count,
            "world_size": self.world_size,
            "total_steps": self.total_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "global_batch": self.global_batch,
            "gradient_accumulation_steps": self.grad_accum,
            "tokens": self.tokens,
            "flops": self.flops,
            "effective_tflops_per_gpu": round(self.effective_tflops_per_gpu, 2),
            "throughput_basis": self.throughput_basis,
            "seconds_per_step": round(self.seconds_per_step, 4),
            "hours": round(self.hours, 3),
        }


def estimate_duration(
    workload: Workload,
    instance: InstanceType | str,
    *,
    instance_count: int = 1,
    mfu: float | None = None,
    effective_tflops: float | None = None,
    catalog: Catalog | None = None,
) -> DurationEstimate:
    """Estimate compute hours, steps and seconds per step of ``workload`` on ``instance``.

    All GPUs of all instances are assumed to run data-parallel at the same per-GPU rate.
    ``effective_tflops`` (per GPU) overrides the catalog; ``mfu`` scales the GPU's peak.
    """
    cat = catalog or load_catalog()
    inst = cat.instance(instance) if isinstance(instance, str) else instance
    if effective_tflops is not None:
        tflops, basis = effective_tflops, f"{effective_tflops:g} TFLOPS per GPU (given)"
    else:
        tflops, basis = cat.effective_tflops(inst.gpu, mfu)
    world = inst.gpu_count * instance_count
    steps = workload.steps(world)
    tokens = workload.examples(world) * workload.tokens_per_example
    flops = tokens * workload.flops_per_token()
    seconds = flops / (tflops * 1e12 * world)
    return DurationEstimate(
        instance_type=inst.name,
        instance_count=instance_count,
        world_size=world,
        total_steps=steps,
        global_batch=workload.global_batch(world),
        tokens=tokens,
        flops=flops,
        effective_tflops_per_gpu=tflops,
        throughput_basis=basis,
        seconds_per_step=seconds / steps,
        hours=seconds / 3600.0,
        grad_accum=workload.grad_accum_for(world),
        steps_per_epoch=workload.steps_per_epoch(world),
    )


def estimate_restore_minutes(workload: Workload) -> float:
    """Billed minutes from a replacement instance to training again after an interruption.

    Container start, then reading the base model and the latest checkpoint
    (:data:`CONTAINER_START_MINUTES`, :data:`RESTORE_READ_MB_S`: assumptions).  The model's
    size is ``model_bytes`` (2 bytes per parameter, the hub's half-precision files, when not
    given).
    """
    model = (
        workload.model_bytes if workload.model_bytes is not None else 2.0 * workload.params_total
    )
    read_s = (model + workload.checkpoint_bytes()) / (RESTORE_READ_MB_S * 1e6)
    return CONTAINER_START_MINUTES + read_s / 60.0


def estimate_checkpoint_minutes(workload: Workload) -> float:
    """Minutes one checkpoint save takes, from its size and an assumed write speed."""
    seconds = workload.checkpoint_bytes() / (CHECKPOINT_WRITE_MB_S * 1e6) + CHECKPOINT_OVERHEAD_S
    return seconds / 60.0
