"""accelerate and DeepSpeed config files: how many processes, and which ZeRO stage.

memplan's per-GPU estimate needs the data-parallel scheme (ZeRO shards optimizer states,
gradients and, at stage 3, the weights across GPUs), so these files feed ``compute.distributed``
and, when accelerate launches on SageMaker, the instance type and count. Keys follow accelerate's
``accelerate config`` YAML (accelerate/commands/config/config_args.py: compute_environment,
distributed_type, num_processes, num_machines, deepspeed_config.zero_stage, ec2_instance_type)
and DeepSpeed's JSON (``zero_optimization.stage``, ``train_micro_batch_size_per_gpu``,
``gradient_accumulation_steps``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..spec.errors import SpecError
from ..spec.yaml_source import YamlDocument, load_yaml
from .builder import SpecBuilder

DISTRIBUTED = {
    "MULTI_GPU": "ddp",
    "DATA_PARALLEL": "ddp",  # accelerate on SageMaker: smdistributed data parallel
    "FSDP": "fsdp",
    "NO": "none",
    "MULTI_NPU": "ddp",
}


def zero_name(stage: Any) -> str | None:
    if isinstance(stage, int) and not isinstance(stage, bool) and 0 <= stage <= 3:
        return "none" if stage == 0 else f"zero{stage}"
    return None


def read_accelerate(doc: YamlDocument, builder: SpecBuilder) -> None:
    data: dict[str, Any] = doc.data
    env = data.get("compute_environment")
    if env == "AMAZON_SAGEMAKER":
        builder.state("compute.provider", "sagemaker", doc.line_of("compute_environment"))
        for key, target in (
            ("ec2_instance_type", "compute.instance_type"),
            ("iam_role_name", "compute.role_arn"),
            ("region", "compute.region"),
            ("base_job_name", "name"),
        ):
            if isinstance(data.get(key), str):
                builder.state(target, data[key], doc.line_of(key))
    elif env == "LOCAL_MACHINE":
        builder.state("compute.provider", "local", doc.line_of("compute_environment"))
    machines = data.get("num_machines")
    if isinstance(machines, int) and machines >= 1:
        builder.state("compute.instance_count", machines, doc.line_of("num_machines"))
    kind = data.get("distributed_type")
    if kind == "DEEPSPEED":
        ds = data.get("deepspeed_config") or {}
        stage = zero_name(ds.get("zero_stage")) if isinstance(ds, dict) else None
        file = ds.get("deepspeed_config_file") if isinstance(ds, dict) else None
        if stage:
            builder.state("compute.distributed", stage, doc.line_of("deepspeed_config.zero_stage"))
        elif isinstance(file, str):
            where = (doc.line_of("deepspeed_config.deepspeed_config_file"), None)
            apply_deepspeed_file(doc.path.parent / file, builder, where)
        else:
            builder.note("DeepSpeed without a zero_stage: ZeRO stage unknown")
    elif isinstance(kind, str) and kind in DISTRIBUTED:
        builder.state("compute.distributed", DISTRIBUTED[kind], doc.line_of("distributed_type"))
    procs = data.get("num_processes")
    if isinstance(procs, int):
        builder.note(
            f"num_processes {procs} over {machines or 1} machine(s): "
            f"{procs // max(1, machines or 1)} GPU(s) per instance"
        )
    _unknown_provider(builder)


def read_deepspeed(doc: YamlDocument, builder: SpecBuilder) -> None:
    data: dict[str, Any] = doc.data
    zero = data.get("zero_optimization")
    stage = zero.get("stage") if isinstance(zero, dict) else None
    name = zero_name(stage)
    if name:
        builder.state("compute.distributed", name, doc.line_of("zero_optimization.stage"))
    elif stage is not None:
        builder.note(f"zero_optimization.stage is {stage!r}: ZeRO stage unknown")
    if isinstance(zero, dict):
        for part in ("offload_optimizer", "offload_param"):
            device = zero.get(part, {}).get("device") if isinstance(zero.get(part), dict) else None
            if device in {"cpu", "nvme"}:
                builder.note(f"{part} to {device}: GPU memory estimate ignores the offload")
    for key, target in (
        ("train_micro_batch_size_per_gpu", "training.per_device_train_batch_size"),
        ("gradient_accumulation_steps", "training.gradient_accumulation_steps"),
    ):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            builder.state(target, value, doc.line_of(key))
    _unknown_provider(builder)


def apply_deepspeed_file(
    path: Path, builder: SpecBuilder, where: tuple[int | None, int | None]
) -> None:
    """A ``deepspeed=`` file named by TrainingArguments or accelerate: read its ZeRO stage."""
    if not path.is_file():
        builder.note(f"DeepSpeed config {path} is not at hand: ZeRO stage unknown")
        return
    try:
        doc = load_yaml(path)
    except SpecError:
        builder.note(f"DeepSpeed config {path} could not be parsed: ZeRO stage unknown")
        return
    zero = doc.data.get("zero_optimization") if isinstance(doc.data, dict) else None
    stage = zero_name(zero.get("stage")) if isinstance(zero, dict) else None
    if stage:
        builder.state("compute.distributed", stage, *where)
        builder.note(f"compute.distributed = {stage} from {path.name}")
        _unknown_provider(builder)


def _unknown_provider(builder: SpecBuilder) -> None:
    """compute needs a provider; when the file does not say, 'local' is assumed, not stated."""
    if builder.values.get("compute") and "provider" not in builder.values["compute"]:
        builder.values["compute"]["provider"] = "local"
        builder.unstated.add("compute.provider")
