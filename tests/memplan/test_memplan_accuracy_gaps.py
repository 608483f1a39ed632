"""The accuracy gaps of issue 15, each held by the traced engine (real transformers/peft/torch code).

Every case was measured off by more than 3% before its fix (numbers in the ids' comments, same
setting, analytic vs traced); now the analytic estimate must stay within 3% of the trace,
extrapolated from 1- and 2-layer probes to 16 layers. The architecture is a Mistral layout at a
small width so long sequences trace in seconds; the ratios that matter (scores vs the rest)
are what they are at any width.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import pytest

from memplan import LoraSetup, TrainingSetup, estimate, load_architecture
from memplan.architecture import Architecture

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from memplan.trace import trace

QV = LoraSetup(r=8, target_modules=("q_proj", "v_proj"))


def _small(layers: int = 16) -> Architecture:
    base = load_architecture("tiny-mistral")
    dims = dict(
        hidden_size=256,
        intermediate_size=512,
        num_attention_heads=8,
        num_key_value_heads=2,
        head_dim=32,
        vocab_size=1024,
        max_position_embeddings=16384,
    )
    cfg = dict(base.config)
    cfg.update(dims)
    return dataclasses.replace(base, config=cfg, **dims).with_layers(layers)  # type: ignore[arg-type]


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    # eager attention's backward transients (grads of the s x s scores) and forward scores:
    # -31% / -39% (forward / backward) at 2k, -39% / -47% at 8k before.
    "eager-bf16-2k": ("small", dict(seq_len=2048, attn_implementation="eager", lora=QV)),
    "eager-bf16-8k": ("small", dict(seq_len=8192, attn_implementation="eager", lora=QV)),
    "eager-fp16-2k": (
        "small",
        dict(
            seq_len=2048,
            attn_implementation="eager",
            weight_dtype="float16",
            mixed_precision="fp16",
            lora=QV,
        ),
    ),
    "eager-ckpt-4k": (
        "small",
        dict(seq_len=4096, attn_implementation="eager", lora=QV, gradient_checkpointing=True),
    ),
    # fp32 master weights + bf16 autocast + checkpointing: autocast's cast cache (-8% forward),
    # and the first layer's recompute on top of nearly all gradients (-4% backward).
    "fp32-amp-ckpt": (
        "small",
        dict(
            seq_len=512,
            weight_dtype="float32",
            mixed_precision="bf16",
            gradient_checkpointing=True,
        ),
    ),
    # fp16 weights under bf16 autocast: the residual is promoted to fp32 (-11% forward).
    "fp16-weights-bf16-amp": (
        "small",
        dict(seq_len=512, weight_dtype="float16", mixed_precision="bf16", lora=QV),
    ),
    # optim adamw_torch (foreach): a full copy of exp_avg_sq inside step().
    "adamw-foreach": ("small", dict(seq_len=256, optimizer="adamw_foreach")),
    "rmsprop-foreach": ("small", dict(seq_len=256, optimizer="rmsprop")),
    # DoRA keeps the base and LoRA outputs of every targeted layer (-4% forward before).
    "dora": (
        "small",
        dict(
            seq_len=512,
            mixed_precision="bf16",
            lora=LoraSetup(r=8, target_modules=("q_proj", "v_proj"), use_dora=True),
        ),
    ),
    # prepare_model_for_kbit_training's fp32 upcast (-10% forward before).
    "kbit-upcast": ("small", dict(seq_len=512, mixed_precision="bf16", lora=QV, kbit_upcast=True)),
    "modules-to-save-bias": (
        "small",
        dict(
            seq_len=512,
            lora=LoraSetup(
                r=8, target_modules=("q_proj", "v_proj"), modules_to_save=("lm_head",), bias="all"
            ),
        ),
    ),
    # Gemma 2 with flash_attention_2 (was always modelled as eager).
    "gemma2-fa2": (
        "gemma-2-9b",
        dict(seq_len=256, attn_implementation="flash_attention_2", lora=QV),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_analytic_matches_trace_within_3_percent(case: str) -> None:
    model, kwargs = CASES[case]
    arch = _small() if model == "small" else load_architecture(model).with_layers(16)
    setup = TrainingSetup(arch=arch, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = trace(setup)
    plan = estimate(setup)
    assert plan.trainable_params == traced.trainable_params
    for phase, value in traced.phase_peaks.items():
        assert plan.phase_peaks[phase] == pytest.approx(value, rel=0.03), phase


def test_gemma2_flash_is_not_modelled_as_eager() -> None:
    arch = load_architecture("gemma-2-9b")
    eager = estimate(TrainingSetup(arch=arch, seq_len=4096, lora=QV))
    flash = estimate(
        TrainingSetup(arch=arch, seq_len=4096, lora=QV, attn_implementation="flash_attention_2")
    )
    assert flash.peak_bytes < 0.8 * eager.peak_bytes


def test_foreach_step_holds_one_state_copy_more_than_fused() -> None:
    arch = _small()
    fused = estimate(TrainingSetup(arch=arch, optimizer="adamw"))
    foreach = estimate(TrainingSetup(arch=arch, optimizer="adamw_foreach"))
    extra = foreach.phase_peaks["optimizer"] - fused.phase_peaks["optimizer"]
    assert extra == fused.trainable_params * 2  # one bf16 state


def test_every_training_arguments_optim_is_mapped_or_refused() -> None:
    from transformers.training_args import OptimizerNames

    from memplan.setup import UNMODELLED_OPTIM, optimizer_kind

    def unmodelled(name: str) -> bool:
        return any(
            name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in UNMODELLED_OPTIM
        )

    for member in OptimizerNames:
        name = str(member.value)
        if unmodelled(name):
            with pytest.raises(ValueError):
                optimizer_kind(name)
        else:
            assert optimizer_kind(name)
    assert optimizer_kind("adamw_torch") == "adamw_foreach"
    assert optimizer_kind("adamw_torch_fused") == "adamw"
