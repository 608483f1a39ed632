"""PF4xx: GPU memory, from memplan's analytic estimate (no torch, no GPU needed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..findings import Finding, Severity
from .base import Rule

if TYPE_CHECKING:
    from memplan.verdict import Verdict

    from ..plan import Plan


# The headroom rule is memplan's (memplan.verdict.judge), shared with `memplan estimate` and
# costmodel's feasibility rows: derived from published measurements
# (benchmarks/memplan/published.md). Evidence kept from before: the seed's failing start
# (Mistral-7B fp16, batch 2 x 512, LoRA q/k/v/o, no checkpointing) is estimated at over 97%
# of an A10G, and it died with a CUDA OOM on its first batch.
MEMPLAN_HINT = "memplan estimate SPEC --suggest"


def memory_json(plan: Plan) -> dict[str, Any] | None:
    """The memory estimate as the DESIGN.md JSON object (``MemoryPlan.to_json()``), or None."""
    mem = plan.memory
    if mem is None:
        return None
    if isinstance(mem, dict):
        return mem
    to_json = getattr(mem, "to_json", None)
    return to_json() if callable(to_json) else None


def memory_verdict(plan: Plan) -> Verdict | None:
    """memplan's verdict for the plan's memory estimate (the one the whole toolkit uses)."""
    from memplan.constants import GIB
    from memplan.plan import MemoryPlan
    from memplan.verdict import judge

    mem = plan.memory
    if mem is None:
        return None
    if isinstance(mem, MemoryPlan):
        return judge(mem)
    data = memory_json(plan)
    if not data or data.get("capacity_gib") is None:
        return None
    return judge(
        float(data.get("peak_gib") or 0.0) * GIB,
        float(data["capacity_gib"]),
        breakdown=dict(data.get("breakdown_gib") or {}),
    )


def biggest_terms(breakdown: dict[str, Any], n: int = 3) -> str:
    """The ``n`` largest terms of a breakdown, e.g. ``activations 14.2, weights 13.5``."""
    terms = [(k, float(v)) for k, v in breakdown.items() if isinstance(v, int | float)]
    terms.sort(key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v:.1f}" for k, v in terms[:n])


def spread_over_gpus(plan: Plan) -> int | None:
    """GPUs a ``device_map="auto"`` load spreads the model over, when more than one.

    memplan estimates one GPU holding the whole step; with a splitting device_map
    (readers' ``ReaderSpec.device_map``) each GPU holds a share of the layers, so the estimate
    is compared with the instance's memory in all (an approximation: the split is by layer and
    not even)."""
    if not getattr(plan.loaded, "device_map", None):
        return None
    from .frameworks import instance_gpu

    found = instance_gpu(plan)
    if found is None or found[1] <= 1:
        return None
    return found[1]


class OutOfGpuMemory(Rule):
    """
    What it does:
    Compares memplan's peak estimate for one training step (weights, gradients, optimizer
    states, activations, CUDA context) with the GPU memory of `compute.instance_type` (or
    `compute.gpu_memory_gib`), and treats a step as not fitting unless memplan's headroom rule
    is met: 5% free plus 12% of the share of the peak that grows with tokens (derived from
    published measurements, benchmarks/memplan/published.md). When the script loads the
    model with a splitting `device_map` ("auto", ...), the whole-model estimate is compared
    with the instance's GPUs in all, and PF402 stays silent.

    Why is this bad?
    The job pays for instance start-up, image pull and data download, then dies with
    `CUDA out of memory` at the first step, or worse at the first long batch hours later.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
      dtype: float16
    training:
      per_device_train_batch_size: 16
    data:
      max_length: 2048
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
      dtype: float16
    lora:
      r: 16
      target_modules: [q_proj, v_proj]
    training:
      per_device_train_batch_size: 1
      gradient_accumulation_steps: 16
      gradient_checkpointing: true
    data:
      max_length: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    References:
    - memplan (this project): analytic memory model, `memplan estimate --suggest`
    - https://huggingface.co/docs/transformers/perf_train_gpu_one
    """

    id = "PF401"
    name = "out-of-gpu-memory"
    severity = Severity.ERROR
    title = "The training step does not fit in GPU memory"
    fix = f"Run `{MEMPLAN_HINT}` for settings that fit."
    source_url = "https://huggingface.co/docs/transformers/perf_train_gpu_one"
    requires = ("memory",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        mem = memory_json(plan) or {}
        judged = memory_verdict(plan)
        if judged is None or judged.fits is not False:
            return
        peak, cap = judged.peak_gib, float(judged.capacity_gib or 0.0)
        free = judged.free_share or 0.0
        terms = biggest_terms(mem.get("breakdown_gib") or {})
        gpu = plan.spec.compute.instance_type if plan.spec.compute else "the GPU"
        spread = spread_over_gpus(plan)
        if spread is not None:
            where = getattr(plan.loaded, "device_map", "")
            if peak <= spread * cap:
                return  # memplan's one-GPU peak, spread by device_map over the instance's GPUs
            yield self.finding(
                "training.per_device_train_batch_size",
                f"estimated peak {peak:.1f} GiB (for the whole model) exceeds even the "
                f"{spread} x {cap:.1f} GiB of {gpu}'s GPUs that {where} spreads it over "
                f"(largest: {terms} GiB)",
            )
            return
        if peak > cap:
            verdict = f"exceeds the {cap:.1f} GiB of {gpu}"
        else:
            verdict = (
                f"leaves only {free:.1%} of the {cap:.1f} GiB of {gpu} free, under the "
                f"{judged.headroom:.0%} memplan's measured error needs"
            )
        yield self.finding(
            "training.per_device_train_batch_size",
            f"estimated peak {peak:.1f} GiB per GPU {verdict} "
            f"(largest: {terms} GiB); `{MEMPLAN_HINT}` finds settings that fit",
            fix=(
                f"Run `memplan estimate {plan.loaded.path} --suggest` for settings that fit: "
                "lower per_device_train_batch_size or max_length, enable "
                "gradient_checkpointing, use LoRA/QLoRA, or a larger GPU."
            ),
        )


class LowGpuMemoryHeadroom(Rule):
    """
    What it does:
    Warns when memplan's peak estimate meets its headroom rule by less than 5 points of the
    GPU's memory (below the rule, PF401 reports the step as not fitting).

    Why is this bad?
    The estimate is for an average step; allocator fragmentation, the longest batch of the
    dataset and evaluation can add a few percent. A plan that fits with little headroom tends
    to OOM hours into the run, after the money is spent.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
      dtype: float16
    lora:
      r: 16
      target_modules: [q_proj, v_proj]
    training:
      per_device_train_batch_size: 1
      fp16: true
    data:
      max_length: 900
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
      dtype: float16
    lora:
      r: 16
      target_modules: [q_proj, v_proj]
    training:
      per_device_train_batch_size: 1
      fp16: true
      gradient_checkpointing: true
    data:
      max_length: 900
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    References:
    - memplan (this project): analytic memory model and its measured accuracy
    """

    id = "PF402"
    name = "low-gpu-memory-headroom"
    severity = Severity.WARNING
    title = "Little GPU memory left beyond memplan's headroom rule"
    fix = f"Lower the batch size or sequence length a notch; `{MEMPLAN_HINT}` shows options."
    source_url = "https://pytorch.org/docs/stable/notes/cuda.html#memory-management"
    requires = ("memory",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        mem = memory_json(plan) or {}
        judged = memory_verdict(plan)
        if judged is None or judged.fits is not True or not judged.tight:
            return  # not fitting is PF401's
        if spread_over_gpus(plan) is not None:
            return  # a one-GPU peak spread over several GPUs: not tight on any of them
        peak, cap = judged.peak_gib, float(judged.capacity_gib or 0.0)
        free = judged.free_share or 0.0
        yield self.finding(
            "training.per_device_train_batch_size",
            f"estimated peak {peak:.1f} GiB leaves {free:.1%} of {cap:.1f} GiB free "
            f"(under {judged.comfort:.0%}); largest: {biggest_terms(mem.get('breakdown_gib') or {})}"
            " GiB",
        )
