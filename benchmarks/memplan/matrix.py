"""The benchmark matrix shared by accuracy.py and peers.py: 30 training setups, plus long ones.

Models x LoRA/full x batch x length x checkpointing x dtype x optimizer x attention, chosen to
cover what people fine-tune on one to eight GPUs, the seed's two settings included.
"""

from __future__ import annotations

from typing import Any

from memplan import LoraSetup, TrainingSetup, load_architecture

QV = LoraSetup(r=16, target_modules=("q_proj", "v_proj"), dropout=0.05)
QKVO = LoraSetup(r=16, target_modules=("q_proj", "k_proj", "v_proj", "o_proj"), dropout=0.05)
ALL = LoraSetup(r=16, target_modules=("all-linear",), dropout=0.05)
PHI_QKV_O = LoraSetup(r=16, target_modules=("qkv_proj", "o_proj"), dropout=0.05)

# (id, model, TrainingSetup keyword arguments)
MATRIX: list[tuple[str, str, dict[str, Any]]] = [
    (
        "seed-start",
        "mistral-7b",
        dict(
            batch_size=2,
            seq_len=512,
            weight_dtype="float16",
            mixed_precision="fp16",
            lora=QKVO,
            gradient_accumulation_steps=8,
        ),
    ),
    (
        "seed-final",
        "mistral-7b",
        dict(
            batch_size=1,
            seq_len=256,
            weight_dtype="float16",
            mixed_precision="fp16",
            lora=QV,
            gradient_checkpointing=True,
            gradient_accumulation_steps=16,
        ),
    ),
    (
        "mistral-lora-ckpt-b4",
        "mistral-7b",
        dict(
            batch_size=4,
            seq_len=1024,
            weight_dtype="bfloat16",
            lora=QV,
            gradient_checkpointing=True,
        ),
    ),
    (
        "mistral-alllinear-eager",
        "mistral-7b",
        dict(
            batch_size=1,
            seq_len=2048,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            lora=ALL,
            attn_implementation="eager",
        ),
    ),
    (
        "mistral-full-adafactor",
        "mistral-7b",
        dict(
            batch_size=1,
            seq_len=1024,
            weight_dtype="bfloat16",
            optimizer="adafactor",
            gradient_checkpointing=True,
        ),
    ),
    (
        "mistral-lora-accum",
        "mistral-7b",
        dict(
            batch_size=1,
            seq_len=512,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            lora=LoraSetup(r=64, target_modules=("q_proj", "v_proj")),
            gradient_accumulation_steps=4,
        ),
    ),
    (
        "llama2-7b-lora-b8",
        "llama-2-7b",
        dict(batch_size=8, seq_len=512, weight_dtype="float16", mixed_precision="fp16", lora=QV),
    ),
    ("llama2-7b-full-bf16", "llama-2-7b", dict(batch_size=1, seq_len=512, weight_dtype="bfloat16")),
    (
        "llama2-7b-fp32-amp-sgd",
        "llama-2-7b",
        dict(
            batch_size=1,
            seq_len=256,
            weight_dtype="float32",
            mixed_precision="bf16",
            optimizer="sgd",
            gradient_checkpointing=True,
        ),
    ),
    (
        "llama2-7b-full-sgd-b4",
        "llama-2-7b",
        dict(batch_size=4, seq_len=512, weight_dtype="bfloat16", optimizer="sgd"),
    ),
    (
        "llama2-13b-qkvo-ckpt",
        "llama-2-13b",
        dict(
            batch_size=2,
            seq_len=1024,
            weight_dtype="bfloat16",
            lora=QKVO,
            gradient_checkpointing=True,
        ),
    ),
    (
        "llama2-13b-long",
        "llama-2-13b",
        dict(
            batch_size=1,
            seq_len=4096,
            weight_dtype="float16",
            mixed_precision="fp16",
            lora=QV,
            gradient_checkpointing=True,
        ),
    ),
    (
        "llama3-8b-alllinear",
        "llama-3-8b",
        dict(batch_size=2, seq_len=1024, weight_dtype="bfloat16", mixed_precision="bf16", lora=ALL),
    ),
    (
        "llama3-8b-full-ckpt",
        "llama-3-8b",
        dict(batch_size=1, seq_len=2048, weight_dtype="bfloat16", gradient_checkpointing=True),
    ),
    (
        "llama3-8b-full-adafactor",
        "llama-3-8b",
        dict(batch_size=1, seq_len=512, weight_dtype="bfloat16", optimizer="adafactor"),
    ),
    (
        "llama3-8b-full-accum",
        "llama-3-8b",
        dict(batch_size=1, seq_len=512, weight_dtype="bfloat16", gradient_accumulation_steps=8),
    ),
    (
        "llama3-70b-lora-ckpt",
        "llama-3-70b",
        dict(
            batch_size=1,
            seq_len=1024,
            weight_dtype="bfloat16",
            lora=QV,
            gradient_checkpointing=True,
        ),
    ),
    (
        "llama3-70b-alllinear",
        "llama-3-70b",
        dict(
            batch_size=1,
            seq_len=512,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            lora=ALL,
            gradient_checkpointing=True,
        ),
    ),
    ("qwen0.5b-full-b8", "qwen2.5-0.5b", dict(batch_size=8, seq_len=512, weight_dtype="bfloat16")),
    (
        "qwen0.5b-fp32-amp",
        "qwen2.5-0.5b",
        dict(batch_size=4, seq_len=1024, weight_dtype="float32", mixed_precision="bf16"),
    ),
    (
        "qwen0.5b-lora-eager-b16",
        "qwen2.5-0.5b",
        dict(
            batch_size=16,
            seq_len=256,
            weight_dtype="bfloat16",
            lora=QV,
            attn_implementation="eager",
        ),
    ),
    (
        "qwen1.5b-full-ckpt",
        "qwen2.5-1.5b",
        dict(batch_size=4, seq_len=1024, weight_dtype="bfloat16", gradient_checkpointing=True),
    ),
    (
        "qwen1.5b-alllinear-fp16",
        "qwen2.5-1.5b",
        dict(batch_size=8, seq_len=512, weight_dtype="float16", mixed_precision="fp16", lora=ALL),
    ),
    (
        "qwen7b-qkvo-long",
        "qwen2.5-7b",
        dict(
            batch_size=2,
            seq_len=2048,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            lora=QKVO,
            gradient_checkpointing=True,
        ),
    ),
    (
        "qwen7b-full-ckpt",
        "qwen2.5-7b",
        dict(batch_size=1, seq_len=1024, weight_dtype="bfloat16", gradient_checkpointing=True),
    ),
    (
        "gemma2-9b-lora",
        "gemma-2-9b",
        dict(batch_size=1, seq_len=1024, weight_dtype="bfloat16", lora=QV),
    ),
    (
        "gemma2-9b-alllinear-ckpt",
        "gemma-2-9b",
        dict(
            batch_size=2,
            seq_len=512,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            lora=ALL,
            gradient_checkpointing=True,
        ),
    ),
    (
        "phi3-lora-b4",
        "phi-3-mini",
        dict(
            batch_size=4,
            seq_len=1024,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            lora=PHI_QKV_O,
        ),
    ),
    (
        "phi3-full-ckpt",
        "phi-3-mini",
        dict(batch_size=2, seq_len=2048, weight_dtype="bfloat16", gradient_checkpointing=True),
    ),
    (
        "phi3-fp32-lora",
        "phi-3-mini",
        dict(
            batch_size=1,
            seq_len=512,
            weight_dtype="float32",
            lora=LoraSetup(r=8, target_modules=("all-linear",)),
        ),
    ),
]


