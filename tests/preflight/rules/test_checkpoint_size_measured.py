"""PF105's checkpoint size model against real checkpoints written by Trainer (CPU, no download).

A small Mistral is built from a config with random weights, trained two steps with AdamW, and
saved; the estimate (``sync.checkpoint_gb`` from memplan's parameter counts) must match the
bytes Trainer wrote for the weights/adapter and the optimizer state within 10%.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rule_case_harness import make_plan

from preflight.rules.sync import checkpoint_gb, param_counts

CONFIG: dict[str, Any] = {
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "hidden_size": 256,
    "intermediate_size": 512,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 2048,
    "max_position_embeddings": 128,
    "tie_word_embeddings": False,
}
STATE_FILES = ("model.safetensors", "adapter_model.safetensors", "optimizer.pt")


def _train_and_save(model_dir: Path, out: Path, lora: dict[str, Any] | None) -> int:
    """Bytes of weights/adapter + optimizer.pt in the checkpoint Trainer writes at step 2."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.AutoConfig.for_model(
        **{k: v for k, v in CONFIG.items() if k != "architectures"}
    )
    torch.manual_seed(0)
    model = transformers.MistralForCausalLM(config)
    if lora is not None:
        peft = pytest.importorskip("peft")
        model = peft.get_peft_model(
            model,
            peft.LoraConfig(r=lora["r"], target_modules=lora["target_modules"], lora_alpha=16),
        )
    rows = [
        {"input_ids": list(range(i, i + 16)), "labels": list(range(i, i + 16))} for i in range(8)
    ]
    args = transformers.TrainingArguments(
        output_dir=str(out),
        max_steps=2,
        save_steps=2,
        per_device_train_batch_size=4,
        report_to="none",
        use_cpu=True,
        logging_strategy="no",
    )
    transformers.Trainer(model=model, args=args, train_dataset=rows).train()
    ckpt = out / "checkpoint-2"
    return sum((ckpt / name).stat().st_size for name in STATE_FILES if (ckpt / name).exists())


@pytest.mark.slow
@pytest.mark.parametrize(
    "lora",
    [None, {"r": 16, "target_modules": ["q_proj", "v_proj", "down_proj"]}],
    ids=["full", "lora"],
)
def test_checkpoint_size_estimate_matches_trainer(
    tmp_path: Path, lora: dict[str, Any] | None
) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps(CONFIG))
    fragment: dict[str, Any] = {"model": {"name": "model", "dtype": "float32"}}
    if lora is not None:
        fragment["lora"] = lora
    plan = make_plan(fragment, tmp_path)
    counts = param_counts(plan)
    assert counts is not None
    estimate = checkpoint_gb(plan, *counts) * 1e9
    written = _train_and_save(model_dir, tmp_path / "out", lora)
    print(f"checkpoint bytes: estimate {estimate:,.0f}, written {written:,.0f}")
    assert abs(estimate - written) / written < 0.10, (estimate, written)
