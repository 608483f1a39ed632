"""Model architectures: the few config.json fields that decide parameter and activation sizes.

The bundled catalog lives in ``memplan/data/models/*.json``: each file is a copy of the real
``config.json`` fields of a hub model, plus ``_source`` (where the values come from), ``_name``
(the hub id) and ``_aliases`` (short names). A local directory holding a ``config.json`` works
the same way, so any decoder in the Llama family can be planned without a download.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from memplan.inventory import Inventory, Module

# Model types whose decoder layer is the Llama layout (separate q/k/v/o and gate/up/down).
_LLAMA_LIKE = frozenset({"llama", "mistral", "qwen2", "gemma", "gemma2"})
# Model types with fused projections (qkv_proj, gate_up_proj).
_FUSED = frozenset({"phi3"})
SUPPORTED_MODEL_TYPES = _LLAMA_LIKE | _FUSED


class UnknownModelError(ValueError):
    """The model is neither in the bundled catalog nor a readable local config directory."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions: list[str] = suggestions or []


@dataclass(frozen=True)
class Linear:
    """One linear projection inside a decoder layer (or the LM head)."""

    name: str
    in_features: int
    out_features: int
    bias: bool = False

    @property
    def params(self) -> int:
        return self.in_features * self.out_features + (self.out_features if self.bias else 0)


@dataclass(frozen=True)
class Architecture:
    """The shape of a decoder-only causal LM, read from its config.json fields."""

    name: str
    model_type: str
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    vocab_size: int
    tie_word_embeddings: bool
    max_position_embeddings: int | None = None
    source: str = ""
    config: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    #: Every parameter-owning module, from the model's transformers code (None: the
    #: hand-written Llama layout below is used, only when transformers is not installed).
    inventory: Inventory | None = field(default=None, compare=False, repr=False)
    #: Where the config was found: "catalog", "local directory", "Hugging Face cache", "hub".
    resolved_from: str = ""
    #: How the module inventory was obtained: "precomputed", "meta-device build" or
    #: "hand-written layout" (said in the plan and the JSON output).
    inventory_path: str = ""

    @property
    def q_dim(self) -> int:
        return self.num_attention_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.num_key_value_heads * self.head_dim

    @property
    def qkv_bias(self) -> bool:
        """Qwen2 puts a bias on q/k/v; other families honour ``attention_bias``."""
        if self.model_type == "qwen2":
            return True
        return bool(self.config.get("attention_bias", False))

    @property
    def mlp_bias(self) -> bool:
        return bool(self.config.get("mlp_bias", False))

    @property
    def norms_per_layer(self) -> int:
        """RMSNorms in one decoder layer: Gemma 2 adds pre/post feed-forward norms."""
        return 4 if self.model_type == "gemma2" else 2

    def layer_linears(self) -> list[Linear]:
        """The linear projections of one decoder layer, named as in the transformers code.

        From the inventory when there is one: each linear of the repeated blocks once per layer
        on average, MoE experts as the ``top_k`` routed copies a token passes through (that is
        what activations scale with; parameters are counted from the inventory itself).
        """
        if self.inventory is not None:
            return _inventory_layer_linears(self.inventory, self.num_hidden_layers)
        h, i = self.hidden_size, self.intermediate_size
        if self.model_type in _FUSED:
            return [
                Linear("qkv_proj", h, self.q_dim + 2 * self.kv_dim, self.qkv_bias),
                Linear("o_proj", self.q_dim, h, bool(self.config.get("attention_bias", False))),
                Linear("gate_up_proj", h, 2 * i, self.mlp_bias),
                Linear("down_proj", i, h, self.mlp_bias),
            ]
        return [
            Linear("q_proj", h, self.q_dim, self.qkv_bias),
            Linear("k_proj", h, self.kv_dim, self.qkv_bias),
            Linear("v_proj", h, self.kv_dim, self.qkv_bias),
            Linear("o_proj", self.q_dim, h, bool(self.config.get("attention_bias", False))),
            Linear("gate_proj", h, i, self.mlp_bias),
            Linear("up_proj", h, i, self.mlp_bias),
            Linear("down_proj", i, h, self.mlp_bias),
        ]

    def with_layers(self, n: int) -> Architecture:
        """The same architecture with ``n`` decoder layers (for probes and tests)."""
        cfg = dict(self.config)
        cfg["num_hidden_layers"] = n
        if isinstance(cfg.get("text_config"), dict):  # multimodal: the language model's layers
            cfg["text_config"] = {**cfg["text_config"], "num_hidden_layers": n}
        inventory = None
        if self.inventory is not None:
            # Rebuilt when transformers is there (layers need not be alike: DeepSeek's first
            # layers are dense); scaled otherwise.
            key = json.dumps(
                {k: v for k, v in cfg.items() if not k.startswith("_")}, sort_keys=True
            )
            if key in _BUILT or _transformers_available():
                if key not in _BUILT:
                    _BUILT[key] = _build(cfg, self.name)
                inventory = _BUILT[key]
            else:
                inventory = _scale_layers(self.inventory, self.num_hidden_layers, n)
        return Architecture(
            name=self.name,
            model_type=self.model_type,
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=n,
            num_attention_heads=self.num_attention_heads,
            num_key_value_heads=self.num_key_value_heads,
            head_dim=self.head_dim,
            vocab_size=self.vocab_size,
            tie_word_embeddings=self.tie_word_embeddings,
            max_position_embeddings=self.max_position_embeddings,
            source=self.source,
            config=cfg,
            inventory=inventory,
            resolved_from=self.resolved_from,
            inventory_path=self.inventory_path,
        )

    def hf_config_fields(self) -> dict[str, Any]:
        """The config.json fields without memplan's own ``_``-prefixed keys."""
        return {k: v for k, v in self.config.items() if not k.startswith("_")}


