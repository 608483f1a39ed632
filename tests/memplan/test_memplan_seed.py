"""The seed's story: its failing start must not fit a 24 GB A10G, its final setting must."""

from __future__ import annotations

import pytest

from memplan import LoraSetup, TrainingSetup, estimate, load_architecture
from memplan.constants import GIB
from memplan.suggest import suggest

A10G_GIB = 22.03  # torch-visible total_memory of an A10G (costmodel/data/gpus.json memory_source)


def _seed(**changes: object) -> TrainingSetup:
    base = TrainingSetup(
        arch=load_architecture("mistralai/Mistral-7B-v0.1"),
        batch_size=2,
        seq_len=512,
        weight_dtype="float16",
        mixed_precision="fp16",
        lora=LoraSetup(r=16, target_modules=("q_proj", "k_proj", "v_proj", "o_proj"), dropout=0.05),
        gradient_accumulation_steps=8,
        capacity_gib=A10G_GIB,
    )
    return base.with_(**changes)


def test_failing_start_does_not_fit_with_headroom() -> None:
    plan = estimate(_seed())
    assert plan.fits_with(0.10) is False
    # fp16 weights alone are 13.5 GiB (7.24e9 x 2 bytes).
    assert plan.breakdown["weights"] / GIB == pytest.approx(13.5, abs=0.1)


def test_final_setting_fits() -> None:
    final = _seed(
        batch_size=1,
        seq_len=256,
        gradient_checkpointing=True,
        gradient_accumulation_steps=16,
        lora=LoraSetup(r=16, target_modules=("q_proj", "v_proj"), dropout=0.05),
    )
    plan = estimate(final)
    assert plan.fits is True and plan.fits_with(0.10) is True
    assert plan.trainable_params == 6_815_744


def test_each_fix_of_the_seed_lowers_the_peak() -> None:
    start = estimate(_seed()).peak_bytes
    assert estimate(_seed(batch_size=1)).peak_bytes < start
    assert estimate(_seed(seq_len=256)).peak_bytes < start
    assert estimate(_seed(gradient_checkpointing=True)).peak_bytes < start
    fewer = LoraSetup(r=16, target_modules=("q_proj", "v_proj"), dropout=0.05)
    assert estimate(_seed(lora=fewer)).peak_bytes < start


def test_suggest_finds_settings_that_fit_and_keep_the_effective_batch() -> None:
    found = suggest(_seed(), headroom=0.10)
    assert found
    for s in found:
        assert s.plan.fits_with(0.10)
        eff = s.setup.batch_size * s.setup.gradient_accumulation_steps
        assert eff >= 16
    assert found[0].score >= found[-1].score


def test_suggest_without_capacity_is_empty() -> None:
    assert suggest(_seed(capacity_gib=None)) == []


def test_larger_batches_and_sequences_cost_more() -> None:
    a = estimate(_seed(batch_size=1, seq_len=256)).peak_bytes
    b = estimate(_seed(batch_size=1, seq_len=512)).peak_bytes
    c = estimate(_seed(batch_size=1, seq_len=512, attn_implementation="eager")).peak_bytes
    assert a < b < c


def test_sharding_lowers_per_gpu_memory_of_full_fine_tuning() -> None:
    full = _seed(
        lora=None, weight_dtype="bfloat16", mixed_precision="bf16", num_gpus=8, capacity_gib=74.5
    )
    single = estimate(full.with_(distributed="none")).peak_bytes
    ddp = estimate(full.with_(distributed="ddp")).peak_bytes
    z1 = estimate(full.with_(distributed="zero1")).peak_bytes
    z2 = estimate(full.with_(distributed="zero2")).peak_bytes
    z3 = estimate(full.with_(distributed="zero3")).peak_bytes
    assert ddp > single  # DDP's gradient buckets
    assert z1 > z2 > z3


def test_quantized_weights_shrink_to_about_a_quarter() -> None:
    fp16 = estimate(_seed(batch_size=1, seq_len=128)).breakdown["weights"]
    nf4 = estimate(_seed(batch_size=1, seq_len=128, weight_dtype="nf4")).breakdown["weights"]
    assert 0.2 < nf4 / fp16 < 0.35


def test_json_object_has_the_contract_keys() -> None:
    out = estimate(_seed()).to_json()
    for key in (
        "peak_gib",
        "capacity_gib",
        "fits",
        "breakdown_gib",
        "total_params",
        "trainable_params",
    ):
        assert key in out
    assert sum(out["breakdown_gib"].values()) == pytest.approx(out["peak_gib"], abs=0.01)
