"""Exact parameter counts, including the trainable count of LoRA for any ``target_modules``.

The counting follows what ``transformers`` builds and what ``peft`` injects: a LoRA adapter on a
linear layer ``in -> out`` adds ``r * (in + out)`` parameters (A is ``r x in``, B is ``out x r``);
on an embedding it adds ``r * (vocab + hidden)``. A target matches a module whose dotted name is
the target or ends with ``"." + target`` (peft's rule), and ``"all-linear"`` means every linear
layer except the LM head.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal

from memplan.architecture import Architecture


@dataclass(frozen=True)
class LoraSetup:
    """The LoRA adapter: rank, target module names, dropout (dropout > 0 keeps extra activations).

    ``use_dora`` adds peft's DoRA magnitude vector (one trainable value per output feature of
    each targeted layer). ``modules_to_save`` names modules peft trains in full as copies
    (``lm_head``, ``embed_tokens``, ``norm``): the copy, its gradient and its optimizer state.
    ``bias`` is peft's option: ``all`` trains every bias, ``lora_only`` the biases of targeted
    layers.
    """

    r: int = 8
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    alpha: float = 16.0
    dropout: float = 0.0
    use_dora: bool = False
    modules_to_save: tuple[str, ...] = ()
    bias: Literal["none", "all", "lora_only"] = "none"

    def __post_init__(self) -> None:
        if self.bias not in ("none", "all", "lora_only"):
            raise ValueError(f"LoRA bias must be none, all or lora_only, got {self.bias!r}")
        if self.r <= 0:
            raise ValueError(f"LoRA rank r must be positive, got {self.r}")
        if not self.target_modules:
            raise ValueError("LoRA target_modules is empty")


@dataclass(frozen=True)
class ModuleCount:
    """Parameters of one kind of module summed over all layers."""

    name: str
    count: int
    params: int
    lora_params: int = 0


@dataclass(frozen=True)
class ParamCounts:
    """Total and trainable parameter counts with per-module detail."""

    total: int
    trainable: int
    base: int
    lora: int
    embedding: int
    lm_head: int
    norms: int
    layer_linear: int
    modules: list[ModuleCount] = field(default_factory=list)
    lora_targets: tuple[str, ...] = ()

    @property
    def trainable_percent(self) -> float:
        """Trainable share of all parameters, as peft's print_trainable_parameters prints it."""
        return 100.0 * self.trainable / self.total if self.total else 0.0


def _matches(module_name: str, target: str) -> bool:
    return module_name == target or module_name.endswith("." + target)


def lora_target_names(arch: Architecture) -> list[str]:
    """Module names LoRA can target in this architecture (for messages and suggestions)."""
    return [lin.name for lin in arch.layer_linears()] + ["lm_head", "embed_tokens"]


