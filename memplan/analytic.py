"""The analytic engine: the memory of a training step from the architecture alone, in microseconds.

No torch import. The step is modelled phase by phase, as the traced engine measures it:

- forward ends with the logits, their fp32 copy and the log-softmax live on top of every saved
  activation;
- backward starts with the loss gradients (fp32, vocab x tokens each) on top of the same
  activations; with gradient checkpointing only each layer's input is kept and one layer is
  recomputed at a time;
- the optimizer step holds weights, gradients and optimizer state.

From the second step on the optimizer state stays resident through forward and backward, and
with gradient accumulation so do the gradients. The peak is the largest phase; CUDA context,
cuBLAS workspace and allocator overhead are added on top (they are not tensor storage).
"""

from __future__ import annotations

from memplan.activations import (
    adapter_bytes,
    compute_bytes,
    dense_dtype,
    eager_backward_peak_bytes_per_score,
    eager_forward_peak_bytes_per_score,
    eager_mask_bytes,
    eager_saved_bytes_per_score,
    eager_score_elements,
    layer_inventory,
    residual_bytes,
)
from memplan.architecture import model_provenance
from memplan.constants import (
    ADAM8BIT_BLOCK,
    ALLOCATOR_OVERHEAD_FRACTION,
    BYTES,
    CUBLAS_WORKSPACE_BYTES,
    CUDA_CONTEXT_BYTES,
    GIB,
    INT8_ROW_SCALE_BYTES,
    NF4_BLOCK,
    NF4_DOUBLE_QUANT_BLOCK,
)
from memplan.params import ParamCounts, count_params, saved_module_params, trained_bias_params
from memplan.plan import MemoryPlan
from memplan.setup import TrainingSetup

SHARDS_STATES = frozenset({"zero1", "zero2", "zero3", "fsdp"})
SHARDS_GRADS = frozenset({"zero2", "zero3", "fsdp"})
SHARDS_WEIGHTS = frozenset({"zero3", "fsdp"})


def weight_bytes(setup: TrainingSetup, counts: ParamCounts) -> int:
    """Bytes of the base weights (quantized linear layers included) and LoRA adapters."""
    arch = setup.arch
    dense = counts.embedding + counts.lm_head + counts.norms
    linear = counts.layer_linear
    if setup.weight_dtype in ("nf4", "int8") and counts.quantizable is not None:
        # bitsandbytes replaces nn.Linear layers only; fused experts and the rest stay dense.
        dense += linear - counts.quantizable
        linear = counts.quantizable
    if setup.weight_dtype == "nf4":
        per_block = 4 / NF4_BLOCK
        if setup.double_quant:
            per_block = 1 / NF4_BLOCK + 4 / (NF4_BLOCK * NF4_DOUBLE_QUANT_BLOCK)
        linear_bytes = linear * (0.5 + per_block)
        dense_bytes = dense * BYTES[setup.compute_dtype]
    elif setup.weight_dtype == "int8":
        rows = sum(lin.out_features for lin in arch.layer_linears()) * arch.num_hidden_layers
        linear_bytes = linear * 1 + rows * INT8_ROW_SCALE_BYTES
        dense_bytes = dense * BYTES[setup.compute_dtype]
    else:
        linear_bytes = linear * BYTES[setup.weight_dtype]
        dense_bytes = dense * BYTES[setup.weight_dtype]
    if setup.kbit_upcast:
        # prepare_model_for_kbit_training: every fp16/bf16 parameter that is not Params4bit
        # goes to fp32 (peft.utils.other); int8 weights are int8 and stay.
        dense_bytes = dense * 4
        if setup.weight_dtype in ("float16", "bfloat16"):
            linear_bytes = linear * 4
    if setup.lora is None:
        return int(linear_bytes + dense_bytes)
    saved = saved_module_params(setup.arch, setup.lora)
    adapters = counts.lora - saved
    return int(
        linear_bytes
        + dense_bytes
        + adapters * adapter_bytes(setup)
        + saved * dense_dtype_bytes(setup)
    )


