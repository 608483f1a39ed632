"""What autograd keeps alive between forward and backward, tensor by tensor, for one step.

Each function returns an inventory: a dict from a tensor's role to its bytes, so the same tensor
saved by two ops (the normed input of q, k and v) is counted once. The rules follow the code of
transformers' Llama-family decoder layer, peft's LoRA ``Linear`` and torch autograd:

- a linear layer keeps its input only when its weight is trained (the input is needed for the
  weight's gradient), and under autocast it keeps the *cast* copy of the input;
- a LoRA adapter keeps its own copy of the input: peft casts the input to the adapter's dtype
  (fp32), dropout keeps a one-byte mask, and autocast keeps the cast-back copy for lora_A;
- RMSNorm upcasts to fp32 and keeps that copy plus ``rsqrt`` of the variance;
- SDPA/flash keep q, k, v (after RoPE), the output and a fp32 log-sum-exp per head and token;
  eager attention keeps the fp32 softmax and its cast copy (``heads x seq x seq`` each) and
  repeats K/V heads.

The traced engine measures the same quantities on the real code; tests hold the two together.
"""

from __future__ import annotations

from memplan.constants import BYTES
from memplan.params import resolve_lora_targets
from memplan.setup import TrainingSetup


def _bytes(dtype: str) -> float:
    return BYTES[dtype]


def residual_bytes(setup: TrainingSetup) -> float:
    """Bytes per element of the residual stream.

    It is the embeddings' dtype (the weights' float dtype; the compute dtype for quantised
    models) with two exceptions that make it fp32: peft's ``prepare_model_for_kbit_training``
    upcasts the embeddings, and 16-bit weights under autocast to the *other* 16-bit dtype
    (fp16 weights with ``bf16=True``) add an fp16 residual to a bf16 sub-layer output, which
    type promotion turns into fp32 from the first layer on.
    """
    if setup.kbit_upcast:
        return 4.0
    if setup.weight_dtype in ("int8", "nf4"):
        return _bytes(setup.compute_dtype)
    if (
        setup.mixed_precision != "no"
        and setup.weight_dtype in ("float16", "bfloat16")
        and setup.weight_dtype != setup.compute_dtype
    ):
        return 4.0
    return _bytes(setup.weight_dtype)


def dense_dtype(setup: TrainingSetup) -> str:
    """The dtype of the unquantised parameters (embeddings, norms, LM head)."""
    if setup.kbit_upcast:
        return "float32"
    if setup.weight_dtype in ("int8", "nf4"):
        return setup.compute_dtype
    return setup.weight_dtype


def adapter_bytes(setup: TrainingSetup) -> float:
    """peft upcasts adapters of 16-bit (and quantized) models to fp32 (autocast_adapter_dtype)."""
    return 4.0


def compute_bytes(setup: TrainingSetup) -> float:
    return _bytes(setup.compute_dtype)


