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
from memplan.inventory import Module


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
    #: Parameters of the nn.Linear layers bitsandbytes quantizes (all but the output layer);
    #: None means all of ``layer_linear``. Fused MoE expert tensors, routers and other
    #: parameters are not nn.Linear: with int8/nf4 they stay in the compute dtype.
    quantizable: int | None = None

    @property
    def trainable_percent(self) -> float:
        """Trainable share of all parameters, as peft's print_trainable_parameters prints it."""
        return 100.0 * self.trainable / self.total if self.total else 0.0


def _matches(module_name: str, target: str) -> bool:
    return module_name == target or module_name.endswith("." + target)


def lora_target_names(arch: Architecture) -> list[str]:
    """Module names LoRA can target in this architecture (for messages and suggestions)."""
    if arch.inventory is not None:
        mods = arch.inventory.of_kind("linear", "embedding")
        return list(dict.fromkeys(m.short for m in mods))
    return [lin.name for lin in arch.layer_linears()] + ["lm_head", "embed_tokens"]


#: peft's renaming of MoE LoRA targets under transformers 5, whose experts are fused tensors
#: (peft/utils/transformers_weight_conversion.py, ``_MOE_TARGET_MODULE_MAPPING`` and
#: ``_MOE_FUSED_TARGETS``): old module name -> parameter it adapts, and the names fused into one
#: parameter (adapted with rank r times their number, and only all together).
PEFT_MOE_TARGETS: dict[str, dict[str, str]] = {
    "mixtral": {
        "gate": "gate.weight",
        "w1": "gate_up_proj",
        "w3": "gate_up_proj",
        "w2": "down_proj",
    },
    "qwen2_moe": {
        "gate": "gate.weight",
        "gate_proj": "gate_up_proj",
        "up_proj": "gate_up_proj",
        "down_proj": "down_proj",
    },
}
PEFT_MOE_FUSED: dict[str, dict[str, tuple[str, ...]]] = {
    "mixtral": {"gate_up_proj": ("w1", "w3")},
    "qwen2_moe": {"gate_up_proj": ("gate_proj", "up_proj")},
}


@dataclass(frozen=True)
class _ParamTarget:
    """A fused expert tensor or router weight peft adapts directly, with its rank multiplier."""

    module: Module
    shape: tuple[int, ...]
    rank_factor: int

    def lora_params(self, r: int) -> int:
        rank = r * self.rank_factor
        if len(self.shape) == 3:  # (experts, out, in): one adapter pair per expert
            return rank * self.shape[0] * (self.shape[1] + self.shape[2])
        return rank * sum(self.shape[-2:])


def _moe_conversion(arch: Architecture, names: list[str]) -> tuple[list[str], list[_ParamTarget]]:
    """peft's MoE target conversion: (module targets left, parameter targets)."""
    assert arch.inventory is not None
    family = str(arch.inventory.dims.get("peft_moe_family", ""))
    mapping = PEFT_MOE_TARGETS.get(family)
    if not mapping:
        return names, []
    left: list[str] = []
    wanted: set[str] = set()
    seen_old: dict[str, set[str]] = {}
    for target in names:
        hit = next(
            ((o, n) for o, n in mapping.items() if target == o or target.endswith("." + o)), None
        )
        if hit is None:
            left.append(target)
            continue
        wanted.add(hit[1])
        seen_old.setdefault(hit[1], set()).add(hit[0])
    factors: dict[str, int] = {}
    for fused, parts in PEFT_MOE_FUSED[family].items():
        got = seen_old.get(fused, set())
        if 0 < len(got) < len(parts):
            raise ValueError(
                f"LoRA target_modules {', '.join(sorted(got))} on {arch.name} need "
                f"{', '.join(sorted(set(parts) - got))} too: peft fuses them into {fused}"
            )
        factors[fused] = len(parts)
    params: list[_ParamTarget] = []
    for m in arch.inventory.modules:
        for pname, shape in m.param_shapes:
            full = f"{m.name}.{pname}"
            for t in wanted:
                if full == t or full.endswith("." + t):
                    params.append(_ParamTarget(m, shape, factors.get(t, 1)))
                    break
    return left, params


