"""The module inventory of a model, read from its own transformers code built on the meta device.

A hand-written layout knows one family; the inventory knows whatever ``transformers`` builds:
every module that owns parameters, grouped by its dotted name with layer and expert indices
replaced by ``{i}`` (``model.layers.{i}.self_attn.q_proj``), with its kind, shape, bias and how
many times it occurs. Tied weights are counted once (the module that borrows one says so).
MoE experts keep all their weights (``params`` per instance) and say how many are routed per
token (``top_k``), which is what activations scale with.

The analytic engine reads an inventory without torch: catalog models carry theirs in the data
file (precomputed by ``scripts/gen_model_catalog.py``), other models are built on the meta
device when transformers is installed (:func:`build_inventory`, which imports torch lazily).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

#: Kinds of module the inventory distinguishes.
KINDS = ("linear", "embedding", "norm", "experts", "router", "other")

_INDEX = re.compile(r"\.(\d+)(?=\.|$)")


@dataclass(frozen=True)
class Module:
    """One kind of parameter-owning module, ``count`` times in the model.

    ``params`` is per instance and counts only parameters owned here (a tied LM head owns none:
    ``tied_to`` names the module whose weight it uses). ``example`` is the first real dotted
    name (``model.layers.0.self_attn.q_proj``): peft's target matching is done against it.
    """

    name: str
    example: str
    kind: str
    cls: str
    count: int
    params: int
    in_features: int = 0
    out_features: int = 0
    bias: bool = False
    tied_to: str = ""
    experts: int = 0
    top_k: int = 0
    output: bool = False
    in_layers: bool = False
    #: (parameter name, shape) of fused expert tensors and routers, which peft can adapt as
    #: parameters (``target_parameters``) rather than as modules.
    param_shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @property
    def short(self) -> str:
        """Last component of the name (``q_proj``), as LoRA target lists usually say it."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def total_params(self) -> int:
        return self.params * self.count

    def lora_params(self, r: int) -> int:
        """Parameters peft's LoRA adds to one instance (``r * (in + out)``); 0 when not a layer
        peft can wrap."""
        if self.kind in ("linear", "embedding"):
            return r * (self.in_features + self.out_features)
        return 0


