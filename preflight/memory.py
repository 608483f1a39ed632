"""The job spec translated into memplan's typed input, and the memory estimate of a plan.

memplan knows nothing of YAML; this module is the one place that reads spec keys for it.
Every problem is reported at once as a SpecIssue naming the file, the line and the key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .redact import shown_value
from .spec import JobSpec, LoadedSpec, SpecError, SpecIssue

if TYPE_CHECKING:
    from memplan import LoraSetup, MemoryPlan, TrainingSetup

#: How to let memplan read a model it does not know, said wherever it is not found.
MODEL_FIX = (
    "to fix: set model.name to a catalog id (`memplan models`), a local directory holding the "
    "model's config.json, or a model in the Hugging Face cache; online, a hub id is read from "
    "the hub's config.json"
)

#: When data.max_length is absent, the length memplan assumes (and says so in a note).
DEFAULT_SEQ_LEN = 512
#: TrainingArguments.optim when the spec does not say (transformers 5.x, torch >= 2.8).
DEFAULT_OPTIM = "adamw_torch_fused"


def lora_setup(spec: JobSpec) -> LoraSetup | None:
    """The spec's lora section as memplan counts it (None for a full fine-tune)."""
    import memplan

    if spec.lora is None:
        return None
    return memplan.LoraSetup(
        r=int(spec.lora.r),
        target_modules=tuple(spec.lora.target_modules),
        alpha=float(spec.lora.alpha),
        dropout=float(spec.lora.dropout),
        use_dora=bool(spec.lora.use_dora),
        modules_to_save=tuple(spec.lora.modules_to_save),
        bias=spec.lora.bias,
    )


def _capacity(loaded: LoadedSpec, issues: list[SpecIssue]) -> tuple[float | None, str | None, int]:
    """(GiB per GPU, GPU name, GPUs per instance) from costmodel's catalog, when it knows."""
    compute = loaded.spec.compute
    stated = compute.gpu_memory_gib if compute is not None else None
    if compute is None or not compute.instance_type:
        return (None if stated is None else float(stated)), None, 1
    try:
        import costmodel
    except ImportError:
        return None, None, 1
    try:
        inst = costmodel.load_catalog().instance(compute.instance_type)
    except costmodel.UnknownInstanceError as exc:
        issues.append(loaded.issue("compute.instance_type", str(exc)))
        return None, None, 1
    memory = float(inst.gpu_memory_gib) if stated is None else float(stated)
    return memory, str(inst.gpu), int(inst.gpu_count)


def setup_from_spec(loaded: LoadedSpec) -> TrainingSetup:
    """The spec's :class:`memplan.TrainingSetup`; raises SpecError listing every problem."""
    import memplan
    from memplan.setup import TrainingSetup, optimizer_kind

    spec = loaded.spec
    issues: list[SpecIssue] = []
    if spec.model is None:
        raise SpecError([loaded.issue("model", "a model is needed to estimate GPU memory")])
    arch = None
    try:
        arch = memplan.load_architecture(loaded.model_target() or spec.model.name)
    except memplan.UnknownModelError as exc:
        issues.append(loaded.issue("model.name", f"{exc}; {MODEL_FIX}"))
    tr = spec.training
    lora = None
    if spec.lora is not None:
        try:
            lora = lora_setup(spec)
            if arch is not None:
                memplan.count_params(arch, lora)
        except ValueError as exc:
            key = "lora.modules_to_save" if "modules_to_save" in str(exc) else "lora.target_modules"
            issues.append(loaded.issue(key, str(exc)))
            lora = None
    # TrainingArguments' default optim: adamw_torch_fused for torch >= 2.8 (default_optim).
    optim_name = str(tr.get("optim", DEFAULT_OPTIM) or DEFAULT_OPTIM)
    try:
        optimizer = optimizer_kind(optim_name)
    except ValueError as exc:
        issues.append(loaded.issue("training.optim", str(exc)))
        optimizer = "adamw"
    batch = _positive_int(loaded, issues, "training.per_device_train_batch_size", tr, 8)
    accumulation = _positive_int(loaded, issues, "training.gradient_accumulation_steps", tr, 1)
    seq = spec.data.max_length if spec.data and spec.data.max_length else None
    if seq is None:
        # TRL's configs truncate to their own max_length (SFTConfig: 1024) when none is stated
        config_length = tr.get("max_length")
        ok = isinstance(config_length, int) and not isinstance(config_length, bool)
        seq = config_length if ok and config_length > 0 else DEFAULT_SEQ_LEN
    capacity, gpu, gpus_per_instance = _capacity(loaded, issues)
    compute = spec.compute
    distributed = compute.distributed if compute else "none"
    instances = compute.instance_count if compute else 1
    mixed: Literal["no", "fp16", "bf16"] = (
        "bf16" if tr.get("bf16") else ("fp16" if tr.get("fp16") else "no")
    )
    if spec.model.dtype in ("int8", "nf4") and spec.lora is None:
        issues.append(
            loaded.issue("model.dtype", f"{spec.model.dtype} weights can only be trained with LoRA")
        )
    if issues or arch is None:
        raise SpecError(issues)
    return TrainingSetup(
        arch=arch,
        batch_size=batch,
        seq_len=int(seq),
        weight_dtype=spec.model.dtype,
        mixed_precision=mixed,
        lora=lora,
        gradient_checkpointing=bool(tr.get("gradient_checkpointing", False)),
        optimizer=optimizer,
        attn_implementation=spec.model.attn_implementation,
        distributed=distributed,
        num_gpus=gpus_per_instance * instances,
        capacity_gib=capacity,
        gpu_name=gpu,
        gradient_accumulation_steps=accumulation,
        double_quant=bool(spec.model.bnb_4bit_use_double_quant),
        packed=bool(spec.data.packing) if spec.data else False,
        kbit_upcast=bool(spec.model.prepare_model_for_kbit_training),
    )


def _positive_int(
    loaded: LoadedSpec, issues: list[SpecIssue], key: str, tr: Any, default: int
) -> int:
    value = tr.get(key.split(".", 1)[1], default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        issues.append(
            loaded.issue(key, f"must be a positive integer, got {shown_value(key, value)}")
        )
        return default
    return value


def plan_memory(loaded: LoadedSpec) -> tuple[MemoryPlan | None, str | None]:
    """(analytic MemoryPlan, None), or (None, why there is none) for preflight's Plan."""
    import memplan

    if loaded.spec.model is None:
        return None, "the spec names no model"
    try:
        setup = setup_from_spec(loaded)
    except SpecError as err:
        return None, "; ".join(f"{i.key}: {i.message}" for i in err.issues)
    return memplan.estimate(setup), None