def dense_dtype_bytes(setup: TrainingSetup) -> float:
    """Bytes per element of the unquantised parameters (embeddings, norms, LM head, biases)."""
    if setup.kbit_upcast:
        return 4.0
    if setup.weight_dtype in ("int8", "nf4"):
        return BYTES[setup.compute_dtype]
    return BYTES[setup.weight_dtype]


def trainable_dtype_bytes(setup: TrainingSetup) -> float:
    """Bytes per trainable parameter (and per gradient element), averaged over what is trained.

    LoRA adapters (and DoRA magnitudes) are fp32; ``modules_to_save`` copies and unfrozen biases
    keep the base model's dtype.
    """
    if setup.lora is None:
        return 4.0 if setup.kbit_upcast else BYTES[setup.weight_dtype]
    counts = count_params(setup.arch, setup.lora)
    if not counts.trainable:
        return adapter_bytes(setup)
    dense = saved_module_params(setup.arch, setup.lora) + trained_bias_params(
        setup.arch, setup.lora
    )
    adapters = counts.trainable - dense
    return (adapters * adapter_bytes(setup) + dense * dense_dtype_bytes(setup)) / counts.trainable


# Optimizer state per trainable parameter: (number of full-size states, bytes per element; None
# means the parameter's dtype, as torch.optim keeps it). Sources: torch.optim.AdamW (exp_avg,
# exp_avg_sq), RMSprop (square_avg), Adagrad (sum); bitsandbytes 32-bit optimizers keep fp32
# states, 8-bit ones 1 byte plus one fp32 absmax per 2048 (arXiv 2110.02861); bnb Lion keeps
# exp_avg only; AdEMAMix keeps two first moments and one second (arXiv 2409.03137); torchao
# AdamW4bit keeps 4-bit states with one scale per block of 128.
_STATE_LAYOUT: dict[str, tuple[int, float | None]] = {
    "adamw": (2, None),
    "adamw_foreach": (2, None),
    "adamw_8bit": (2, 1 + 4 / ADAM8BIT_BLOCK),
    "adamw_4bit": (2, 0.5 + 4 / 128),
    "sgd": (0, None),
    "lion": (1, 4.0),
    "lion_8bit": (1, 1 + 4 / ADAM8BIT_BLOCK),
    "rmsprop": (1, None),
    "rmsprop_8bit": (1, 1 + 4 / ADAM8BIT_BLOCK),
    "adagrad": (1, None),
    "ademamix": (3, 4.0),
    "ademamix_8bit": (3, 1 + 4 / ADAM8BIT_BLOCK),
}


def optimizer_state_bytes(setup: TrainingSetup, counts: ParamCounts) -> int:
    """Optimizer state for all trainable parameters, before any sharding."""
    n = counts.trainable
    pb = trainable_dtype_bytes(setup)
    if setup.optimizer == "adafactor":
        # Adafactor (transformers): factored second moment, one row and one column vector per
        # matrix, a full vector per 1-D parameter, no first moment (beta1=None).
        return int(_adafactor_elements(setup) * pb)
    states, per = _STATE_LAYOUT[setup.optimizer]
    return int(states * n * (pb if per is None else per))


def _adafactor_elements(setup: TrainingSetup) -> int:
    arch = setup.arch
    layers = arch.num_hidden_layers
    if setup.lora is not None:
        counts = count_params(arch, setup.lora)
        r = setup.lora.r
        total = 0
        for lin in arch.layer_linears():
            if lin.name in counts.lora_targets:
                # lora_A (r x in) and lora_B (out x r): rows + columns of each.
                total += layers * ((r + lin.in_features) + (lin.out_features + r))
        return total
    h, v = arch.hidden_size, arch.vocab_size
    total = 0
    for lin in arch.layer_linears():
        total += layers * (lin.in_features + lin.out_features)
        if lin.bias:
            total += layers * lin.out_features
    total += (v + h) * (1 if arch.tie_word_embeddings else 2)
    total += (arch.norms_per_layer * layers + 1) * h
    return total