def layer_inventory(setup: TrainingSetup) -> dict[str, float]:
    """Bytes one decoder layer keeps for backward when it is not checkpointed."""
    arch = setup.arch
    t = setup.tokens
    h, i = arch.hidden_size, arch.intermediate_size
    q, kv, heads = arch.q_dim, arch.kv_dim, arch.num_attention_heads
    rd, cb = residual_bytes(setup), compute_bytes(setup)
    autocast = setup.mixed_precision != "no"
    full = setup.lora is None
    targets = resolve_lora_targets(arch, setup.lora.target_modules) if setup.lora else ()
    inv: dict[str, float] = {}

    # RMSNorms: fp32 copy of the input (the input itself when already fp32) and rsqrt.
    norm_names = ["input_norm", "post_attn_norm"]
    if arch.model_type == "gemma2":
        norm_names = ["input_norm", "post_attn_norm", "pre_ffn_norm", "post_ffn_norm"]
    for name in norm_names:
        inv[f"{name}.fp32_input"] = t * h * 4
        inv[f"{name}.rsqrt"] = t * 4
        if full:
            # The normalised input, kept for the norm weight's gradient.
            inv[f"{name}.normed"] = t * h * (4 if arch.model_type == "gemma2" else rd)
    if arch.model_type == "gemma2":
        # Gemma 2 norms compute in fp32 and cast back: the norm output fed to a linear layer
        # (the sub-layer outputs are normed again before joining the residual).
        pass

    # Inputs of trained linear layers (full fine-tuning).
    lin_in = {lin.name: lin.in_features for lin in arch.layer_linears()}
    lin_out = {lin.name: lin.out_features for lin in arch.layer_linears()}
    groups = _input_groups(arch.model_type)

    def linear_input_key(name: str) -> str:
        for key, members in groups.items():
            if name in members:
                return key
        return name

    for lin in arch.layer_linears():
        key = linear_input_key(lin.name)
        source_dtype = rd if key in ("attn_in", "mlp_in") else cb
        if full:
            if autocast and source_dtype != cb:
                inv[f"{lin.name}.cast_input"] = t * lin.in_features * cb
            elif not (key == "o_in" and not uses_eager(setup)):
                # (SDPA's output already has the layout o_proj reads: no copy to keep.)
                inv[f"{key}.input"] = t * lin.in_features * source_dtype
        if lin.name in targets:
            lora = setup.lora
            assert lora is not None
            f_in, f_out, r = lin.in_features, lin.out_features, lora.r
            ab = adapter_bytes(setup)
            if lora.dropout > 0:
                inv[f"{lin.name}.lora_dropout_mask"] = t * f_in * 1
            if autocast:
                inv[f"{lin.name}.lora_cast_input"] = t * f_in * cb
                inv[f"{lin.name}.lora_a_out"] = t * r * cb
                inv[f"{lin.name}.lora_weight_casts"] = r * (f_in + f_out) * cb
            else:
                if lora.dropout > 0 or source_dtype != ab:
                    inv[f"{lin.name}.lora_input"] = t * f_in * ab
                else:
                    inv[f"{key}.input"] = t * f_in * source_dtype
                inv[f"{lin.name}.lora_a_out"] = t * r * ab
            if lora.use_dora:
                # peft's DoraLinearLayer.forward: (m/||W'|| - 1) * base_result and
                # m/||W'|| * lora_result * scaling keep both outputs for the magnitude's grad.
                inv[f"{lin.name}.dora_base_result"] = t * f_out * cb
                inv[f"{lin.name}.dora_lora_result"] = t * f_out * (cb if autocast else ab)
                if lora.dropout > 0 and (
                    setup.weight_dtype in ("int8", "nf4")
                    or setup.weight_dtype != setup.compute_dtype
                ):
                    # With dropout peft recomputes F.linear(x, dequantised/cast W), which keeps
                    # that weight copy for backward.
                    inv[f"{lin.name}.dora_weight_copy"] = f_in * f_out * cb
    del lin_in, lin_out

    # Autocast keeps a compute-dtype copy of every float weight it casts, and the matmul keeps it
    # for backward (the gradient of the input needs the weight): a second copy of the layer.
    if autocast and setup.weight_dtype in ("float32", "float16", "bfloat16"):
        if setup.weight_dtype != setup.compute_dtype:
            inv["autocast_weight_copies"] = sum(lin.params for lin in arch.layer_linears()) * cb

    # Attention core.
    b, s = setup.batch_size, setup.seq_len
    if arch.model_type == "phi3":
        # Phi-3 slices q/k/v out of the fused projection and concatenates the rotary part back.
        inv["attn.phi3_rope_copies"] = t * (q + kv) * cb
        if full:
            inv["mlp.phi3_gate_up_split"] = t * h * cb
    if uses_eager(setup):
        groups_kv = q  # K and V heads are repeated to the query heads
        inv["attn.q_rope"] = t * q * cb
        inv["attn.k_repeated"] = t * groups_kv * cb
        inv["attn.v_repeated"] = t * groups_kv * cb
        inv["attn.softmax_fp32"] = b * heads * s * s * 4
        if cb != 4:
            inv["attn.probs"] = b * heads * s * s * cb  # (fp32: .to() returns the softmax itself)
        if arch.config.get("attn_logit_softcapping"):
            # Gemma 2 soft-caps attention scores with tanh, whose output backward needs.
            inv["attn.softcap_tanh"] = b * heads * s * s * cb
    else:
        # (flash_attention_2 unpads a padded batch instead: no mask, no repeated heads.)
        inv["attn.q_rope"] = t * q * cb
        if setup.padded and setup.attn_implementation == "sdpa":
            # With a mask: repeat_kv copies K/V to every query head; SDPA keeps its float mask.
            inv["attn.k_repeated" if kv != q else "attn.k_rope"] = t * q * cb
            inv["attn.v_repeated" if kv != q else "attn.v"] = t * q * cb
            inv["attn.mask"] = b * s * s * cb
        else:
            inv["attn.k_rope"] = t * kv * cb
            inv["attn.v"] = t * kv * cb
        inv["attn.out"] = t * q * cb
        inv["attn.logsumexp"] = heads * t * 4
    # MLP: gate and up outputs and the activation.
    inv["mlp.gate_out"] = t * i * cb
    inv["mlp.up_out"] = t * i * cb
    inv["mlp.act_out"] = t * i * cb
    return inv


