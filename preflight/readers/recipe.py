"""Flat YAML/JSON recipes: TRL's ``--config`` files, alignment-handbook recipes, LLaMA-Factory.

One mapping whose keys are TrainingArguments fields, the trainer config's own fields (SFTConfig's
``max_length``, DPOConfig's ``beta``, ...) and model/data arguments. Training keys go to
``training.*`` as written; model and data keys are mapped (``preflight/data/recipe_keys.yaml``);
recognised script arguments are left alone; any other key that is one edit away from a training
field is kept as a training key, so PF502 names the misspelling, and the rest is noted.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from ..spec.training_fields import training_fields
from ..spec.yaml_source import YamlDocument
from ..suggest import nearest
from .builder import SpecBuilder, trainer_config_fields
from .trl_fields import SEQ2SEQ_FIELDS, field_owner

DTYPES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32", "fp16": "float16"}
DTYPES |= {"bf16": "bfloat16", "half": "float16"}


@lru_cache(maxsize=1)
def recipe_keys() -> dict[str, Any]:
    from ruamel.yaml import YAML

    text = resources.files("preflight.data").joinpath("recipe_keys.yaml").read_text()
    data: dict[str, Any] = YAML(typ="safe").load(text)
    return data


def is_llamafactory(keys: set[str]) -> bool:
    """LLaMA-Factory's train configs always say ``stage`` (its required key for training) and
    at least one more of its own keys; two stray markers alone claim nothing."""
    markers = set(recipe_keys()["llamafactory_markers"])
    return "stage" in keys and len(keys & markers) >= 2


def read_recipe(doc: YamlDocument, builder: SpecBuilder) -> None:
    data: dict[str, Any] = doc.data
    keys = {k for k in data if isinstance(k, str)}
    table = recipe_keys()
    from ..rules.arguments import removed_arguments

    fields = set(training_fields().fields) | set(removed_arguments())  # PF501 reports those
    if builder.kind == "llamafactory":
        builder.trainer_config = "Seq2SeqTrainingArguments"
        # LLaMA-Factory's TrainingArguments subclass re-adds overwrite_output_dir for
        # transformers >= 5 (src/llamafactory/hparams/training_args.py).
        builder.extra_fields |= {"overwrite_output_dir"}
        own: set[str] = set(SEQ2SEQ_FIELDS) | builder.extra_fields
        removed: dict[str, Any] = {}
    else:
        owner = field_owner(keys - fields)
        if owner is not None:
            builder.trainer_config = owner
            builder.note(f"training keys read as {owner} fields (chosen by the keys it has)")
        else:
            # TRL's and alignment-handbook's recipes are read by a script's TrlParser into one of
            # TRL's configs; with no key naming another, the SFT script's SFTConfig is assumed.
            builder.trainer_config = "SFTConfig"
            builder.note("training keys read as SFTConfig fields (no key names another config)")
        own, removed = trainer_config_fields(builder.trainer_config)
    maps: dict[str, str] = table["maps"]
    known = set(table["known"])
    scripts: dict[str, str] = {}
    if builder.kind == "recipe":
        from .script_args import owned_by_scripts

        # keys no current field has, that a script of this repository declares (TrlParser
        # routes them to it): that script's, not a removed or unknown training key
        scripts = owned_by_scripts(doc.path, keys - fields - own - set(maps) - known)
    for key in sorted(keys, key=lambda k: doc.line_of(k) or 0):
        value = data[key]
        line = doc.line_of(key)
        if key in scripts:
            builder.note(f"{key} (line {line}) is read by {scripts[key]}; not checked")
            continue
        if key in fields or key in own or key in removed:
            builder.state(f"training.{key}", value, line)
            continue
        if key in maps:
            _mapped(maps[key], key, value, line, builder)
            continue
        if key in known:
            continue
        close = nearest(key, fields | own)
        if any(_one_edit(key, c) for c in close):
            builder.state(f"training.{key}", value, line)  # PF502 names the misspelling
        else:
            builder.note(f"key {key!r} (line {line}) is not a training field; not checked")
    _model_extras(data, doc, builder)
    _length(data, doc, builder)
    _eval_data(data, doc, builder)


def _eval_data(data: dict[str, Any], doc: YamlDocument, builder: SpecBuilder) -> None:
    """Where the recipe's script finds evaluation data, when the recipe says (PF209 reads it).

    TRL's scripts evaluate on ``dataset_test_split`` (default "test") of ``dataset_name``;
    alignment-handbook on its ``test_*`` splits; LLaMA-Factory on ``eval_dataset`` or a
    ``val_size`` share of the training data.
    """
    found: tuple[str, str] | None = None
    splits = data.get("dataset_splits")
    mixture = data.get("dataset_mixture")
    if isinstance(mixture, dict):
        # alignment-handbook >= 2025: get_dataset() splits test_split_size off the mixture
        # (src/alignment/data.py), and a dataset entry may name a test split itself
        size = mixture.get("test_split_size")
        named = [
            str(d.get("split"))
            for d in mixture.get("datasets") or []
            if isinstance(d, dict) and str(d.get("split", "")).startswith("test")
        ]
        if isinstance(size, int | float) and not isinstance(size, bool) and size > 0:
            found = (f"test_split_size {size} of dataset_mixture", "dataset_mixture")
        elif named:
            found = (", ".join(named), "dataset_mixture")
    if found is not None:
        pass
    elif isinstance(data.get("eval_dataset"), str):
        found = (data["eval_dataset"], "eval_dataset")
    elif isinstance(data.get("val_size"), int | float) and data["val_size"] > 0:
        found = (f"{data['val_size']} of the training data (val_size)", "val_size")
    elif isinstance(splits, list) and any(str(s).startswith("test") for s in splits):
        found = (", ".join(str(s) for s in splits if str(s).startswith("test")), "dataset_splits")
    elif isinstance(data.get("dataset_name"), str) and builder.kind == "recipe":
        split = data.get("dataset_test_split", "test")
        found = (f"{data['dataset_name']} split {split}", "dataset_name")
    if found is not None and not builder.has("data.eval"):
        builder.state("data.eval", found[0], doc.line_of(found[1]))
        builder.unstated.add("data.eval")


def _mapped(target: str, key: str, value: Any, line: int | None, builder: SpecBuilder) -> None:
    if value is None:
        return
    if target == "model.dtype":
        dtype = DTYPES.get(str(value))
        if dtype is None:
            builder.note(f"{key}: {value!r} leaves the model dtype to the script (auto)")
            return
        value = dtype
    if target == "lora.target_modules":
        if isinstance(value, str):
            value = ["all-linear"] if value in {"all", "all-linear"} else value.split(",")
        value = [str(v).strip() for v in value]
    if target == "data.train" and not isinstance(value, str):
        value = ", ".join(str(v) for v in value) if isinstance(value, list | dict) else str(value)
    builder.state(target, value, line)


def _model_extras(data: dict[str, Any], doc: YamlDocument, builder: SpecBuilder) -> None:
    if data.get("load_in_4bit") is True or data.get("quantization_bit") == 4:
        key = "load_in_4bit" if "load_in_4bit" in data else "quantization_bit"
        builder.state("model.dtype", "nf4", doc.line_of(key))
    elif data.get("load_in_8bit") is True or data.get("quantization_bit") == 8:
        key = "load_in_8bit" if "load_in_8bit" in data else "quantization_bit"
        builder.state("model.dtype", "int8", doc.line_of(key))
    lora_wanted = data.get("use_peft") is True or data.get("finetuning_type") == "lora"
    if not lora_wanted:
        lora = builder.values.pop("lora", None)
        if lora:
            builder.note("lora_* keys without use_peft/finetuning_type: lora: full fine-tune")
        for key in [k for k in builder.lines if k.startswith("lora")]:
            builder.lines.pop(key)
    elif not builder.values.get("lora"):
        key = "use_peft" if "use_peft" in data else "finetuning_type"
        builder.state("lora.r", 16 if builder.kind != "llamafactory" else 8, doc.line_of(key))
        builder.unstated.add("lora.r")
        builder.note("LoRA on, rank not stated: the script's default rank is assumed")


def _length(data: dict[str, Any], doc: YamlDocument, builder: SpecBuilder) -> None:
    if builder.has("data.max_length"):
        return
    for key in ("max_length", "max_seq_length"):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            builder.state("data.max_length", value, doc.line_of(key))
            return


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
