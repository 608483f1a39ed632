"""FLOPs per token, step counts and hours, against hand arithmetic."""

from __future__ import annotations

import pytest

from costmodel import Workload, estimate_checkpoint_minutes, estimate_duration, load_catalog

# Mistral-7B-v0.1: 7,241,732,096 parameters, 32 layers, hidden 4096, vocab 32,000 (untied);
# LoRA r=16 on q_proj (4096->4096) and v_proj (4096->1024): 32 x 16 x (8192 + 5120) = 6,815,744.
MISTRAL = {
    "params_total": 7_241_732_096,
    "params_trainable": 6_815_744,
    "num_layers": 32,
    "hidden_size": 4096,
    "embedding_params": 32_000 * 4096,
}


def _w(**kw: object) -> Workload:
    base: dict[str, object] = {
        "params_total": 10**9,
        "params_trainable": 10**9,
        "num_layers": 2,
        "hidden_size": 8,
        "tokens_per_example": 4,
        "num_examples": 1000,
    }
    base.update(kw)
    return Workload(**base)  # type: ignore[arg-type]


def test_flops_per_token_full_and_lora() -> None:
    # full: 6N + attention 4 x s x d x layers x 3 = 6e9 + 4*4*8*2*3
    assert _w(lora=False).flops_per_token() == 6e9 + 768
    # + checkpointing: 8N, attention x4
    assert _w(lora=False, gradient_checkpointing=True).flops_per_token() == 8e9 + 1024
    # LoRA, T = 1e6 trainable: 4N + 6T (+ attention x3)
    assert _w(params_trainable=10**6).flops_per_token() == 4e9 + 6e6 + 768
    # embeddings are looked up, not multiplied
    assert _w(lora=False, embedding_params=10**8).flops_per_token() == 6 * 9e8 + 768


def test_steps_follow_the_trainer() -> None:
    w = _w(per_device_batch_size=2, grad_accum=4, epochs=2)
    assert w.steps(1) == 250  # 1000 / 2 = 500 batches -> 125 steps per epoch
    assert w.steps(4) == 62  # 125 batches per device -> 31 steps per epoch
    assert _w(max_steps=77).steps(8) == 77
    assert _w(max_steps=10, per_device_batch_size=2, grad_accum=3).examples(2) == 120


def test_an_epoch_is_one_pass_over_the_data_whatever_ends_the_run() -> None:
    # 1000 examples / batch 2 = 500 batches // grad_accum 4 = 125 optimizer steps per epoch,
    # with max_steps 300 too (Trainer then ignores num_train_epochs, not the epoch's length)
    assert _w(per_device_batch_size=2, grad_accum=4, epochs=2).steps_per_epoch(1) == 125
    assert _w(per_device_batch_size=2, grad_accum=4, max_steps=300).steps_per_epoch(1) == 125
    assert _w(per_device_batch_size=2, grad_accum=4).steps_per_epoch(4) == 31  # 125 // 4
    assert _w(num_examples=None, max_steps=300).steps_per_epoch(1) is None  # size unknown
    est = estimate_duration(_w(max_steps=300, per_device_batch_size=2), "ml.g5.xlarge")
    assert (est.total_steps, est.steps_per_epoch) == (300, 500)
    assert est.to_json()["steps_per_epoch"] == 500


def test_hours_from_given_throughput() -> None:
    w = _w(lora=False, num_examples=3600, tokens_per_example=1000, hidden_size=1, num_layers=1)
    # tokens 3.6e6 x (6e9 + 12000) FLOP / 100 TFLOPS
    est = estimate_duration(w, "ml.g6e.xlarge", effective_tflops=100.0)
    assert est.hours == pytest.approx(3.6e6 * (6e9 + 12000) / 100e12 / 3600)
    assert est.seconds_per_step * est.total_steps == pytest.approx(est.hours * 3600)
    # 4 GPUs in data parallel: a quarter of the time
    est4 = estimate_duration(w, "ml.g6e.12xlarge", effective_tflops=100.0)
    assert est4.world_size == 4
    assert est4.hours == pytest.approx(est.hours / 4)


def test_calibration_reproduces_the_seed_run() -> None:
    # The A10G figure in mfu.json was derived from the seed: 152,000 steps of 16 examples
    # padded to 256 tokens in 168 h. The FLOPs count must agree with that derivation.
    w = Workload(
        **MISTRAL,
        tokens_per_example=256,
        max_steps=152_000,
        grad_accum=16,
        lora=True,
        gradient_checkpointing=True,
    )
    est = estimate_duration(w, "ml.g5.xlarge")
    assert est.hours == pytest.approx(168.0, rel=0.01)


def test_seed_data_volume_is_far_beyond_seven_days() -> None:
    # 19.5M examples, one epoch, batch 1 x 16: 1,218,750 steps.
    w = Workload(
        **MISTRAL,
        tokens_per_example=64,
        num_examples=19_500_000,
        grad_accum=16,
        lora=True,
        gradient_checkpointing=True,
    )
    est = estimate_duration(w, "ml.g5.xlarge")
    assert est.total_steps == 1_218_750
    assert est.hours > 1.9 * 168  # ~334 h with dynamic padding, ~1,350 h padded to 256


def test_checkpoint_minutes_scale_with_trainable_params() -> None:
    lora = _w(params_trainable=6_815_744)
    full = _w(params_trainable=7_000_000_000, lora=False)
    assert estimate_checkpoint_minutes(lora) < 1.0
    # 12 bytes x 7e9 = 84 GB at 125 MB/s = 672 s, + 30 s
    assert estimate_checkpoint_minutes(full) == pytest.approx((672 + 30) / 60)


def test_workload_validation() -> None:
    with pytest.raises(ValueError, match="num_examples"):
        _w(num_examples=None)
    with pytest.raises(ValueError):
        _w(tokens_per_example=0)
    assert load_catalog().instance("ml.g5.xlarge")  # catalog loads alongside