@dataclass(frozen=True)
class Inventory:
    """Every parameter-owning module of a model, plus the dimensions the activations need.

    ``dims`` holds hidden size, intermediate size, layers, heads, KV heads, head_dim, vocab and,
    where present, sliding window, softcapping, MoE (experts, top_k, expert intermediate, shared
    experts) and MLA ranks, read from the built model's config (defaults filled in).
    """

    modules: tuple[Module, ...]
    dims: dict[str, Any] = field(default_factory=dict)
    task: str = "causal_lm"
    model_class: str = ""
    transformers_version: str = ""

    @property
    def total_params(self) -> int:
        return sum(m.total_params for m in self.modules)

    def of_kind(self, *kinds: str) -> list[Module]:
        return [m for m in self.modules if m.kind in kinds]

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "model_class": self.model_class,
            "transformers_version": self.transformers_version,
            "dims": dict(self.dims),
            "modules": [
                {k: v for k, v in asdict(m).items() if v not in (0, False, "")} | {"count": m.count}
                for m in self.modules
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inventory:
        mods = tuple(
            Module(
                **{
                    "params": 0,
                    **m,
                    "param_shapes": tuple(
                        (str(n), tuple(int(d) for d in s)) for n, s in m.get("param_shapes", ())
                    ),
                }
            )
            for m in data.get("modules", [])
        )
        return cls(
            modules=mods,
            dims=dict(data.get("dims", {})),
            task=str(data.get("task", "causal_lm")),
            model_class=str(data.get("model_class", "")),
            transformers_version=str(data.get("transformers_version", "")),
        )


def _pattern(name: str) -> str:
    return _INDEX.sub(".{i}", name)


def _kind(module: Any, cls_name: str, params: dict[str, Any]) -> str:
    import torch

    lowered = cls_name.lower()
    if isinstance(module, torch.nn.Linear):
        return "linear"
    if isinstance(module, torch.nn.Embedding):
        return "embedding"
    if "norm" in lowered:
        return "norm"
    if "expert" in lowered and any(p.dim() == 3 for p in params.values()):
        return "experts"
    if "router" in lowered or "gate" in lowered:
        return "router"
    if type(module).__name__ == "Conv1D":  # GPT-2 style linear (peft wraps it like a Linear)
        return "linear"
    return "other"


#: Config attributes that say how many experts each token is routed to, by family.
_TOP_K = ("num_experts_per_tok", "moe_top_k", "top_k", "num_experts_per_token")
_N_EXPERTS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")


def _first(cfg: Any, names: tuple[str, ...]) -> Any:
    for n in names:
        v = getattr(cfg, n, None)
        if v is not None:
            return v
    return None


def config_dims(cfg: Any) -> dict[str, Any]:
    """The dimensions memplan's activation model reads, from a transformers config object."""
    text = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    h = int(_first(text, ("hidden_size", "d_model", "n_embd")) or 0)
    heads = int(_first(text, ("num_attention_heads", "num_heads", "n_head")) or 1)
    kv = _first(text, ("num_key_value_heads", "num_kv_heads", "multi_query_group_num"))
    if kv is None and getattr(text, "multi_query", False):
        kv = 1
    if kv is None and getattr(text, "new_decoder_architecture", False):
        kv = getattr(text, "num_kv_heads", heads)
    inter = _first(text, ("intermediate_size", "d_ff", "n_inner", "ffn_dim", "ffn_hidden_size"))
    if inter is None:
        inter = 4 * h
    head_dim = _first(text, ("head_dim", "d_kv")) or (h // heads if heads else 0)
    dims: dict[str, Any] = {
        "hidden_size": h,
        "intermediate_size": int(inter),
        "num_hidden_layers": int(_first(text, ("num_hidden_layers", "num_layers", "n_layer")) or 0),
        "num_attention_heads": heads,
        "num_key_value_heads": int(kv if kv is not None else heads),
        "head_dim": int(head_dim),
        "vocab_size": int(getattr(text, "vocab_size", 0) or 0),
        "tie_word_embeddings": bool(getattr(cfg, "tie_word_embeddings", False)),
    }
    decoder_layers = getattr(text, "num_decoder_layers", None)
    if decoder_layers is not None and getattr(text, "is_encoder_decoder", False):
        dims["num_decoder_layers"] = int(decoder_layers)
    mpe = _first(text, ("max_position_embeddings", "n_positions"))
    if mpe is not None:
        dims["max_position_embeddings"] = int(mpe)
    for key in (
        "sliding_window",
        "attn_logit_softcapping",
        "final_logit_softcapping",
        "q_lora_rank",
        "kv_lora_rank",
        "qk_rope_head_dim",
        "qk_nope_head_dim",
        "v_head_dim",
        "moe_intermediate_size",
        "n_shared_experts",
        "shared_expert_intermediate_size",
        "first_k_dense_replace",
    ):
        v = getattr(text, key, None)
        if v is not None:
            dims[key] = v
    layer_types = getattr(text, "layer_types", None)
    if layer_types:
        counts: dict[str, int] = {}
        for t in layer_types:
            counts[str(t)] = counts.get(str(t), 0) + 1
        dims["layer_types"] = counts
    experts = _first(text, _N_EXPERTS)
    if experts:
        dims["num_experts"] = int(experts)
        dims["top_k"] = int(_first(text, _TOP_K) or 1)
    return dims


def _model_class(cfg: Any, task: str) -> Any:
    import transformers

    auto = {
        "causal_lm": transformers.AutoModelForCausalLM,
        "seq2seq_lm": transformers.AutoModelForSeq2SeqLM,
        "sequence_classification": transformers.AutoModelForSequenceClassification,
    }[task]
    return auto


def default_task(model_type: str, cfg_fields: dict[str, Any]) -> str:
    """Causal LM for decoders, seq2seq for encoder-decoders, classification for encoders."""
    if cfg_fields.get("is_encoder_decoder") or model_type in ("t5", "mt5", "bart", "umt5"):
        return "seq2seq_lm"
    if model_type in ("bert", "modernbert", "roberta", "deberta-v2", "distilbert", "xlm-roberta"):
        return "sequence_classification"
    return "causal_lm"


def build_model(cfg_fields: dict[str, Any], task: str | None = None) -> Any:
    """The transformers model of ``cfg_fields`` (config.json fields) on the meta device."""
    import torch
    import transformers

    fields = {k: v for k, v in cfg_fields.items() if not k.startswith("_")}
    model_type = str(fields.pop("model_type"))
    for key in ("architectures", "torch_dtype", "dtype", "transformers_version", "auto_map"):
        fields.pop(key, None)
    cfg = transformers.AutoConfig.for_model(model_type, **fields)
    task = task or default_task(model_type, fields)
    with torch.device("meta"):
        return _model_class(cfg, task).from_config(cfg)


def inventory_of_model(model: Any, task: str) -> Inventory:
    """Group the parameter-owning modules of an already built model (see :class:`Inventory`)."""
    import transformers

    cfg = model.config
    dims = config_dims(cfg)
    top_k = int(dims.get("top_k", 0))
    n_experts = int(dims.get("num_experts", 0))
    owner: dict[int, str] = {}
    out_emb = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    order: list[tuple[Any, ...]] = []
    for name, module in model.named_modules():
        own = dict(module.named_parameters(recurse=False))
        cls_name = type(module).__name__
        is_linear_like = _kind(module, cls_name, own) in ("linear", "embedding")
        if not own and not is_linear_like:
            continue
        params = 0
        tied_to = ""
        for p in own.values():
            key = id(p)
            if key in owner:
                tied_to = owner[key]
                continue
            owner[key] = name
            params += int(p.numel())
        kind = _kind(module, cls_name, own)
        in_f = out_f = 0
        bias = False
        if kind == "linear":
            in_f = int(getattr(module, "in_features", 0) or own["weight"].shape[0])
            out_f = int(getattr(module, "out_features", 0) or own["weight"].shape[1])
            bias = getattr(module, "bias", None) is not None
        elif kind == "embedding":
            in_f, out_f = int(module.num_embeddings), int(module.embedding_dim)
        pattern = _pattern(name)
        shapes = tuple((k, tuple(v.shape)) for k, v in own.items())
        group = (pattern, cls_name, shapes, tied_to != "")
        if group not in groups:
            order.append(group)
            experts = n_experts if kind == "experts" else 0
            groups[group] = {
                "name": pattern,
                "example": name,
                "kind": kind,
                "cls": cls_name,
                "count": 0,
                "params": params,
                "in_features": in_f,
                "out_features": out_f,
                "bias": bias,
                "tied_to": _pattern(tied_to) if tied_to else "",
                "experts": experts,
                "top_k": top_k if kind == "experts" else 0,
                "output": module is out_emb,
                "in_layers": "{i}" in pattern,
                "param_shapes": (
                    tuple((k, tuple(int(d) for d in v.shape)) for k, v in own.items())
                    if kind in ("experts", "router")
                    else ()
                ),
            }
        groups[group]["count"] += 1
    family = _peft_moe_family(str(getattr(cfg, "model_type", ""))) if n_experts else ""
    if family:
        dims["peft_moe_family"] = family
    return Inventory(
        modules=tuple(Module(**groups[k]) for k in order),
        dims=dims,
        task=task,
        model_class=type(model).__name__,
        transformers_version=str(transformers.__version__),
    )


def _peft_moe_family(model_type: str) -> str:
    """The family peft (>= 0.18, with transformers 5) converts MoE LoRA targets for, or "".

    For these model types peft maps the old per-expert names (``w1``/``gate_proj``...) and the
    router ``gate`` onto the fused expert tensors and the router weight (``target_parameters``),
    ``all-linear`` included. Recorded at build time so the analytic count needs no peft.
    """
    try:
        from peft.utils import transformers_weight_conversion as conv
    except ImportError:
        return ""
    family = getattr(conv, "_MODEL_TO_CONVERSION_PATTERN", {}).get(model_type)
    return str(family) if family in getattr(conv, "_MOE_FUSED_TARGETS", {}) else ""


def build_inventory(cfg_fields: dict[str, Any], task: str | None = None) -> Inventory:
    """The inventory of a config, built on the meta device (needs torch and transformers)."""
    model_type = str(cfg_fields.get("model_type", ""))
    task = task or default_task(model_type, cfg_fields)
    return inventory_of_model(build_model(cfg_fields, task), task)
