"""TRL's trainer configs (SFTConfig, DPOConfig, ...): their own fields and what they removed.

The table is the bundled snapshot ``preflight/data/trl_configs.json``, written by
``scripts/snapshot_trl_configs.py`` from TRL's source with ``ast`` (TRL is not a dependency and
is never imported). It records the TRL version it came from.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

SEQ2SEQ_FIELDS = frozenset(
    # transformers training_args_seq2seq.py: the fields Seq2SeqTrainingArguments adds.
    {
        "sortish_sampler",
        "predict_with_generate",
        "generation_max_length",
        "generation_num_beams",
        "generation_config",
    }
)
TRAINING_ARGUMENT_CLASSES = frozenset({"TrainingArguments", "Seq2SeqTrainingArguments"})
"""transformers' own arguments classes: no extra fields."""


@lru_cache(maxsize=1)
def trl_snapshot() -> dict[str, Any]:
    text = resources.files("preflight.data").joinpath("trl_configs.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def trl_configs() -> dict[str, dict[str, Any]]:
    """Config class name -> {"fields": {...}, "removed": {name: {last_version, replacement}}}."""
    configs: dict[str, dict[str, Any]] = trl_snapshot()["configs"]
    return configs


def trl_version() -> str:
    return str(trl_snapshot()["trl_version"])


def config_classes() -> frozenset[str]:
    """Every class name a reader treats as a TrainingArguments (sub)class."""
    return TRAINING_ARGUMENT_CLASSES | frozenset(trl_configs())


def field_owner(keys: set[str]) -> str | None:
    """The TRL config whose own fields best explain ``keys`` (a flat recipe), if any does.

    Recipes do not name their class; TRL's example scripts pick it by script name. The config
    whose own fields cover most of the keys wins; SFTConfig wins ties because it is by far the
    most common.
    """
    from ..spec.training_fields import training_fields

    keys = keys - set(training_fields().fields)
    best: tuple[int, int, str] | None = None
    configs = trl_configs()
    ordered = [n for n in POPULARITY if n in configs] + sorted(set(configs) - set(POPULARITY))
    for order, name in enumerate(ordered):
        entry = configs[name]
        own = set(entry["fields"]) | set(entry["removed"])
        hits = len(keys & own)
        if hits and (best is None or hits > best[0]):
            best = (hits, -order, name)
    return best[2] if best else None


POPULARITY = ("SFTConfig", "DPOConfig", "GRPOConfig", "ORPOConfig", "KTOConfig", "RewardConfig")
"""Tie-break when several configs explain a recipe's keys equally well: the most used first."""


def config_defaults(config: str, version: str) -> dict[str, Any]:
    """The defaults TRL's ``config`` sets for its own and overridden fields in trl ``version``.

    SFTConfig turns ``gradient_checkpointing`` on (trl >= 0.22), defaults ``max_length`` to
    1024 and ``learning_rate`` to 2e-5: a plan of TrainingArguments defaults would estimate
    memory for a run TRL never makes. ``bf16`` left None is made ``not fp16`` by every TRL
    config's ``__post_init__`` (trl/trainer/*_config.py), so it reads as True here.
    """
    from ..spec.field_history import default_at, snapshot_release, trl_fields_at

    fields = trl_fields_at(config, version)
    if not fields:
        return {}
    release = snapshot_release("trl", version)
    out: dict[str, Any] = {}
    for name, entry in fields.items():
        value = default_at(entry, release)
        if name == "bf16" and value is None:
            value = True
        if value is not None:
            out[name] = value
    return out
