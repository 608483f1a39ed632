"""What a GPU generation can run: the one predicate PF702 and ``costmodel compare`` share.

A job that asks for bfloat16 on a GPU without it fails at start (TrainingArguments raises); the
rule reports it for the spec's instance and the cost comparison marks every such row "does not
fit", so both say the same thing from the same code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plan import Plan

#: CUDA compute capability of the catalog's GPUs (and older ones SageMaker still rents).
#: bf16 and FlashAttention-2 need 8.0 (Ampere) or newer. Source: NVIDIA CUDA GPUs table
#: (developer.nvidia.com/cuda-gpus); FlashAttention README "Ampere, Ada, or Hopper GPUs".
COMPUTE_CAPABILITY: dict[str, float] = {
    "K80": 3.7,
    "M60": 5.2,
    "V100": 7.0,
    "T4": 7.5,
    "A10G": 8.6,
    "L4": 8.9,
    "L40S": 8.9,
    "A100-40GB": 8.0,
    "A100-80GB": 8.0,
    "H100": 9.0,
    "H200": 9.0,
}
AMPERE = 8.0


def bf16_problems(gpu: str, bf16_training: bool, bf16_weights: bool) -> list[tuple[str, str]]:
    """(spec key, message) for each bfloat16 use ``gpu`` cannot run; empty when it can.

    ``bf16_training`` is ``training.bf16``; ``bf16_weights`` is a stated
    ``model.dtype: bfloat16``.  An unknown GPU is given the benefit of the doubt.
    """
    cc = COMPUTE_CAPABILITY.get(gpu)
    if cc is None or cc >= AMPERE:
        return []
    out: list[tuple[str, str]] = []
    if bf16_training:
        out.append(
            (
                "training.bf16",
                f"bf16 on {gpu} (compute capability {cc:g}, no bfloat16): TrainingArguments "
                "raises at start",
            )
        )
    if bf16_weights:
        out.append(
            (
                "model.dtype",
                f"bfloat16 weights on {gpu} (compute capability {cc:g}), which has no bfloat16",
            )
        )
    return out


def bf16_uses(plan: Plan) -> tuple[bool, bool]:
    """(``training.bf16`` is on, ``model.dtype: bfloat16`` is stated) for :func:`bf16_problems`."""
    value = plan.spec.training.get("bf16", False)
    model = plan.spec.model
    weights = model is not None and model.dtype == "bfloat16" and plan.stated("model.dtype")
    return bool(value), bool(weights)