def model_provenance(arch: Architecture) -> dict[str, str]:
    """Which path memplan took for this model, for the plan and the JSON output."""
    return {
        "name": arch.name,
        "resolved_from": arch.resolved_from,
        "inventory": arch.inventory_path,
        "source": arch.source,
    }


def _inventory_layer_linears(inv: Inventory, layers: int) -> list[Linear]:
    layers = max(layers, 1)
    out: list[Linear] = []
    seen: set[str] = set()
    for m in inv.modules:
        if not m.in_layers:
            continue
        if m.kind == "linear":
            if m.short in seen:
                continue
            seen.add(m.short)
            per_layer = m.count / layers
            if ".experts.{i}." in m.name and inv.dims.get("num_experts"):
                # Per-expert linears (a ModuleList): a token passes through top_k of them.
                per_layer *= int(inv.dims.get("top_k", 1)) / int(inv.dims["num_experts"])
            copies = max(1, round(per_layer))
            out.append(Linear(m.short, m.in_features, m.out_features * copies, m.bias))
        elif m.kind == "experts" and m.experts:
            # Fused expert weights: a token passes through top_k experts' up and down matrices.
            h = int(inv.dims.get("hidden_size", 0))
            moe_i = int(
                inv.dims.get("moe_intermediate_size") or inv.dims.get("intermediate_size") or 0
            )
            k = max(m.top_k, 1)
            share = m.count / layers
            up = int(round(k * share)) * moe_i
            if up and f"{m.short}.up" not in seen:
                seen.add(f"{m.short}.up")
                out.append(Linear(f"{m.short}.gate_up_proj", h, 2 * up))
                out.append(Linear(f"{m.short}.down_proj", up, h))
    return out


def _scale_layers(inv: Inventory, old: int, new: int) -> Inventory:
    """The inventory with ``new`` repeated blocks instead of ``old`` (per-layer modules scaled)."""
    mods = []
    for m in inv.modules:
        if m.in_layers and old:
            count = max(1, round(m.count * new / old)) if m.count >= old else min(m.count, new)
            m = Module(**{**m.__dict__, "count": count})
        mods.append(m)
    dims = dict(inv.dims)
    dims["num_hidden_layers"] = new
    return Inventory(tuple(mods), dims, inv.task, inv.model_class, inv.transformers_version)