# Issue 15's accuracy matrix: 8k-16k tokens, eager / sdpa / flash_attention_2, fp32 master
# weights + AMP + checkpointing, foreach (optim adamw_torch) and fused AdamW, Gemma 2. Traced
# with the same 1/2-layer probes (accuracy.py only; peers.py keeps the 30 rows above).
# MoE (Mixtral) and Gemma 3 need the architecture inventory of the memplan-models work and are
# not in the catalog yet.
LONG: list[tuple[str, str, dict[str, Any]]] = [
    (
        "llama3-8b-eager-8k",
        "llama-3-8b",
        dict(seq_len=8192, weight_dtype="bfloat16", lora=QV, attn_implementation="eager"),
    ),
    (
        "llama3-8b-eager-ckpt-8k",
        "llama-3-8b",
        dict(
            seq_len=8192,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            lora=ALL,
            attn_implementation="eager",
            gradient_checkpointing=True,
        ),
    ),
    (
        "llama3-8b-sdpa-ckpt-16k",
        "llama-3-8b",
        dict(seq_len=16384, weight_dtype="bfloat16", lora=ALL, gradient_checkpointing=True),
    ),
    (
        "mistral-fa2-ckpt-16k",
        "mistral-7b",
        dict(
            seq_len=16384,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            lora=QKVO,
            attn_implementation="flash_attention_2",
            gradient_checkpointing=True,
        ),
    ),
    (
        "qwen7b-eager-fp16-8k",
        "qwen2.5-7b",
        dict(
            seq_len=8192,
            weight_dtype="float16",
            mixed_precision="fp16",
            lora=QV,
            attn_implementation="eager",
            gradient_checkpointing=True,
        ),
    ),
    (
        "llama2-7b-fp32-amp-ckpt-foreach",
        "llama-2-7b",
        dict(
            seq_len=2048,
            weight_dtype="float32",
            mixed_precision="bf16",
            gradient_checkpointing=True,
            optimizer="adamw_foreach",
        ),
    ),
    (
        "llama2-7b-fp32-amp-ckpt-fused",
        "llama-2-7b",
        dict(
            seq_len=2048,
            weight_dtype="float32",
            mixed_precision="bf16",
            gradient_checkpointing=True,
        ),
    ),
    (
        "llama3-8b-full-foreach-8k",
        "llama-3-8b",
        dict(
            seq_len=8192,
            weight_dtype="bfloat16",
            gradient_checkpointing=True,
            optimizer="adamw_foreach",
        ),
    ),
    (
        "qwen1.5b-full-foreach-b4",
        "qwen2.5-1.5b",
        dict(batch_size=4, seq_len=1024, weight_dtype="bfloat16", optimizer="adamw_foreach"),
    ),
    (
        "mistral-fp16-amp-bf16",
        "mistral-7b",
        dict(batch_size=2, seq_len=2048, weight_dtype="float16", mixed_precision="bf16", lora=QV),
    ),
    (
        "gemma2-9b-fa2-ckpt-8k",
        "gemma-2-9b",
        dict(
            seq_len=8192,
            weight_dtype="bfloat16",
            mixed_precision="bf16",
            lora=QKVO,
            attn_implementation="flash_attention_2",
            gradient_checkpointing=True,
        ),
    ),
    (
        "gemma2-9b-eager-4k",
        "gemma-2-9b",
        dict(seq_len=4096, weight_dtype="bfloat16", lora=QV, gradient_checkpointing=True),
    ),
    # MoE (all experts' weights, the routed experts' activations) and Gemma 3, from the
    # meta-device inventory.
    (
        "mixtral-8x7b-qv-ckpt-1k",
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        dict(seq_len=1024, weight_dtype="bfloat16", lora=QV, gradient_checkpointing=True),
    ),
    ("mixtral-8x7b-full-512", "mistralai/Mixtral-8x7B-Instruct-v0.1", dict(seq_len=512)),
    (
        "qwen3-30b-a3b-qv-ckpt-1k",
        "Qwen/Qwen3-30B-A3B",
        dict(seq_len=1024, weight_dtype="bfloat16", lora=QV, gradient_checkpointing=True),
    ),
    (
        # peft adapts the fused experts with a ParamWrapper, which refuses lora_dropout != 0
        "qwen3-30b-a3b-alllinear-ckpt-2k",
        "Qwen/Qwen3-30B-A3B",
        dict(
            seq_len=2048,
            weight_dtype="bfloat16",
            lora=LoraSetup(r=16, target_modules=("all-linear",), dropout=0.0),
            gradient_checkpointing=True,
        ),
    ),
    (
        "gemma3-1b-qv-ckpt-2k",
        "google/gemma-3-1b-it",
        dict(seq_len=2048, weight_dtype="bfloat16", lora=QV, gradient_checkpointing=True),
    ),
    (
        "gemma3-1b-eager-8k",
        "google/gemma-3-1b-it",
        dict(
            seq_len=8192,
            weight_dtype="bfloat16",
            lora=QV,
            gradient_checkpointing=True,
            attn_implementation="eager",
        ),
    ),
    (
        "gemma3-12b-it-alllinear-ckpt-4k",
        "google/gemma-3-12b-it",
        dict(seq_len=4096, weight_dtype="bfloat16", lora=ALL, gradient_checkpointing=True),
    ),
]


def setups(long: bool = False) -> list[tuple[str, TrainingSetup]]:
    """The matrix as TrainingSetups (with ``long``, the long-context rows too)."""
    rows = MATRIX + (LONG if long else [])
    return [(cid, TrainingSetup(arch=load_architecture(m), **kw)) for cid, m, kw in rows]


def describe(setup: TrainingSetup) -> str:
    """A short description of a setup for tables."""
    lora = (
        f"LoRA r{setup.lora.r} {'+'.join(t.replace('_proj', '') for t in setup.lora.target_modules)}"
        if setup.lora
        else "full"
    )
    parts = [lora, f"b{setup.batch_size}x{setup.seq_len}", setup.weight_dtype]
    if setup.mixed_precision != "no":
        parts.append(f"amp-{setup.mixed_precision}")
    if setup.gradient_checkpointing:
        parts.append("ckpt")
    if setup.optimizer != "adamw":
        parts.append(setup.optimizer)
    if setup.attn_implementation != "sdpa":
        parts.append(setup.attn_implementation)
    if setup.gradient_accumulation_steps > 1:
        parts.append(f"GA{setup.gradient_accumulation_steps}")
    return ", ".join(parts)
