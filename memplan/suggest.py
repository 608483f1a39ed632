"""``--suggest``: the fastest setting that fits, keeping the effective batch size.

The search is exhaustive over a small grid (a few thousand analytic estimates, milliseconds):
micro-batch size (gradient accumulation grows to keep ``batch x accumulation``), gradient
checkpointing, maximum length, LoRA targets and rank, 4-bit weights, and an 8-bit optimizer for
full fine-tuning. Each candidate that fits with the headroom asked is scored by a relative
throughput model, and by how much it changes the training itself:

- throughput: tokens per step over compute per token; a micro-batch of fewer tokens uses the
  GPU less well (``tokens / (tokens + SATURATION_TOKENS)``), checkpointing recomputes the
  forward pass (compute x 4/3 for full fine-tuning, x 3/2 for LoRA, whose backward is cheaper),
  4-bit weights are dequantized at every matmul;
- changes to the training: truncating to a shorter length loses tokens (score x new/old
  length), fewer LoRA targets or a lower rank train a smaller adapter, 4-bit weights and 8-bit
  states change numerics; each multiplies the score by a named factor below.

The factors are stated, not measured on a GPU here; the ranking they give is the one a
practitioner applies by hand (first checkpointing and smaller micro-batches, then 4-bit or
fewer targets, last a shorter context).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from memplan.analytic import estimate
from memplan.params import LoraSetup, resolve_lora_targets
from memplan.plan import MemoryPlan
from memplan.setup import TrainingSetup
from memplan.verdict import judge

SATURATION_TOKENS = 1024
CHECKPOINT_COST_FULL = 4 / 3
CHECKPOINT_COST_LORA = 3 / 2
NF4_DEQUANT_COST = 1.25
FEWER_TARGETS_FACTOR = 0.9
LOWER_RANK_FACTOR = 0.95
NF4_QUALITY_FACTOR = 0.9
ADAM8BIT_QUALITY_FACTOR = 0.97


@dataclass(frozen=True)
class Suggestion:
    """One setting that fits, what changed from the input, and its score (higher is better)."""

    setup: TrainingSetup
    plan: MemoryPlan
    changes: tuple[str, ...]
    relative_speed: float
    score: float


def relative_speed(setup: TrainingSetup) -> float:
    """Tokens per second relative to an ideal, saturated, uncheckpointed 16-bit step."""
    tokens = setup.tokens
    utilisation = tokens / (tokens + SATURATION_TOKENS)
    cost = 1.0
    if setup.gradient_checkpointing:
        cost *= CHECKPOINT_COST_LORA if setup.lora else CHECKPOINT_COST_FULL
    if setup.weight_dtype == "nf4":
        cost *= NF4_DEQUANT_COST
    return utilisation / cost


def _halvings(value: int, floor: int) -> list[int]:
    out = [value]
    while out[-1] // 2 >= floor:
        out.append(out[-1] // 2)
    return out


def _lora_options(setup: TrainingSetup) -> list[tuple[LoraSetup | None, list[str], float]]:
    lora = setup.lora
    if lora is None:
        return [(None, [], 1.0)]
    options: list[tuple[LoraSetup | None, list[str], float]] = [(lora, [], 1.0)]
    targets = resolve_lora_targets(setup.arch, lora.target_modules)
    attn = [t for t in targets if t in ("q_proj", "v_proj")] or list(targets[:1])
    if len(targets) > len(attn):
        fewer = LoraSetup(lora.r, tuple(attn), lora.alpha, lora.dropout)
        options.append((fewer, [f"LoRA targets {','.join(attn)}"], FEWER_TARGETS_FACTOR))
    if lora.r > 8:
        low = LoraSetup(8, lora.target_modules, lora.alpha, lora.dropout)
        options.append((low, ["LoRA r=8"], LOWER_RANK_FACTOR))
    return options


def suggest(
    setup: TrainingSetup, headroom: float | None = None, limit: int = 5
) -> list[Suggestion]:
    """Settings that fit ``setup``'s GPU, best first: memplan's verdict (:func:`judge`) with
    its headroom rule, or with ``headroom`` free when given.

    Returns an empty list when capacity is unknown or nothing in the grid fits.
    """
    if setup.capacity_gib is None:
        return []
    effective = setup.batch_size * setup.gradient_accumulation_steps
    batches = _halvings(setup.batch_size, 1)
    lengths = [n for n in _halvings(setup.seq_len, 128) if n >= min(128, setup.seq_len)]
    dtypes = [setup.weight_dtype]
    if setup.lora is not None and setup.weight_dtype != "nf4":
        dtypes.append("nf4")
    optimizers = [setup.optimizer]
    if setup.lora is None and setup.optimizer in ("adamw", "adamw_foreach"):
        optimizers.append("adamw_8bit")
    found: list[Suggestion] = []
    for batch in batches:
        accumulation = max(1, math.ceil(effective / batch))
        for length in lengths:
            for ckpt in sorted({setup.gradient_checkpointing, True}):
                for lora, lora_changes, lora_factor in _lora_options(setup):
                    for dtype in dtypes:
                        for optim in optimizers:
                            cand = setup.with_(
                                batch_size=batch,
                                gradient_accumulation_steps=accumulation,
                                seq_len=length,
                                gradient_checkpointing=ckpt,
                                lora=lora,
                                weight_dtype=dtype,
                                optimizer=optim,
                            )
                            plan = estimate(cand)
                            if not judge(plan, headroom=headroom).fits:
                                continue
                            changes = _describe(setup, cand) + lora_changes
                            speed = relative_speed(cand)
                            score = speed * lora_factor * (length / setup.seq_len)
                            if dtype == "nf4" and setup.weight_dtype != "nf4":
                                score *= NF4_QUALITY_FACTOR
                            if optim == "adamw_8bit" and setup.optimizer != "adamw_8bit":
                                score *= ADAM8BIT_QUALITY_FACTOR
                            found.append(Suggestion(cand, plan, tuple(changes), speed, score))
    found.sort(key=lambda s: (-s.score, s.plan.peak_bytes))
    # A candidate that adds changes to a better one that already fits is no news.
    kept: list[Suggestion] = []
    for option in found:
        if not any(set(k.changes) < set(option.changes) for k in kept):
            kept.append(option)
    return kept[:limit]


def _describe(old: TrainingSetup, new: TrainingSetup) -> list[str]:
    changes: list[str] = []
    if new.batch_size != old.batch_size:
        changes.append(
            f"per_device_train_batch_size {old.batch_size} -> {new.batch_size}, "
            f"gradient_accumulation_steps {old.gradient_accumulation_steps} -> "
            f"{new.gradient_accumulation_steps}"
        )
    if new.seq_len != old.seq_len:
        changes.append(f"max_length {old.seq_len} -> {new.seq_len}")
    if new.gradient_checkpointing != old.gradient_checkpointing:
        changes.append("gradient_checkpointing true")
    if new.weight_dtype != old.weight_dtype:
        changes.append(f"model.dtype {old.weight_dtype} -> {new.weight_dtype} (QLoRA)")
    if new.optimizer != old.optimizer:
        changes.append(f"optim -> {new.optimizer}")
    return changes