def optimizer_step_temporaries(setup: TrainingSetup) -> int:
    """Scratch memory inside ``optimizer.step()``.

    Fused AdamW, bitsandbytes optimizers and plain SGD update in place. torch's foreach
    implementations (``adamw_torch``: AdamW without ``fused``; RMSprop; Adagrad) take the square
    root of the whole second-moment list at once (``torch._foreach_sqrt`` in
    ``_multi_tensor_adamw``), a full copy of one state. transformers' Adafactor works one
    parameter at a time in fp32 (an fp32 copy of the parameter, its squared gradient, the
    update and a temporary), so its scratch is about four fp32 copies of the largest parameter.
    """
    if setup.optimizer in ("adamw_foreach", "rmsprop", "adagrad"):
        counts = count_params(setup.arch, setup.lora)
        return int(counts.trainable * trainable_dtype_bytes(setup))
    if setup.optimizer != "adafactor":
        return 0
    arch = setup.arch
    if setup.lora is not None:
        counts = count_params(arch, setup.lora)
        largest = max(
            (lin.out_features * setup.lora.r, lin.in_features * setup.lora.r)
            for lin in arch.layer_linears()
            if lin.name in counts.lora_targets
        )
        return 4 * 4 * max(largest)
    largest_layer = max(lin.in_features * lin.out_features for lin in arch.layer_linears())
    return 4 * 4 * max(largest_layer, arch.vocab_size * arch.hidden_size)


def dequant_scratch_bytes(setup: TrainingSetup) -> int:
    """bitsandbytes dequantizes one weight matrix at a time into the compute dtype.

    QLoRA's ``MatMul4Bit`` keeps only the quantized weight for backward (no input copy), so
    quantization adds no saved activations, only this transient: the largest linear layer.
    Not traced (bitsandbytes has no CPU fake kernels); an assumption from its design.
    """
    if setup.weight_dtype not in ("int8", "nf4"):
        return 0
    largest = max(lin.in_features * lin.out_features for lin in setup.arch.layer_linears())
    return int(largest * compute_bytes(setup))


_AFTER_ATTENTION = ("mlp", "gate_proj", "up_proj", "down_proj", "gate_up_proj", "down_in")
_LATE_NORMS = ("post_attn_norm", "pre_ffn_norm", "post_ffn_norm")


def after_attention_bytes(inv: dict[str, float]) -> float:
    """What a layer saves after its attention (MLP, its LoRA, the later norms).

    Backward frees those before it reaches the attention of the same layer.
    """
    return sum(
        v
        for k, v in inv.items()
        if k.split(".")[0] in _AFTER_ATTENTION or k.split(".")[0] in _LATE_NORMS
    )


def autocast_cache_bytes(setup: TrainingSetup) -> int:
    """Weight casts autocast keeps until its context exits, beyond what backward saves.

    torch's autocast caches the compute-dtype copy of every leaf tensor that requires grad
    (``cached_cast`` in aten/src/ATen/autocast_mode.cpp), so with trained fp32 (or other-dtype)
    weights every layer's copy stays live to the end of forward. Without checkpointing the
    matmuls save those copies anyway (counted in the layer inventory); with checkpointing they
    are extra. Frozen base weights (LoRA) are not cached.
    """
    if not setup.gradient_checkpointing or setup.lora is not None:
        return 0
    if setup.mixed_precision == "no" or setup.weight_dtype == setup.compute_dtype:
        return 0
    if setup.weight_dtype not in ("float32", "float16", "bfloat16"):
        return 0
    per_layer = sum(lin.params for lin in setup.arch.layer_linears())
    return int(setup.arch.num_hidden_layers * per_layer * compute_bytes(setup))


def master_copy_bytes(setup: TrainingSetup, counts: ParamCounts) -> int:
    """fp32 master weights: kept by DeepSpeed ZeRO and FSDP mixed precision for 16-bit params."""
    if setup.distributed in SHARDS_STATES and trainable_dtype_bytes(setup) < 4:
        return int(4 * counts.trainable)
    return 0


def logits_bytes(setup: TrainingSetup) -> float:
    """Bytes per element of the LM head's output."""
    if setup.mixed_precision != "no":
        return compute_bytes(setup)
    return residual_bytes(setup)


