"""``protect(trainer)`` in-process on a plain transformers Trainer (the tiny model, real training):
what it records, the final save, and the refusal of a resume under a changed plan."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from trainjob_helpers import DATA

from trainjob import protect
from trainjob.callbacks import SignalSave


class Lines(logging.Handler):
    """The trainjob logger's records (it does not propagate to pytest's caplog)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    from peft import LoraConfig, get_peft_model

    from trainjob.data import read_texts, tokenize
    from trainjob.modelbuild import build_from_config, bundled_config

    root = tmp_path_factory.mktemp("protect")
    texts = read_texts(
        DATA / "tiny-pairs.jsonl", fmt="pairs", prompt_template="EN: {source}\nFR: {target}"
    ).texts[:48]
    fields = bundled_config("tiny-mistral")
    assert fields is not None
    built = build_from_config(fields, texts, root / "assets", seed=5, origin="tiny-mistral")
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=["q_proj", "v_proj"])
    model = get_peft_model(built.model, lora)
    return model, built.tokenizer, tokenize(texts, built.tokenizer, 24).examples


def trainer_for(parts: tuple[Any, Any, Any], out: Path, **args: Any) -> Any:
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    model, tok, data = parts
    values: dict[str, Any] = {
        "output_dir": str(out),
        "max_steps": 6,
        "per_device_train_batch_size": 4,
        "save_strategy": "steps",
        "save_steps": 3,
        "save_total_limit": 1,
        "report_to": "none",
        "use_cpu": True,
        "disable_tqdm": True,
        "seed": 1,
        **args,
    }
    return Trainer(
        model=model,
        args=TrainingArguments(**values),
        train_dataset=data,
        processing_class=tok,
        data_collator=DataCollatorForLanguageModeling(tok, mlm=False),
    )


@pytest.mark.slow
def test_protect_records_rotates_after_validation_and_refuses_a_changed_plan(
    parts: tuple[Any, Any, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    trainer = trainer_for(parts, out)
    protection = protect(trainer, canary_steps=None, canary_minutes=None)
    assert protect(trainer) is protection  # idempotent: the exec hook and the user both call it
    # the save on SIGTERM is trainjob's step-boundary one, not transformers' mid-step JIT save
    assert not trainer.args.enable_jit_checkpoint
    assert isinstance(protection.saver, SignalSave)
    assert protection.saver in trainer.callback_handler.callbacks
    assert trainer.args.save_total_limit is None  # the guard rotates, after validation
    trainer.train()
    assert protection.outcome == "completed" and protection.guard.written == [3, 6]
    manifest = json.loads((out / "trainjob-manifest.json").read_text())
    assert manifest["checkpoints"]["checkpoint-6"]["status"] == "valid"
    assert manifest["checkpoints"]["checkpoint-3"]["status"] == "rotated"
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-6"]
    marker = json.loads((out / "final-model" / "trainjob-final.json").read_text())
    assert (
        marker["global_step"] == 6 and (out / "final-model" / "adapter_model.safetensors").is_file()
    )

    # the same output_dir, another batch size: Trainer would resume silently; protect refuses
    changed = trainer_for(parts, out, max_steps=8, per_device_train_batch_size=2)
    protect(changed, canary_steps=None, canary_minutes=None)
    seen = Lines()
    logging.getLogger("trainjob").addHandler(seen)
    try:
        with pytest.raises(SystemExit) as stop:
            changed.train()
    finally:
        logging.getLogger("trainjob").removeHandler(seen)
    assert stop.value.code == 1
    assert any("per_device_train_batch_size: 4 -> 2" in line for line in seen.lines)
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-6"]

    allowed = trainer_for(parts, out, max_steps=8, per_device_train_batch_size=2)
    again = protect(allowed, canary_steps=None, canary_minutes=None, allow_mismatch=True)
    allowed.train()
    assert again.resumed_from == "checkpoint-6" and allowed.state.global_step == 8