def _inventory_targets(
    arch: Architecture, targets: tuple[str, ...]
) -> tuple[list[Module], list[_ParamTarget]]:
    """The inventory modules (and MoE parameters) peft's LoRA would adapt for ``targets``.

    ``all-linear`` is every linear layer but the output layer (peft's
    ``_maybe_include_all_linear_layers``); a name matches a module whose dotted name is it or
    ends with ``"." + name``. For the MoE families peft converts, old expert and router names
    become parameter targets (see :data:`PEFT_MOE_TARGETS`). A target that names a module peft
    cannot wrap (a norm, a router it does not convert) is an error, as it is in peft.
    """
    assert arch.inventory is not None
    mods = arch.inventory.modules
    family = str(arch.inventory.dims.get("peft_moe_family", ""))
    if "all-linear" in targets:
        linear = [m for m in mods if m.kind == "linear" and not m.output]
        if not family:
            return linear, []
        names = list(dict.fromkeys(m.short for m in linear)) + list(PEFT_MOE_TARGETS[family])
        module_names, params = _moe_conversion(arch, names)
        return [m for m in linear if m.short in module_names], params
    module_names, params = _moe_conversion(arch, list(targets))
    chosen: list[Module] = []
    unmatched: list[str] = []
    unsupported: list[str] = []
    for target in module_names:
        hit = [m for m in mods if _matches(m.example, target) or _matches(m.name, target)]
        if not hit:
            unmatched.append(target)
            continue
        bad = [m for m in hit if m.kind not in ("linear", "embedding")]
        if bad:
            unsupported.extend(f"{target!r} ({m.cls} at {m.name})" for m in bad)
        chosen.extend(m for m in hit if m not in chosen and m.kind in ("linear", "embedding"))
    names = lora_target_names(arch)
    problems = []
    if unmatched:
        hints = []
        for t in unmatched:
            close = difflib.get_close_matches(t, names, n=2, cutoff=0.4)
            hints.append(f"{t!r}" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
        problems.append(f"LoRA target_modules {', '.join(hints)} match no module of {arch.name}")
    if unsupported:
        problems.append(
            "LoRA cannot wrap " + ", ".join(unsupported) + " (peft supports linear and embedding"
            " layers)"
        )
    if problems:
        raise ValueError("; ".join(problems) + f" (its modules: {', '.join(names)})")
    return chosen, params


def parameter_targets(arch: Architecture, targets: tuple[str, ...]) -> list[str]:
    """The MoE parameters (not modules) peft's LoRA adapts directly for ``targets``.

    peft wraps these in ``lora.ParamWrapper``, which refuses ``lora_dropout != 0``, ``lora_bias``
    and ``fan_in_fan_out`` (peft tuners/lora/layer.py); empty for dense models and for models
    memplan only knows by a hand-written layout.
    """
    if arch.inventory is None:
        return []
    try:
        _modules, params = _inventory_targets(arch, targets)
    except ValueError:
        return []  # a bad target list is another rule's finding
    return list(dict.fromkeys(f"{p.module.name}" for p in params))


def resolve_lora_targets(arch: Architecture, targets: tuple[str, ...]) -> tuple[str, ...]:
    """The linear-layer names ``targets`` select; raises ValueError naming targets that match none.

    peft raises as soon as one target list matches nothing; here every unmatched target is an
    error with a suggestion, because a silent mismatch (``q_proj`` on Phi-3's fused ``qkv_proj``)
    trains a different adapter than the one planned.
    """
    if arch.inventory is not None:
        mods, params = _inventory_targets(arch, targets)
        return tuple(dict.fromkeys([m.short for m in mods] + [p.module.short for p in params]))
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
    if arch.inventory is not None:
        return _inventory_saved(arch, lora)
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
    if arch.inventory is not None:
        chosen, _ = _inventory_targets(arch, lora.target_modules)
        return sum(
            m.out_features * m.count
            for m in arch.inventory.modules
            if m.kind == "linear" and m.bias and (lora.bias == "all" or m in chosen)
        )
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
    if arch.inventory is not None:
        return _count_inventory(arch, lora)
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


def _inventory_saved(arch: Architecture, lora: LoraSetup) -> int:
    """``modules_to_save`` from the inventory: every parameter under each named module."""
    assert arch.inventory is not None
    total = 0
    for name in lora.modules_to_save:
        hit = [
            m
            for m in arch.inventory.modules
            if any(
                n == name or n.endswith("." + name) or ("." + name + ".") in ("." + n + ".")
                for n in (m.example, m.name)
            )
        ]
        if not hit:
            raise ValueError(
                f"lora.modules_to_save {name!r} matches no module of {arch.name} "
                f"(its modules: {', '.join(lora_target_names(arch))})"
            )
        # A tied module owns no parameters; peft's copy of it still holds the full weight.
        total += sum(
            (m.in_features * m.out_features if m.tied_to and m.kind == "linear" else m.params)
            * m.count
            for m in hit
        )
    return total


def _count_inventory(arch: Architecture, lora: LoraSetup | None) -> ParamCounts:
    """Counts straight from the module inventory: every parameter transformers builds."""
    assert arch.inventory is not None
    inv = arch.inventory
    chosen, params = _inventory_targets(arch, lora.target_modules) if lora else ([], [])
    modules: list[ModuleCount] = []
    embedding = lm_head = norms = lora_total = 0
    for m in inv.modules:
        adapter = m.lora_params(lora.r) * m.count if lora and m in chosen else 0
        if lora:
            adapter += sum(p.lora_params(lora.r) for p in params if p.module is m) * m.count
        if lora and lora.use_dora and m in chosen and m.kind == "linear":
            adapter += m.out_features * m.count  # DoRA's magnitude, one per output feature
        lora_total += adapter
        modules.append(ModuleCount(m.name, m.count, m.total_params, adapter))
        if m.output:
            lm_head += m.total_params
        elif m.kind == "embedding":
            embedding += m.total_params
        elif m.kind == "norm":
            norms += m.total_params
    if lora:
        lora_total += _inventory_saved(arch, lora)
    base = inv.total_params
    return ParamCounts(
        total=base + lora_total,
        trainable=lora_total + trained_bias_params(arch, lora) if lora else base,
        base=base,
        lora=lora_total,
        embedding=embedding,
        lm_head=lm_head,
        norms=norms,
        layer_linear=base - embedding - lm_head - norms,
        modules=modules,
        quantizable=sum(m.total_params for m in inv.modules if m.kind == "linear" and not m.output),
        lora_targets=tuple(
            dict.fromkeys([m.short for m in chosen] + [p.module.short for p in params])
        ),
    )