def _head_terms(setup: TrainingSetup) -> tuple[float, float, float]:
    """(saved, forward transient, backward transient) of embedding, final norm, LM head, loss."""
    arch = setup.arch
    t, h, v = setup.tokens, arch.hidden_size, arch.vocab_size
    rd = residual_bytes(setup)
    lb = logits_bytes(setup)
    full = setup.lora is None
    # The final norm keeps its fp32 input and rsqrt; with a trained LM head its input too.
    saved: float = t * h * 4 + t * 4
    if full:
        saved += t * h * rd + t * h * (lb if setup.mixed_precision != "no" else rd)
    upcast: float = 0 if lb == 4 else 4
    autocast_head = 0.0
    if setup.mixed_precision != "no":
        if dense_dtype(setup) != setup.compute_dtype:
            autocast_head = arch.vocab_size * h * lb  # compute-dtype copy of the LM head
    saved += autocast_head
    # Forward: logits, their fp32 copy and the log-softmax output are live together.
    forward = t * v * (lb + upcast + 4)
    # Backward: log-softmax output plus the two fp32 gradients of nll and log-softmax.
    backward = t * v * 12
    if arch.config.get("final_logit_softcapping"):
        # Gemma 2 soft-caps the logits with tanh: one more vocab x tokens tensor kept.
        saved += t * v * lb
    return saved, forward, backward


