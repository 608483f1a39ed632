"""The analytic engine against the traced one (real transformers + peft code on fake tensors).

Each case traces the real architecture cut to 1 and 2 decoder layers and compares every phase
peak with the analytic estimate of the same cut architecture; the traced figures are measured,
not computed by the code under test.
"""

from __future__ import annotations

import warnings

import pytest

from memplan import LoraSetup, TrainingSetup, estimate, load_architecture

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from memplan.trace import probe, trace

LORA4 = LoraSetup(r=16, target_modules=("q_proj", "k_proj", "v_proj", "o_proj"), dropout=0.05)
LORA2 = LoraSetup(r=16, target_modules=("q_proj", "v_proj"), dropout=0.05)

CASES = {
    "seed-start": (
        "mistral-7b",
        dict(batch_size=2, seq_len=512, weight_dtype="float16", mixed_precision="fp16", lora=LORA4),
    ),
    "seed-final": (
        "mistral-7b",
        dict(
            batch_size=1,
            seq_len=256,
            weight_dtype="float16",
            mixed_precision="fp16",
            lora=LORA2,
            gradient_checkpointing=True,
        ),
    ),
    "llama3-full-bf16": ("llama-3-8b", dict(batch_size=1, seq_len=256, weight_dtype="bfloat16")),
    "qwen-fp32-amp-full": (
        "qwen2.5-0.5b",
        dict(batch_size=2, seq_len=256, weight_dtype="float32", mixed_precision="bf16"),
    ),
    "phi3-lora-eager": (
        "phi-3-mini",
        dict(
            batch_size=1,
            seq_len=256,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            attn_implementation="eager",
            lora=LoraSetup(r=8, target_modules=("qkv_proj",)),
        ),
    ),
    "gemma2-lora": (
        "gemma-2-9b",
        dict(
            batch_size=1,
            seq_len=256,
            weight_dtype="bfloat16",
            lora=LoraSetup(r=8, target_modules=("all-linear",)),
        ),
    ),
    "llama2-adafactor": (
        "llama-2-7b",
        dict(batch_size=1, seq_len=128, weight_dtype="bfloat16", optimizer="adafactor"),
    ),
    "llama2-sgd-ckpt": (
        "llama-2-7b",
        dict(
            batch_size=2,
            seq_len=128,
            weight_dtype="bfloat16",
            optimizer="sgd",
            gradient_checkpointing=True,
        ),
    ),
}


def _steady(p, accumulation: int = 1) -> dict[str, int]:  # type: ignore[no-untyped-def]
    grads = p.gradients if accumulation > 1 else 0
    return {
        "forward": p.phase_peaks["forward"] + p.optimizer_state + grads,
        "backward": p.phase_peaks["backward"] + p.optimizer_state + grads,
        "optimizer": p.phase_peaks["optimizer"],
    }


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("layers", [1, 2])
def test_analytic_phase_peaks_match_the_trace(case: str, layers: int) -> None:
    model, kwargs = CASES[case]
    arch = load_architecture(model).with_layers(layers)
    setup = TrainingSetup(arch=arch, **kwargs)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = _steady(probe(setup, layers))
    plan = estimate(setup)
    for phase, value in traced.items():
        assert plan.phase_peaks[phase] == pytest.approx(value, rel=0.02), phase


def test_probe_extrapolation_matches_a_whole_model_trace() -> None:
    arch = load_architecture("qwen2.5-0.5b").with_layers(5)
    setup = TrainingSetup(
        arch=arch,
        batch_size=2,
        seq_len=128,
        weight_dtype="bfloat16",
        mixed_precision="bf16",
        lora=LORA2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = _steady(probe(setup, 5))
        extrapolated = trace(setup)
    for phase, value in whole.items():
        assert extrapolated.phase_peaks[phase] == pytest.approx(value, rel=0.001), phase


def test_quantized_weights_are_not_traced() -> None:
    from memplan.trace import TraceUnsupportedError

    setup = TrainingSetup(arch=load_architecture("tiny-mistral"), weight_dtype="nf4", lora=LORA2)
    with pytest.raises(TraceUnsupportedError, match="bitsandbytes"):
        trace(setup)


def test_tracker_counts_storages_once_and_frees_them() -> None:
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    from memplan.trace import _LiveStorageTracker

    tracker = _LiveStorageTracker()
    with FakeTensorMode(), tracker.mode():
        a = torch.empty(1024, 1024)  # 4 MiB
        view = a[:10]  # a view: no new storage
        b = a * 2  # 4 MiB more
        assert tracker.total == 8 * 1024**2
        del b
        assert tracker.total == 4 * 1024**2
        del view, a
    assert tracker.total == 0
    assert tracker.phase_peaks["forward"] == 8 * 1024**2
