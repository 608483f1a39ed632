"""Which reader a file needs, decided from its content (the extension only narrows the choice).

Kinds: ``spec`` (the job spec), ``python``, ``notebook``, ``recipe`` (TRL/alignment-handbook
flat recipe), ``llamafactory``, ``axolotl``, ``accelerate``, ``deepspeed``; None when the file is
none of them (a directory walk skips it with a note).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..spec.models import JobSpec
from ..spec.training_fields import training_fields
from .axolotl import looks_like_axolotl
from .recipe import is_llamafactory, recipe_keys

KINDS = (
    "spec",
    "python",
    "notebook",
    "recipe",
    "llamafactory",
    "axolotl",
    "accelerate",
    "deepspeed",
)
YAML_SUFFIXES = {".yaml", ".yml", ".json"}
PY_MARKERS = re.compile(
    r"\b(TrainingArguments|Seq2SeqTrainingArguments|[A-Z][A-Za-z]*Config|HuggingFace|"
    r"PyTorch|Estimator|ModelTrainer|HfArgumentParser|TrlParser)\s*\("
)
"""A script that calls none of these builds no training configuration worth reading."""


def kind_of_mapping(data: Any) -> str | None:
    """The reader for a parsed YAML/JSON document, or None (see ``claim`` for why)."""
    kind, _ = claim(data)
    return kind if kind in KINDS else None


UNSUPPORTED = "unsupported"
MAX_FOREIGN = 1
"""Keys a TRL recipe may hold that no table here knows (and are no misspelling of one).
TrlParser rejects unknown keys, so a real recipe has none; of the 25 recipes of TRL and
alignment-handbook read for benchmarks/readers none has more than one, while open-instruct's
own-dataclass configs have four to eight (with_tracking, checkpointing_steps, ...)."""
MAX_KEYS = 500
"""A mapping with more top-level keys than this is data (a tokenizer's vocab.json), no config:
the largest recipe read for benchmarks/readers has 42."""


def claim(data: Any) -> tuple[str | None, str]:
    """(reader kind, why) for a parsed document, like a file-type identifier.

    Each format states what it needs to claim a file: its signature keys together with the
    keys its framework requires; the first claim met wins, strongest first. Formats preflight
    recognises but does not read claim ``unsupported`` (the why names them). Below every bar,
    (None, why): the file is no training config.
    """
    if not isinstance(data, dict) or not data:
        return None, "not a mapping of settings"
    if len(data) > MAX_KEYS:
        return None, f"{len(data)} top-level keys: data, not a config"
    keys = {k for k in data if isinstance(k, str)}
    if "cells" in keys and "nbformat" in keys:
        return "notebook", "a Jupyter notebook"
    if _looks_like_spec(data, keys):
        return "spec", "a preflight job spec"
    other = unsupported_format(data, keys)
    if other is not None:
        return UNSUPPORTED, other
    if keys & {"distributed_type", "compute_environment"}:
        return "accelerate", "an accelerate config"
    if "zero_optimization" in keys or "train_micro_batch_size_per_gpu" in keys:
        return "deepspeed", "a DeepSpeed config"
    if looks_like_axolotl(data):
        return "axolotl", "an axolotl config (base_model with axolotl's own keys)"
    if is_llamafactory(keys):
        return "llamafactory", "a LLaMA-Factory config (stage, finetuning_type, ...)"
    return _recipe_claim(keys)


def _recipe_claim(keys: set[str]) -> tuple[str | None, str]:
    """A TRL / alignment-handbook recipe: a model, training keys, and (nearly) nothing else.

    TrlParser refuses a key that no dataclass of the script declares, so a real TRL recipe's
    keys are TrainingArguments, TRL config, ModelConfig and ScriptArguments fields. A YAML
    with ``model_name_or_path`` and many keys none of those know is the config of some other
    script's own argument dataclass (open-instruct's, for one), which only that script can judge.
    """
    from .recipe import _one_edit
    from .trl_fields import trl_configs

    fields = set(training_fields().fields)
    trl = set().union(*(set(c["fields"]) | set(c["removed"]) for c in trl_configs().values()))
    table = recipe_keys()
    known = fields | trl | set(table["maps"]) | set(table["known"])
    from ..rules.arguments import removed_arguments

    known |= set(removed_arguments())
    # evidence of training: trainer config keys that are not also model/script arguments
    # (``trust_remote_code`` alone is in an inference config too)
    training = keys & (fields | trl | set(removed_arguments())) - set(table["known"])
    if not training:
        return None, "not a training config"
    foreign = {k for k in keys - known if not any(_one_edit(k, c) for c in known)}
    if "model_name_or_path" in keys:
        if len(training) >= 1 and len(foreign) <= MAX_FOREIGN:
            return "recipe", "a TRL recipe (model_name_or_path with trainer config keys)"
        if training:
            return None, (
                f"{len(foreign)} of {len(keys)} keys are no TrainingArguments, TRL or recipe "
                f"field ({', '.join(sorted(foreign)[:4])}, ...): the config of a script's own "
                "arguments, which only that script can judge"
            )
        return None, "model_name_or_path without training keys"
    if len(training) >= 3 and len(training) * 2 >= len(keys) and len(foreign) <= len(keys) // 4:
        return "recipe", "TrainingArguments keys"
    return None, "not a training config"


UNSUPPORTED_FORMATS = (
    # (name, test on the top-level mapping); each test is the format's own signature
    ("torchtune", lambda d, k: any(isinstance(v, dict) and "_component_" in v for v in d.values())),
    ("verl", lambda d, k: "actor_rollout_ref" in k or {"algorithm", "critic", "trainer"} <= k),
    (
        "NeMo",
        lambda d, k: (
            "exp_manager" in k
            or (
                "trainer" in k
                and "model" in k
                and "name" in k
                and isinstance(d.get("trainer"), dict)
                and "devices" in d["trainer"]
            )
        ),
    ),
    (
        "Amazon Nova recipe",
        lambda d, k: (
            isinstance(d.get("run"), dict) and "model_type" in d["run"] and "training_config" in k
        ),
    ),
    ("LitGPT", lambda d, k: "checkpoint_dir" in k and ("train" in k or "out_dir" in k)),
    (
        "OpenRLHF",
        lambda d, k: "pretrain" in k and ("reward_pretrain" in k or "critic_pretrain" in k),
    ),
)
"""Formats recognised but not read: their files are named once as not supported."""


def unsupported_format(data: dict[str, Any], keys: set[str]) -> str | None:
    for name, test in UNSUPPORTED_FORMATS:
        try:
            if test(data, keys):
                return f"a {name} config: preflight does not read {name} configs"
        except (TypeError, AttributeError):
            continue
    return None


def _looks_like_spec(data: dict[str, Any], keys: set[str]) -> bool:
    """Only job-spec sections at the top, as mappings, and enough of them to be a job.

    A lone ``training:`` mapping must hold a TrainingArguments field: plenty of JSON files
    (SageMaker's image catalogs, for one) have a ``training`` key that means something else.
    """
    if not keys <= set(JobSpec.model_fields):
        return False
    core = keys & {"training", "model", "compute", "data"}
    if not core or any(not isinstance(data[k], dict | None) for k in core):
        return False
    training = data.get("training")
    if isinstance(training, dict) and set(training) & set(training_fields().fields):
        return True
    return len(core) >= 2


def python_is_training(text: str) -> bool:
    return PY_MARKERS.search(text) is not None


def suffix_kind(path: Path) -> str | None:
    """The kind implied by the name alone, for .py and .ipynb."""
    return {".py": "python", ".ipynb": "notebook"}.get(path.suffix.lower())