def resolve_lora_targets(arch: Architecture, targets: tuple[str, ...]) -> tuple[str, ...]:
    """The linear-layer names ``targets`` select; raises ValueError naming targets that match none.

    peft raises as soon as one target list matches nothing; here every unmatched target is an
    error with a suggestion, because a silent mismatch (``q_proj`` on Phi-3's fused ``qkv_proj``)
    trains a different adapter than the one planned.
    """
    names = lora_target_names(arch)
    if "all-linear" in targets:
        return tuple(lin.name for lin in arch.layer_linears())
    full_names = {n: f"model.layers.0.{'self_attn' if 'proj' in n else 'mlp'}.{n}" for n in names}
    full_names["lm_head"] = "lm_head"
    full_names["embed_tokens"] = "model.embed_tokens"
    chosen: list[str] = []
    unmatched: list[str] = []
    for target in targets:
        hit = [n for n in names if _matches(full_names[n], target) or n == target]
        if hit:
            chosen.extend(h for h in hit if h not in chosen)
        else:
            unmatched.append(target)
    if unmatched:
        hints = []
        for t in unmatched:
            close = difflib.get_close_matches(t, names, n=2, cutoff=0.4)
            hints.append(f"{t!r}" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
        raise ValueError(
            f"LoRA target_modules {', '.join(hints)} match no module of {arch.name} "
            f"(its modules: {', '.join(names)})"
        )
    return tuple(chosen)


def saved_module_params(arch: Architecture, lora: LoraSetup) -> int:
    """Parameters of peft's ``modules_to_save`` copies (trained in full, next to the original)."""
    n_layers, h = arch.num_hidden_layers, arch.hidden_size
    total = 0
    for name in lora.modules_to_save:
        if name in ("lm_head", "embed_tokens"):
            total += arch.vocab_size * h
        elif name in ("norm", "model.norm"):
            total += h
        else:
            hit = [lin for lin in arch.layer_linears() if _matches(lin.name, name)]
            if not hit:
                raise ValueError(
                    f"lora.modules_to_save {name!r} matches no module memplan models "
                    "(lm_head, embed_tokens, norm or a linear layer name)"
                )
            total += sum(lin.params for lin in hit) * n_layers
    return total


def lora_extra_params(arch: Architecture, lora: LoraSetup, targets: tuple[str, ...]) -> int:
    """Trainable parameters beyond A and B: DoRA magnitudes, trained biases, saved modules."""
    n_layers = arch.num_hidden_layers
    extra = 0
    for lin in arch.layer_linears():
        if lin.name in targets and lora.use_dora:
            extra += lin.out_features * n_layers  # DoRA magnitude, one per output feature
    return extra + saved_module_params(arch, lora)


def trained_bias_params(arch: Architecture, lora: LoraSetup | None) -> int:
    """Base biases peft unfreezes for ``bias="all"`` or ``"lora_only"``."""
    if lora is None or lora.bias == "none":
        return 0
    targets = resolve_lora_targets(arch, lora.target_modules)
    return arch.num_hidden_layers * sum(
        lin.out_features
        for lin in arch.layer_linears()
        if lin.bias and (lora.bias == "all" or lin.name in targets)
    )


def count_params(arch: Architecture, lora: LoraSetup | None = None) -> ParamCounts:
    """Exact parameter counts of ``arch`` (with LoRA adapters when ``lora`` is given).

    Without LoRA every parameter is trainable (full fine-tuning).
    """
    n_layers = arch.num_hidden_layers
    h = arch.hidden_size
    embedding = arch.vocab_size * h
    lm_head = 0 if arch.tie_word_embeddings else arch.vocab_size * h
    norms = (arch.norms_per_layer * n_layers + 1) * h
    targets = resolve_lora_targets(arch, lora.target_modules) if lora else ()
    modules: list[ModuleCount] = []
    layer_linear = 0
    lora_total = 0
    for lin in arch.layer_linears():
        adapter = (
            lora.r * (lin.in_features + lin.out_features) if lora and lin.name in targets else 0
        )
        modules.append(ModuleCount(lin.name, n_layers, lin.params * n_layers, adapter * n_layers))
        layer_linear += lin.params * n_layers
        lora_total += adapter * n_layers
    embed_lora = lora.r * (arch.vocab_size + h) if lora and "embed_tokens" in targets else 0
    head_lora = lora.r * (h + arch.vocab_size) if lora and "lm_head" in targets else 0
    modules.append(ModuleCount("embed_tokens", 1, embedding, embed_lora))
    modules.append(ModuleCount("lm_head", 1, lm_head, head_lora))
    modules.append(ModuleCount("norm", arch.norms_per_layer * n_layers + 1, norms))
    lora_total += embed_lora + head_lora
    extra = lora_extra_params(arch, lora, targets) if lora else 0
    lora_total += extra
    base = embedding + lm_head + norms + layer_linear
    total = base + lora_total
    return ParamCounts(
        total=total,
        trainable=lora_total + trained_bias_params(arch, lora) if lora else base,
        base=base,
        lora=lora_total,
        embedding=embedding,
        lm_head=lm_head,
        norms=norms,
        layer_linear=layer_linear,
        modules=modules,
        lora_targets=targets,
    )
