"""Model architectures: the few config.json fields that decide parameter and activation sizes.

The bundled catalog lives in ``memplan/data/models/*.json``: each file is a copy of the real
``config.json`` fields of a hub model, plus ``_source`` (where the values come from), ``_name``
(the hub id) and ``_aliases`` (short names). A local directory holding a ``config.json`` works
the same way, so any decoder in the Llama family can be planned without a download.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

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
        """The linear projections of one decoder layer, named as in the transformers code."""
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
        )

    def hf_config_fields(self) -> dict[str, Any]:
        """The config.json fields without memplan's own ``_``-prefixed keys."""
        return {k: v for k, v in self.config.items() if not k.startswith("_")}


def from_config_dict(cfg: dict[str, Any], *, name: str, source: str) -> Architecture:
    """Build an :class:`Architecture` from config.json fields; raises ValueError when unusable."""
    model_type = str(cfg.get("model_type", ""))
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise UnknownModelError(
            f"{name}: model_type {model_type!r} is not supported "
            f"(supported: {', '.join(sorted(SUPPORTED_MODEL_TYPES))})"
        )
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
    )


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


HUB_ENV = "MEMPLAN_ALLOW_HUB"


def _from_hub(repo_id: str) -> Architecture | None:
    """config.json of a hub repo, only when ``MEMPLAN_ALLOW_HUB=1`` and huggingface_hub is there.

    Off by default: memplan must answer offline and quickly, and a spec that names a hub model
    should not depend on the network to be checked.
    """
    import os

    if os.environ.get(HUB_ENV) != "1" or "/" not in repo_id:
        return None
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        return None
    try:
        path = hf_hub_download(repo_id, "config.json")
        cfg = json.loads(Path(path).read_text(encoding="utf-8"))
    except Exception as exc:  # network, auth, missing repo: all mean "not found here"
        raise UnknownModelError(
            f"{repo_id}: could not read config.json from the hub ({exc})"
        ) from exc
    return from_config_dict(cfg, name=repo_id, source=f"https://huggingface.co/{repo_id}")


def load_architecture(name_or_path: str) -> Architecture:
    """A bundled architecture by hub id or alias, or a local directory/file with config.json.

    Raises :class:`UnknownModelError` with close catalog names when nothing matches. memplan
    reads the hub only when ``MEMPLAN_ALLOW_HUB=1`` (otherwise use a local directory for
    models outside the catalog).
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir() and (path / "config.json").is_file():
        path = path / "config.json"
    if path.is_file():
        try:
            cfg = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UnknownModelError(f"{path}: not a readable config.json ({exc})") from exc
        if not isinstance(cfg, dict):
            raise UnknownModelError(f"{path}: config.json must hold a JSON object")
        return from_config_dict(cfg, name=str(cfg.get("_name", path.parent.name)), source=str(path))
    files = _catalog_files()
    wanted = name_or_path.strip().lower()
    for stem, cfg in files.items():
        if wanted in _lookup_keys(stem, cfg):
            return from_config_dict(cfg, name=str(cfg["_name"]), source=str(cfg.get("_source", "")))
    hub = _from_hub(name_or_path)
    if hub is not None:
        return hub
    every = sorted({k for stem, cfg in files.items() for k in _lookup_keys(stem, cfg)})
    close = difflib.get_close_matches(wanted, every, n=3, cutoff=0.5)
    names = {k: str(cfg["_name"]) for stem, cfg in files.items() for k in _lookup_keys(stem, cfg)}
    suggestions = list(dict.fromkeys(names[c] for c in close))
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise UnknownModelError(
        f"unknown model {name_or_path!r}: not in memplan's catalog and not a local directory "
        f"with config.json{hint} (catalog: {', '.join(catalog_names())})",
        suggestions,
    )
