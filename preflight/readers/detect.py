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
    """The reader for a parsed YAML/JSON document, or None."""
    if not isinstance(data, dict) or not data:
        return None
    keys = {k for k in data if isinstance(k, str)}
    if "cells" in keys and "nbformat" in keys:
        return "notebook"
    if _looks_like_spec(data, keys):
        return "spec"
    if keys & {"distributed_type", "compute_environment"}:
        return "accelerate"
    if "zero_optimization" in keys or "train_micro_batch_size_per_gpu" in keys:
        return "deepspeed"
    if looks_like_axolotl(data):
        return "axolotl"
    if is_llamafactory(keys):
        return "llamafactory"
    fields = set(training_fields().fields)
    mapped = set(recipe_keys()["maps"])
    if "model_name_or_path" in keys and keys & (fields | mapped):
        return "recipe"
    if len(keys & fields) >= 3 and len(keys & fields) * 2 >= len(keys):
        return "recipe"
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
