"""PF7xx: frameworks and distributed training: DeepSpeed, FSDP, GPU generations, multi-GPU."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..findings import Finding, Severity
from ..gpu_support import AMPERE, COMPUTE_CAPABILITY, bf16_problems, bf16_uses
from .base import Rule
from .sync import training_value

if TYPE_CHECKING:
    from ..plan import Plan

# COMPUTE_CAPABILITY, AMPERE and the bf16 predicate live in preflight.gpu_support, shared with
# costmodel compare (preflight.cost), so the rule and the cost table judge alike.
_SHARED = (AMPERE, COMPUTE_CAPABILITY)  # re-exported for older imports


def instance_gpu(plan: Plan) -> tuple[str, int] | None:
    """(GPU name, GPUs per instance) of compute.instance_type from costmodel's catalog."""
    c = plan.spec.compute
    if c is None or not c.instance_type:
        return None
    try:
        import costmodel

        inst = costmodel.load_catalog().instance(c.instance_type)
    except (ImportError, AttributeError, ValueError):
        return None
    return str(inst.gpu), int(inst.gpu_count)


class Zero3WithLora(Rule):
    """
    What it does:
    Flags DeepSpeed ZeRO-3 (`compute.distributed: zero3`) combined with a `lora:` section.

    Why is this bad?
    Under ZeRO-3 the adapter weights are partitioned across ranks; unless the save gathers them,
    peft writes an `adapter_model.safetensors` with empty tensors (a 40-byte file), and every
    checkpoint of the run is unusable. The failure shows only when someone loads the adapter.

    Example:
    ```yaml
    lora:
      r: 16
    compute:
      provider: sagemaker
      instance_type: ml.p4d.24xlarge
      distributed: zero3
    ```

    Use instead:
    ```yaml
    lora:
      r: 16
    compute:
      provider: sagemaker
      instance_type: ml.p4d.24xlarge
      distributed: zero2
    ```

    References:
    - huggingface/peft#2892, huggingface/trl#4416, deepspeedai/DeepSpeed#7900 (empty adapters)
    """

    id = "PF701"
    name = "zero3-with-lora"
    severity = Severity.WARNING
    title = "DeepSpeed ZeRO-3 with LoRA can save empty adapters"
    fix = (
        "Use zero2 (LoRA's trainable state is small), or set "
        "stage3_gather_16bit_weights_on_model_save and check adapter sizes after the first save."
    )
    source_url = "https://github.com/huggingface/peft/issues/2892"
    requires = ("compute",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        c = plan.spec.compute
        if c is None or c.distributed != "zero3" or plan.spec.lora is None:
            return
        yield self.finding(
            "compute.distributed",
            "ZeRO-3 partitions the LoRA weights across ranks: checkpoints can hold empty "
            "adapter tensors unless 16-bit weights are gathered on save",
        )


class Bf16WithoutHardwareSupport(Rule):
    """
    What it does:
    Flags `bf16: true` (or a bfloat16 model dtype) on an instance whose GPU predates Ampere
    (T4 on g4dn, V100 on p3), which has no bfloat16 support.

    Why is this bad?
    TrainingArguments raises "Your setup doesn't support bf16/gpu" when the job starts; loading
    bfloat16 weights on those GPUs falls back to slow emulation where it works at all.

    Example:
    ```yaml
    training:
      bf16: true
    compute:
      provider: sagemaker
      instance_type: ml.g4dn.xlarge
    ```

    Use instead:
    ```yaml
    training:
      fp16: true
    compute:
      provider: sagemaker
      instance_type: ml.g4dn.xlarge
    ```

    References:
    - transformers training_args.py `__post_init__` (bf16 device check)
    - https://developer.nvidia.com/cuda-gpus (compute capability by GPU)
    """

    id = "PF702"
    name = "bf16-without-hardware-support"
    severity = Severity.ERROR
    title = "bfloat16 on a GPU without bfloat16 support"
    fix = "Use fp16 (and model.dtype: float16), or an Ampere or newer GPU (g5, g6, p4d, p5)."
    source_url = "https://developer.nvidia.com/cuda-gpus"
    requires = ("instance",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        found = instance_gpu(plan)
        if found is None:
            return
        gpu, _ = found
        for key, message in bf16_problems(gpu, *bf16_uses(plan)):
            if key == "model.dtype":
                yield self.finding(key, message, fix="Set model.dtype: float16.")
            else:
                yield self.finding(key, message)


class FlashAttentionUnsupportedGpu(Rule):
    """
    What it does:
    Flags `model.attn_implementation: flash_attention_2` on a GPU older than Ampere.

    Why is this bad?
    FlashAttention-2 kernels exist only for compute capability 8.0 and newer; the model fails to
    load on a T4 or V100, after the job has started.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
      attn_implementation: flash_attention_2
    compute:
      provider: sagemaker
      instance_type: ml.g4dn.xlarge
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
      attn_implementation: sdpa
    compute:
      provider: sagemaker
      instance_type: ml.g4dn.xlarge
    ```

    References:
    - https://github.com/Dao-AILab/flash-attention (supported GPUs)
    """

    id = "PF703"
    name = "flash-attention-unsupported-gpu"
    severity = Severity.ERROR
    title = "FlashAttention-2 on a GPU older than Ampere"
    fix = "Use attn_implementation: sdpa, or an Ampere or newer GPU."
    source_url = "https://github.com/Dao-AILab/flash-attention"
    requires = ("model", "instance")

    def check(self, plan: Plan) -> Iterator[Finding]:
        model = plan.spec.model
        found = instance_gpu(plan)
        if model is None or found is None or model.attn_implementation != "flash_attention_2":
            return
        gpu, _ = found
        cc = COMPUTE_CAPABILITY.get(gpu)
        if cc is None or cc >= AMPERE:
            return
        yield self.finding(
            "model.attn_implementation",
            f"flash_attention_2 needs compute capability 8.0+, {gpu} has {cc:g}: the model "
            "fails to load",
        )


class MultiGpuWithoutDistribution(Rule):
    """
    What it does:
    Flags an instance with several GPUs while `compute.distributed` is "none".

    Why is this bad?
    Launched as a plain `python train.py`, Trainer wraps the model in `torch.nn.DataParallel`:
    one process drives every GPU, the first GPU holds the extra activations and gradients, and
    throughput falls well short of what the instance costs. With `distributed` set, trainjob
    launches one process per GPU (DDP, FSDP or DeepSpeed).

    Example:
    ```yaml
    compute:
      provider: sagemaker
      instance_type: ml.g5.12xlarge
    ```

    Use instead:
    ```yaml
    compute:
      provider: sagemaker
      instance_type: ml.g5.12xlarge
      distributed: ddp
    ```

    Not flagged: a model loaded with `device_map="auto"` (or "balanced", "sequential") in the
    script, as QLoRA scripts of large models do. It is spread over the GPUs in one process;
    Trainer sees `hf_device_map` on several devices, sets `is_model_parallel` and `n_gpu = 1`,
    and wraps nothing in DataParallel.

    References:
    - transformers trainer.py `_wrap_model` (nn.DataParallel when n_gpu > 1); Trainer
      `__init__` (`is_model_parallel` from `hf_device_map`, then `args._n_gpu = 1`; 5.24)
    - https://pytorch.org/docs/stable/notes/cuda.html#use-nn-parallel-distributeddataparallel-instead-of-multiprocessing-or-nn-dataparallel
    """

    id = "PF704"
    name = "multi-gpu-without-distribution"
    severity = Severity.WARNING
    title = "Several GPUs but no distributed launcher"
    fix = "Set compute.distributed: ddp (or fsdp / zero2), or use a single-GPU instance."
    source_url = "https://pytorch.org/docs/stable/notes/cuda.html"
    requires = ("instance",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        c = plan.spec.compute
        found = instance_gpu(plan)
        if c is None or found is None or c.distributed != "none":
            return
        gpu, count = found
        if count <= 1:
            return
        if getattr(plan.loaded, "device_map", None):
            return  # one process, the model spread over the GPUs: Trainer sets n_gpu = 1
        yield self.finding(
            "compute.distributed",
            f"{c.instance_type} has {count} {gpu} GPUs but distributed is none: Trainer falls "
            "back to nn.DataParallel in one process",
        )


class SaveOnlyModelWithShardedBestModel(Rule):
    """
    What it does:
    Flags `save_only_model: true` with `load_best_model_at_end: true` under FSDP or DeepSpeed
    (`compute.distributed` fsdp or zero1/2/3).

    Why is this bad?
    Trainer refuses the combination when it is constructed ("can't be used with
    `save_only_model` along with `load_best_model_at_end`"): the sharded model cannot be
    reloaded from weights alone. The error comes after the instances have started.

    Example:
    ```yaml
    training:
      save_only_model: true
      load_best_model_at_end: true
    compute:
      provider: sagemaker
      instance_type: ml.p4d.24xlarge
      distributed: fsdp
    ```

    Use instead:
    ```yaml
    training:
      save_only_model: false
      load_best_model_at_end: true
    compute:
      provider: sagemaker
      instance_type: ml.p4d.24xlarge
      distributed: fsdp
    ```

    References:
    - transformers trainer.py `Trainer.__init__` (save_only_model with DeepSpeed/FSDP)
    """

    id = "PF705"
    name = "save-only-model-with-sharded-best-model"
    severity = Severity.ERROR
    title = "save_only_model with load_best_model_at_end under FSDP or DeepSpeed"
    fix = "Set save_only_model: false, or load_best_model_at_end: false."
    source_url = "https://github.com/huggingface/transformers/blob/main/src/transformers/trainer.py"
    requires = ("compute",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        c = plan.spec.compute
        if c is None or c.distributed in ("none", "ddp"):
            return
        if not bool(training_value(plan, "save_only_model", False)):
            return
        if not bool(training_value(plan, "load_best_model_at_end", False)):
            return
        wrapper = "FSDP" if c.distributed == "fsdp" else "DeepSpeed"
        yield self.finding(
            "training.save_only_model",
            f"{wrapper} with save_only_model and load_best_model_at_end: Trainer raises a "
            "ValueError at start",
        )
