"""axolotl YAML: its own names (``base_model``, ``micro_batch_size``, ``sequence_len``, ...).

axolotl builds TrainingArguments from its config, renaming some keys and filling its own
defaults; this reader does the same translation from ``preflight/data/axolotl_keys.yaml``, so
the rules judge what the Trainer will actually get. axolotl itself silently drops unknown keys;
here a key one edit away from a known one is reported (PF502) instead.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from ..spec.yaml_source import YamlDocument
from ..suggest import nearest
from .builder import SpecBuilder
from .launchers import apply_deepspeed_file
from .recipe import _one_edit

HANDLED = {
    "adapter",
    "datasets",
    "lora_target_linear",
    "load_in_4bit",
    "load_in_8bit",
    "flash_attention",
    "sdp_attention",
    "val_set_size",
    "test_datasets",
    "saves_per_epoch",
}
"""Keys read below by their own code (model dtype, LoRA targets, data), not by the tables."""
MARKERS = {"micro_batch_size", "sequence_len", "datasets", "adapter", "lora_r", "num_epochs"}


@lru_cache(maxsize=1)
def axolotl_keys() -> dict[str, Any]:
    from ruamel.yaml import YAML

    text = resources.files("preflight.data").joinpath("axolotl_keys.yaml").read_text()
    data: dict[str, Any] = YAML(typ="safe").load(text)
    return data


def looks_like_axolotl(data: dict[str, Any]) -> bool:
    return "base_model" in data and len(MARKERS & set(data)) >= 2


def read_axolotl(doc: YamlDocument, builder: SpecBuilder) -> None:
    data: dict[str, Any] = doc.data
    table = axolotl_keys()
    renames: dict[str, str] = table["renames"]
    passthrough = set(table["passthrough"])
    own = set(table.get("own", []))
    lora_on = data.get("adapter") in {"lora", "qlora"}
    skipped: list[str] = []
    for key, value in data.items():
        if not isinstance(key, str) or value is None:
            continue
        line = doc.line_of(key)
        target = renames.get(key) or (f"training.{key}" if key in passthrough else None)
        if target is None and (key in HANDLED or key in own):
            continue
        if target is None:
            close = nearest(key, set(renames) | passthrough | own)
            if any(_one_edit(key, c) for c in close):
                builder.state(f"training.{key}", value, line)  # a misspelling: PF502 names it
            else:
                skipped.append(key)
            continue
        if target.startswith("lora.") and not lora_on:
            continue
        if value in table.get("own_values", {}).get(key, ()):
            builder.note(f"{key}: {value!r} is axolotl's own, set up by axolotl itself")
            continue
        if target == "lora.target_modules" and isinstance(value, str):
            value = [value]
        if key == "deepspeed" and isinstance(value, str):
            apply_deepspeed_file(doc.path.parent / value, builder, (line, None))
        builder.state(target, value, line)
    _adapter(data, doc, builder, lora_on)
    _model(data, doc, builder)
    _datasets(data, doc, builder)
    for key, value in table["defaults"].items():
        if not builder.has(f"training.{key}"):
            builder.state(f"training.{key}", value, None)
            builder.note(f"training.{key} = {value!r}: axolotl's default when unset")
    if not builder.has("training.save_strategy") and not builder.has("training.save_steps"):
        if not data.get("saves_per_epoch"):
            builder.state("training.save_strategy", "epoch", None)
            builder.note("training.save_strategy = 'epoch': axolotl's default when unset")
    if data.get("saves_per_epoch"):
        builder.note(
            f"saves_per_epoch {data['saves_per_epoch']}: axolotl turns it into save_steps from "
            "the number of steps per epoch, which depends on the data"
        )
    if skipped:
        builder.note(f"{len(skipped)} axolotl keys not checked: {', '.join(sorted(skipped))}")


def _adapter(data: dict[str, Any], doc: YamlDocument, builder: SpecBuilder, lora_on: bool) -> None:
    if not lora_on:
        return
    if data.get("lora_target_linear") is True and not builder.has("lora.target_modules"):
        builder.state("lora.target_modules", ["all-linear"], doc.line_of("lora_target_linear"))
    if not builder.has("lora.r"):
        builder.state("lora.r", 8, doc.line_of("adapter"))
        builder.note("adapter set without lora_r: peft's default r=8 assumed")
        builder.unstated.add("lora.r")


def _model(data: dict[str, Any], doc: YamlDocument, builder: SpecBuilder) -> None:
    if data.get("adapter") == "qlora" or data.get("load_in_4bit") is True:
        key = "load_in_4bit" if "load_in_4bit" in data else "adapter"
        builder.state("model.dtype", "nf4", doc.line_of(key))
    elif data.get("load_in_8bit") is True:
        builder.state("model.dtype", "int8", doc.line_of("load_in_8bit"))
    elif data.get("bf16") is True:
        builder.state("model.dtype", "bfloat16", doc.line_of("bf16"))
    elif data.get("fp16") is True:
        builder.state("model.dtype", "float16", doc.line_of("fp16"))
    if data.get("flash_attention") is True:
        builder.state(
            "model.attn_implementation", "flash_attention_2", doc.line_of("flash_attention")
        )
    elif data.get("sdp_attention") is True:
        builder.state("model.attn_implementation", "sdpa", doc.line_of("sdp_attention"))
    for key in ("bf16", "fp16"):
        if not isinstance(data.get(key), bool):
            builder.drop(f"training.{key}")  # axolotl's "auto" is resolved on the GPU


def _datasets(data: dict[str, Any], doc: YamlDocument, builder: SpecBuilder) -> None:
    sets = data.get("datasets")
    if isinstance(sets, list) and sets and isinstance(sets[0], dict) and "path" in sets[0]:
        paths = [str(s.get("path")) for s in sets if isinstance(s, dict)]
        builder.state("data.train", ", ".join(paths), doc.line_of("datasets"))
    val = data.get("val_set_size")
    if isinstance(val, int | float) and not isinstance(val, bool) and val > 0:
        builder.state(
            "data.eval", f"{val} of the training data (val_set_size)", doc.line_of("val_set_size")
        )
    elif isinstance(data.get("test_datasets"), list):
        builder.state("data.eval", "test_datasets", doc.line_of("test_datasets"))