def _legacy(cfg: dict[str, Any], *, name: str, source: str, resolved_from: str) -> Architecture:
    """The hand-written Llama layout: used only when transformers cannot build the model."""
    model_type = str(cfg.get("model_type", ""))
    missing = [
        k
        for k in (
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_attention_heads",
            "vocab_size",
        )
        if k not in cfg
    ]
    if missing:
        raise UnknownModelError(f"{name}: config is missing {', '.join(missing)}")
    heads = int(cfg["num_attention_heads"])
    hidden = int(cfg["hidden_size"])
    head_dim = cfg.get("head_dim") or hidden // heads
    # Gemma and Gemma 2 tie embeddings unless told otherwise; the rest default to untied.
    tie_default = model_type in ("gemma", "gemma2")
    return Architecture(
        name=name,
        model_type=model_type,
        hidden_size=hidden,
        intermediate_size=int(cfg["intermediate_size"]),
        num_hidden_layers=int(cfg["num_hidden_layers"]),
        num_attention_heads=heads,
        num_key_value_heads=int(cfg.get("num_key_value_heads") or heads),
        head_dim=int(head_dim),
        vocab_size=int(cfg["vocab_size"]),
        tie_word_embeddings=bool(cfg.get("tie_word_embeddings", tie_default)),
        max_position_embeddings=cfg.get("max_position_embeddings"),
        source=source,
        config=dict(cfg),
        resolved_from=resolved_from,
        inventory_path="hand-written layout",
    )


def from_inventory(
    cfg: dict[str, Any],
    inv: Inventory,
    *,
    name: str,
    source: str,
    resolved_from: str,
    inventory_path: str,
) -> Architecture:
    """An :class:`Architecture` whose sizes and modules come from ``inv``."""
    d = inv.dims
    layers = int(d.get("num_hidden_layers", 0)) + int(d.get("num_decoder_layers", 0) or 0)
    inter = int(d.get("intermediate_size", 0))
    if d.get("num_experts") and d.get("moe_intermediate_size"):
        # Activations follow the routed experts only: top_k of them, plus any shared expert.
        moe_i = int(d["moe_intermediate_size"])
        shared = int(d.get("shared_expert_intermediate_size") or 0) or moe_i * int(
            d.get("n_shared_experts") or 0
        )
        inter = int(d.get("top_k", 1)) * moe_i + shared
    elif d.get("num_experts"):
        inter = int(d.get("top_k", 1)) * inter
    config = dict(cfg)
    if "final_logit_softcapping" in d and "final_logit_softcapping" not in config:
        config["final_logit_softcapping"] = d["final_logit_softcapping"]
    return Architecture(
        name=name,
        model_type=str(cfg.get("model_type", "")),
        hidden_size=int(d.get("hidden_size", 0)),
        intermediate_size=inter,
        num_hidden_layers=max(layers, 1),
        num_attention_heads=int(d.get("num_attention_heads", 1)),
        num_key_value_heads=int(d.get("num_key_value_heads", 1)),
        head_dim=int(d.get("head_dim", 0)),
        vocab_size=int(d.get("vocab_size", 0)),
        tie_word_embeddings=any(m.tied_to for m in inv.modules if m.output),
        max_position_embeddings=d.get("max_position_embeddings"),
        source=source,
        config=config,
        inventory=inv,
        resolved_from=resolved_from,
        inventory_path=inventory_path,
    )


_BUILT: dict[str, Inventory] = {}


def _transformers_available() -> bool:
    import importlib.util

    return (
        importlib.util.find_spec("transformers") is not None
        and importlib.util.find_spec("torch") is not None
    )


def from_config_dict(
    cfg: dict[str, Any], *, name: str, source: str, resolved_from: str = "local directory"
) -> Architecture:
    """Build an :class:`Architecture` from config.json fields; raises UnknownModelError.

    A catalog file carries its inventory (``_inventory``: no torch needed). Otherwise the model
    is built on the meta device when transformers is installed; without it only the Llama-family
    types have a (hand-written) layout.
    """
    model_type = str(cfg.get("model_type", ""))
    if not model_type:
        raise UnknownModelError(f"{name}: config.json has no model_type")
    if isinstance(cfg.get("_inventory"), dict):
        inv = Inventory.from_json(cfg["_inventory"])
        fields = {k: v for k, v in cfg.items() if k != "_inventory"}
        return from_inventory(
            fields,
            inv,
            name=name,
            source=source,
            resolved_from=resolved_from,
            inventory_path="precomputed",
        )
    if not _transformers_available():
        if model_type in SUPPORTED_MODEL_TYPES:
            return _legacy(cfg, name=name, source=source, resolved_from=resolved_from)
        raise UnknownModelError(
            f"{name}: model_type {model_type!r} is read by building the model from its "
            "transformers code, and transformers is not installed here; "
            "`pip install torch transformers` (no weights are downloaded)"
        )
    key = json.dumps({k: v for k, v in cfg.items() if not k.startswith("_")}, sort_keys=True)
    built = _BUILT.get(key)
    if built is None:
        built = _build(cfg, name)
        _BUILT[key] = built
    return from_inventory(
        cfg,
        built,
        name=name,
        source=source,
        resolved_from=resolved_from,
        inventory_path="meta-device build",
    )