def estimate(setup: TrainingSetup) -> MemoryPlan:
    """Peak memory of one steady-state training step of ``setup`` on one GPU."""
    arch = setup.arch
    counts = count_params(arch, setup.lora)
    n_gpu = setup.num_gpus if setup.distributed != "none" else 1
    dist = setup.distributed

    weights = weight_bytes(setup, counts)
    trainable_weights = int(counts.trainable * trainable_dtype_bytes(setup))
    grads = trainable_weights
    states = optimizer_state_bytes(setup, counts) + master_copy_bytes(setup, counts)
    if dist in SHARDS_WEIGHTS:
        # Full shard: each GPU keeps 1/N and gathers one layer (plus one prefetched).
        gathered_layer = weights / max(arch.num_hidden_layers, 1)
        weights = int(weights / n_gpu + 2 * gathered_layer)
    if dist in SHARDS_GRADS:
        grads = int(grads / n_gpu)
    if dist in SHARDS_STATES:
        states = int(states / n_gpu)
    ddp_buckets = grads if dist == "ddp" else 0

    layers = arch.num_hidden_layers
    inv = layer_inventory(setup)
    per_layer = sum(inv.values())
    head_saved, head_fwd, head_bwd = _head_terms(setup)
    if setup.gradient_checkpointing:
        # Each checkpointed layer keeps only its input hidden states.
        kept = layers * setup.tokens * arch.hidden_size * residual_bytes(setup)
        recompute = per_layer
    else:
        kept = layers * per_layer
        recompute = 0.0
    saved = kept + head_saved
    resident_grads = grads if setup.gradient_accumulation_steps > 1 else 0

    scratch = dequant_scratch_bytes(setup)
    base = weights + states + resident_grads
    cache = autocast_cache_bytes(setup)
    forward = base + saved + cache + max(head_fwd, scratch)
    backward_start = base + saved + head_bwd
    backward_recompute = base + saved + recompute + scratch
    scores = eager_score_elements(setup)
    if scores:
        # Eager attention's transients, at the last layer (forward) and the first one
        # backward reaches; with checkpointing the layer's own saved scores are not kept.
        own = 0.0 if setup.gradient_checkpointing else eager_saved_bytes_per_score(setup)
        mask = eager_mask_bytes(setup)
        fwd_peak = eager_forward_peak_bytes_per_score(setup)
        bwd_peak = eager_backward_peak_bytes_per_score(setup)
        forward = max(forward, base + kept + cache + mask + scores * (fwd_peak - own))
        if setup.gradient_checkpointing:
            # Backward reaches attention after the MLP and the norms after it: their saved
            # tensors are freed by then.
            recompute_attn = base + saved + recompute - after_attention_bytes(inv) + mask
            recompute_attn += scores * (bwd_peak - eager_saved_bytes_per_score(setup))
            backward_recompute = max(backward_recompute + mask, recompute_attn)
        else:
            backward_recompute = max(
                backward_recompute,
                base + kept + scores * (bwd_peak - eager_saved_bytes_per_score(setup)),
            )
    # Full fine-tuning ends backward with every gradient allocated and little else.
    backward_end: float = weights + states + grads if setup.lora is None else 0
    if setup.lora is None and arch.tie_word_embeddings and backward_end:
        # A tied embedding gets two gradients (LM head and lookup) summed at the very end.
        backward_end += 2 * arch.vocab_size * arch.hidden_size * trainable_dtype_bytes(setup)
    backward_late = 0.0
    if setup.lora is None and setup.gradient_checkpointing:
        # Full fine-tuning with checkpointing: the first layer is recomputed last, when every
        # later layer's (and the head's) gradients already exist.
        layer_grads = sum(lin.params for lin in arch.layer_linears()) + arch.norms_per_layer * (
            arch.hidden_size
        )
        layer_grads_bytes = layer_grads * trainable_dtype_bytes(setup)
        first_input = setup.tokens * arch.hidden_size * residual_bytes(setup)
        backward_late = weights + states + grads - layer_grads_bytes + first_input + recompute
        backward_late += head_saved
    backward = max(backward_start, backward_recompute, backward_end, backward_late) + ddp_buckets
    optimizer = weights + grads + states + ddp_buckets + optimizer_step_temporaries(setup)
    phases = {"forward": forward, "backward": backward, "optimizer": optimizer}
    top = max(phases, key=lambda p: phases[p])
    tensor_peak = int(phases[top])

    breakdown: dict[str, int] = {"weights": weights}
    if top == "optimizer":
        breakdown["gradients"] = grads + ddp_buckets
        breakdown["optimizer"] = states
    else:
        breakdown["optimizer"] = states
        if resident_grads or ddp_buckets:
            breakdown["gradients"] = resident_grads + (ddp_buckets if top == "backward" else 0)
        breakdown["activations"] = int(saved)
        if top == "forward":
            breakdown["logits_and_loss"] = int(head_fwd)
        elif backward_start >= backward_recompute:
            breakdown["logits_and_loss"] = int(head_bwd)
        else:
            breakdown["recompute"] = int(recompute)
    allocator = int(tensor_peak * ALLOCATOR_OVERHEAD_FRACTION) + CUBLAS_WORKSPACE_BYTES
    breakdown["allocator_and_workspace"] = allocator
    breakdown["cuda_context"] = CUDA_CONTEXT_BYTES
    total = sum(breakdown.values())
    diff = tensor_peak + allocator + CUDA_CONTEXT_BYTES - total
    if diff:
        breakdown["weights"] += diff  # rounding only; keeps the breakdown summing to the peak

    capacity = None if setup.capacity_gib is None else int(round(setup.capacity_gib * GIB))
    notes: list[str] = []
    if setup.weight_dtype == "float16" and setup.lora is None and setup.mixed_precision == "fp16":
        notes.append(
            "full fine-tuning of fp16 weights with fp16=True fails in the Trainer "
            "('Attempting to unscale FP16 gradients'); load the model in float32 or use bf16"
        )
    if setup.weight_dtype in ("int8", "nf4") and counts.quantizable is not None:
        kept = counts.layer_linear - counts.quantizable
        if kept > 0.01 * counts.base:
            notes.append(
                f"bitsandbytes quantizes nn.Linear layers only: {kept / 1e9:.2f} B parameters "
                f"(fused MoE experts, routers) stay in {setup.compute_dtype}"
            )
    if arch.max_position_embeddings and setup.seq_len > arch.max_position_embeddings:
        notes.append(
            f"seq_len {setup.seq_len} exceeds the model's max_position_embeddings "
            f"{arch.max_position_embeddings}"
        )
    return MemoryPlan(
        peak_bytes=tensor_peak + allocator + CUDA_CONTEXT_BYTES,
        tensor_peak_bytes=tensor_peak,
        breakdown=breakdown,
        capacity_bytes=capacity,
        total_params=counts.total,
        trainable_params=counts.trainable,
        peak_phase=top,
        phase_peaks={k: int(v) for k, v in phases.items()},
        notes=tuple(notes),
        model=model_provenance(arch),
    )