def uses_eager(setup: TrainingSetup) -> bool:
    """Eager attention: asked for, or Gemma 2 with sdpa.

    Gemma 2 sets ``_supports_sdpa = False`` (SDPA cannot soft-cap), so transformers falls back
    to eager for it; ``flash_attention_2`` is supported (``_supports_flash_attn = True``, the
    kernel soft-caps) and keeps flash's memory.
    """
    if setup.attn_implementation == "eager":
        return True
    return setup.arch.model_type == "gemma2" and setup.attn_implementation == "sdpa"


def _fused_half_softmax(setup: TrainingSetup) -> bool:
    """``softmax(x, dtype=float32)`` on an fp16 CUDA tensor runs one half-to-float kernel.

    ATen's ``softmax`` takes ``_softmax(x, dim, half_to_float=True)`` only for CUDA Half input;
    bf16 (and CPU) input is first copied to fp32 (aten/src/ATen/native/SoftMax.cpp).
    """
    return setup.compute_dtype == "float16"


def eager_score_elements(setup: TrainingSetup) -> int:
    """Elements of one layer's attention scores (batch x heads x seq x seq); 0 unless eager."""
    if not uses_eager(setup):
        return 0
    return setup.batch_size * setup.arch.num_attention_heads * setup.seq_len**2


def eager_saved_bytes_per_score(setup: TrainingSetup) -> float:
    """What one layer keeps per score for backward: the fp32 softmax and its cast copy."""
    cb = compute_bytes(setup)
    return 4 + (cb if cb != 4 else 0)


def eager_forward_peak_bytes_per_score(setup: TrainingSetup) -> float:
    """Live bytes per score at the forward peak inside eager attention.

    ``attn = softmax(scores, dtype=float32).to(q.dtype)``: the scores (compute dtype) stay
    referenced until the assignment; bf16 scores are first copied to fp32 for the softmax, so
    scores + fp32 copy + fp32 softmax are live together (2 + 4 + 4); with fp16 the fused kernel
    skips the copy and the peak is scores + softmax + cast (2 + 4 + 2); in fp32 scores + softmax.
    """
    cb = compute_bytes(setup)
    if cb == 4:
        return 8.0
    if _fused_half_softmax(setup):
        return cb + 4 + cb
    return cb + 4 + 4


def eager_backward_peak_bytes_per_score(setup: TrainingSetup) -> float:
    """Live bytes per score at the backward peak inside eager attention.

    Backward of the softmax holds its saved fp32 output, the fp32 gradient reaching it and the
    gradient it returns: fp32 (4 + 4 + 4) unless the fused fp16 kernel returns fp16 (4 + 4 + 2).
    The gradient of the probabilities (compute dtype) is freed once cast to fp32.
    """
    if _fused_half_softmax(setup):
        return 4 + 4 + compute_bytes(setup)
    return 12.0


def eager_mask_bytes(setup: TrainingSetup) -> float:
    """Eager attention always gets a materialised (batch, 1, seq, seq) additive mask.

    transformers' ``eager_mask`` builds it once per forward in the embeddings' dtype; Gemma 2
    builds a second one for its sliding-window layers.
    """
    if not uses_eager(setup):
        return 0.0
    masks = 2 if setup.arch.model_type == "gemma2" else 1
    return masks * setup.batch_size * setup.seq_len**2 * residual_bytes(setup)


def _input_groups(model_type: str) -> dict[str, tuple[str, ...]]:
    """Linear layers that read the same tensor (their saved input is shared)."""
    if model_type == "phi3":
        return {
            "attn_in": ("qkv_proj",),
            "o_in": ("o_proj",),
            "mlp_in": ("gate_up_proj",),
            "down_in": ("down_proj",),
        }
    return {
        "attn_in": ("q_proj", "k_proj", "v_proj"),
        "o_in": ("o_proj",),
        "mlp_in": ("gate_proj", "up_proj"),
        "down_in": ("down_proj",),
    }