def _build(cfg: dict[str, Any], name: str) -> Inventory:
    from memplan.inventory import build_inventory

    try:
        return build_inventory(cfg)
    except Exception as exc:  # any failure of transformers' own code means "cannot read it"
        kind = type(exc).__name__
        raise UnknownModelError(
            f"{name}: transformers could not build model_type {cfg.get('model_type')!r} "
            f"from its config ({kind}: {exc}); a newer transformers may know it"
        ) from exc


@functools.lru_cache(maxsize=1)
def _catalog_files() -> dict[str, dict[str, Any]]:
    """Bundled configs keyed by file stem."""
    out: dict[str, dict[str, Any]] = {}
    root = resources.files("memplan") / "data" / "models"
    for entry in root.iterdir():
        if entry.name.endswith(".json"):
            out[entry.name[: -len(".json")]] = json.loads(entry.read_text(encoding="utf-8"))
    return out


def catalog_names() -> list[str]:
    """Hub ids (or test names) of every bundled architecture."""
    return sorted(str(c["_name"]) for c in _catalog_files().values())


def _lookup_keys(stem: str, cfg: dict[str, Any]) -> list[str]:
    keys = [stem, str(cfg["_name"]), str(cfg["_name"]).split("/")[-1]]
    keys += [str(a) for a in cfg.get("_aliases", [])]
    return [k.lower() for k in keys]


def _read_config(path: Path) -> dict[str, Any]:
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UnknownModelError(f"{path}: not a readable config.json ({exc})") from exc
    if not isinstance(cfg, dict):
        raise UnknownModelError(f"{path}: config.json must hold a JSON object")
    return cfg


def load_architecture(name_or_path: str, *, offline: bool | None = None) -> Architecture:
    """The architecture of a local directory/file with config.json, a catalog model, a model in
    the local Hugging Face cache, or (online) the hub's config.json, tried in that order.

    Raises :class:`UnknownModelError` saying what was tried, with close catalog names.
    ``offline`` (default: ``HF_HUB_OFFLINE``/``MEMPLAN_OFFLINE``) keeps memplan off the network.
    """
    from memplan import hub

    path = Path(name_or_path).expanduser()
    if path.is_dir() and (path / "config.json").is_file():
        path = path / "config.json"
    if path.is_file():
        cfg = _read_config(path)
        return from_config_dict(
            cfg,
            name=str(cfg.get("_name", path.parent.name)),
            source=str(path),
            resolved_from="local directory",
        )
    if path.is_dir():
        raise UnknownModelError(f"{path}: a directory without config.json")
    files = _catalog_files()
    wanted = name_or_path.strip().lower()
    for stem, cfg in files.items():
        if wanted in _lookup_keys(stem, cfg):
            return from_config_dict(
                cfg,
                name=str(cfg["_name"]),
                source=str(cfg.get("_source", "")),
                resolved_from="catalog",
            )
    cached = hub.cached_config(name_or_path)
    if cached is not None:
        return from_config_dict(
            _read_config(cached),
            name=name_or_path,
            source=str(cached),
            resolved_from="Hugging Face cache",
        )
    hub_error = ""
    if hub.looks_like_repo_id(name_or_path):
        if hub.is_offline(offline):
            hub_error = "; offline (HF_HUB_OFFLINE/--offline), so the hub was not asked"
        else:
            try:
                cfg, url = hub.fetch_config(name_or_path)
            except hub.HubError as exc:
                hub_error = f"; the hub: {exc}"
            else:
                return from_config_dict(cfg, name=name_or_path, source=url, resolved_from="hub")
    every = sorted({k for stem, cfg in files.items() for k in _lookup_keys(stem, cfg)})
    close = difflib.get_close_matches(wanted, every, n=3, cutoff=0.5)
    names = {k: str(cfg["_name"]) for stem, cfg in files.items() for k in _lookup_keys(stem, cfg)}
    suggestions = list(dict.fromkeys(names[c] for c in close))
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise UnknownModelError(
        f"unknown model {name_or_path!r}: not in memplan's catalog ({len(files)} models, "
        f"`memplan models` lists them), not a local directory with config.json and not in the "
        f"Hugging Face cache{hub_error}{hint}",
        suggestions,
    )
