"""Spec keys memplan honours: double quantisation, kbit upcast, packing, DoRA, modules_to_save,
lora.bias, compute.gpu_memory_gib and `memplan estimate --gpu`. Real spec files, real loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from memplan import estimate
from memplan.constants import GIB
from preflight.cli_memplan import cli
from preflight.memory import setup_from_spec
from preflight.spec import SpecError, load_spec

BASE = """\
model:
  name: {model}
  dtype: {dtype}
{model_extra}lora:
  r: 32
  target_modules: [all-linear]
{lora_extra}training:
  per_device_train_batch_size: 2
  bf16: true
  gradient_checkpointing: true
data:
  max_length: 2048
{data_extra}compute:
  provider: local
{compute_extra}"""


def _setup(tmp_path: Path, **parts: str):  # type: ignore[no-untyped-def]
    fields = dict(
        model="meta-llama/Meta-Llama-3-70B",
        dtype="nf4",
        model_extra="",
        lora_extra="",
        data_extra="",
        compute_extra="",
    )
    fields.update(parts)
    path = tmp_path / "job.yaml"
    path.write_text(BASE.format(**fields))
    return setup_from_spec(load_spec(path)), path


def test_double_quant_saves_about_3_gib_on_a_70b(tmp_path: Path) -> None:
    plain, _ = _setup(tmp_path)
    dq, _ = _setup(tmp_path, model_extra="  bnb_4bit_use_double_quant: true\n")
    assert dq.double_quant and not plain.double_quant
    saved = (estimate(plain).breakdown["weights"] - estimate(dq).breakdown["weights"]) / GIB
    assert 2.5 < saved < 3.5


def test_kbit_upcast_puts_embeddings_and_head_in_fp32(tmp_path: Path) -> None:
    plain, _ = _setup(tmp_path, model="meta-llama/Meta-Llama-3-8B")
    up, _ = _setup(
        tmp_path,
        model="meta-llama/Meta-Llama-3-8B",
        model_extra="  prepare_model_for_kbit_training: true\n",
    )
    grown = estimate(up).breakdown["weights"] - estimate(plain).breakdown["weights"]
    arch = plain.arch
    dense = 2 * arch.vocab_size * arch.hidden_size  # untied embedding + LM head
    assert grown >= dense * 2  # bf16 -> fp32: 2 more bytes each


def test_packing_removes_the_padding_mask(tmp_path: Path) -> None:
    padded, _ = _setup(tmp_path, model="mistralai/Mistral-7B-v0.1", dtype="bfloat16")
    packed, _ = _setup(
        tmp_path,
        model="mistralai/Mistral-7B-v0.1",
        dtype="bfloat16",
        data_extra="  packing: true\n",
    )
    assert padded.padded and not packed.padded and packed.seq_len == 2048


def test_dora_modules_to_save_and_bias_are_trained(tmp_path: Path) -> None:
    plain, _ = _setup(tmp_path, model="Qwen/Qwen2.5-7B", dtype="bfloat16")
    more, _ = _setup(
        tmp_path,
        model="Qwen/Qwen2.5-7B",
        dtype="bfloat16",
        lora_extra="  use_dora: true\n  bias: all\n  modules_to_save: [lm_head]\n",
    )
    assert more.lora.use_dora and more.lora.bias == "all"
    p0, p1 = estimate(plain), estimate(more)
    arch = plain.arch
    assert p1.trainable_params - p0.trainable_params > arch.vocab_size * arch.hidden_size
    assert p1.peak_bytes > p0.peak_bytes


def test_unknown_modules_to_save_names_its_key(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as err:
        _setup(tmp_path, dtype="bfloat16", lora_extra="  modules_to_save: [classifier]\n")
    assert any(i.key == "lora.modules_to_save" for i in err.value.issues)


def test_gpu_memory_gib_gives_a_local_gpu_a_verdict(tmp_path: Path) -> None:
    setup, _ = _setup(tmp_path, compute_extra="  gpu_memory_gib: 47.5\n")
    assert setup.capacity_gib == pytest.approx(47.5)
    assert estimate(setup).fits is not None


@pytest.mark.parametrize(("gpu", "gib"), [("H100", 79.11), ("a100-80gb", 79.15), ("47.5", 47.5)])
def test_memplan_gpu_option(tmp_path: Path, gpu: str, gib: float) -> None:
    _, path = _setup(tmp_path)
    result = CliRunner().invoke(cli, ["estimate", str(path), "--gpu", gpu, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["memory"]["capacity_gib"] == pytest.approx(gib)


def test_memplan_gpu_option_unknown_name_exits_2(tmp_path: Path) -> None:
    _, path = _setup(tmp_path)
    result = CliRunner().invoke(cli, ["estimate", str(path), "--gpu", "H900"])
    assert result.exit_code == 2 and "unknown GPU" in result.output
