"""preflight.memory: a job spec becomes memplan's TrainingSetup; problems name file, line, key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preflight.memory import plan_memory, setup_from_spec
from preflight.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parents[2]


def test_seed_fixed_example_maps_every_field() -> None:
    setup = setup_from_spec(load_spec(ROOT / "examples" / "seed-fixed.yaml"))
    assert setup.arch.name == "mistralai/Mistral-7B-v0.1"
    assert (setup.batch_size, setup.seq_len, setup.gradient_accumulation_steps) == (1, 256, 16)
    assert setup.gradient_checkpointing is True
    assert setup.mixed_precision == "fp16" and setup.weight_dtype == "float16"
    assert setup.lora is not None and setup.lora.target_modules == ("q_proj", "v_proj")
    assert setup.capacity_gib == pytest.approx(22.03) and setup.gpu_name == "A10G"


def test_plan_memory_returns_a_plan_for_preflight() -> None:
    plan, note = plan_memory(load_spec(ROOT / "examples" / "seed-fixed.yaml"))
    assert note is None and plan is not None and plan.fits is True


SPEC = """\
model:
  name: {model}
  dtype: {dtype}
{lora}training:
  output_dir: /tmp/out
  per_device_train_batch_size: 4
  optim: {optim}
compute:
  provider: sagemaker
  instance_type: {instance}
"""


def _spec(tmp_path: Path, **kw: str) -> Path:
    values = dict(
        model="qwen2.5-0.5b",
        dtype="bfloat16",
        lora="",
        optim="adamw_torch",
        instance="ml.g5.xlarge",
    )
    values.update(kw)
    path = tmp_path / "job.yaml"
    path.write_text(SPEC.format(**values))
    return path


def test_every_problem_is_reported_at_once_with_lines(tmp_path: Path) -> None:
    lora = "lora:\n  r: 8\n  target_modules: [q_proj, gate]\n"
    path = _spec(tmp_path, model="phi-3-mini", optim="lion_9bit", lora=lora)
    with pytest.raises(SpecError) as info:
        setup_from_spec(load_spec(path))
    keys = {i.key: i.line for i in info.value.issues}
    assert keys == {"lora.target_modules": 6, "training.optim": 10}
    assert "qkv_proj" in str(info.value)


def test_quantized_full_fine_tuning_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        setup_from_spec(load_spec(_spec(tmp_path, dtype="nf4")))
    assert [i.key for i in info.value.issues] == ["model.dtype"]


def test_lora_section_maps_to_lora_setup(tmp_path: Path) -> None:
    lora = "lora:\n  r: 8\n  alpha: 16\n  dropout: 0.0\n  target_modules: [all-linear]\n"
    setup = setup_from_spec(load_spec(_spec(tmp_path, lora=lora, dtype="nf4")))
    assert setup.lora is not None and setup.lora.r == 8 and setup.weight_dtype == "nf4"


def test_local_model_directory_next_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "mymodel").mkdir()
    cfg = {
        "model_type": "llama",
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "vocab_size": 256,
    }
    (tmp_path / "mymodel" / "config.json").write_text(json.dumps(cfg))
    setup = setup_from_spec(load_spec(_spec(tmp_path, model="mymodel")))
    assert setup.arch.hidden_size == 64
