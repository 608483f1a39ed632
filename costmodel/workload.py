"""What a training job has to compute: the plain inputs every estimate starts from.

A :class:`Workload` knows nothing about YAML or instance types; ``preflight`` builds one from a
job spec (parameter counts from ``memplan``), and anyone can build one by hand in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    """A fine-tuning job's size.

    ``params_total`` counts the base model (without LoRA adapters); ``params_trainable`` is
    the adapters for a LoRA run and ``params_total`` for a full fine-tune.
    ``tokens_per_example`` is what the GPU actually processes per example: the average length
    capped by ``max_length`` with dynamic padding, or ``max_length`` itself when every example
    is padded to it.  ``embedding_params`` are the input-embedding rows, which are looked up,
    not multiplied, so they add no FLOPs.  When ``max_steps`` is set it wins over epochs, as in
    ``transformers.TrainingArguments``.

    Comparing instances compares the same job: ``max_steps`` is read at
    ``reference_world_size`` GPUs (the spec's own instance), which fixes the examples seen;
    on another GPU count the global batch is kept by scaling gradient accumulation
    (:meth:`grad_accum_for`), and the step count follows from the examples.

    A checkpoint holds the trainable weights at ``weight_bytes_per_param`` and the optimizer
    state at ``optimizer_bytes_per_param`` (AdamW: two moments in the parameter's dtype), plus
    ``checkpoint_extra_bytes`` of scheduler, RNG and trainer state.  The defaults (4 + 8) are
    fp32 trainable weights, as LoRA adapters and mixed-precision full fine-tunes have.
    ``model_bytes`` is what a restart loads (the base model as stored).
    """

    params_total: int
    params_trainable: int
    num_layers: int
    hidden_size: int
    tokens_per_example: float
    num_examples: int | None = None
    epochs: float = 1.0
    max_steps: int | None = None
    per_device_batch_size: int = 1
    grad_accum: int = 1
    lora: bool = True
    gradient_checkpointing: bool = False
    embedding_params: int = 0
    attention_dim: int | None = None
    reference_world_size: int | None = None
    weight_bytes_per_param: float = 4.0
    optimizer_bytes_per_param: float = 8.0
    checkpoint_extra_bytes: float = 0.0
    model_bytes: float | None = None
    quantized: bool = False

    @property
    def method(self) -> str:
        """``lora``, ``qlora`` (LoRA on quantized base weights) or ``full``."""
        if not self.lora:
            return "full"
        return "qlora" if self.quantized else "lora"

    def __post_init__(self) -> None:
        if self.params_total <= 0 or self.params_trainable < 0:
            raise ValueError("parameter counts must be positive")
        if self.tokens_per_example <= 0:
            raise ValueError("tokens_per_example must be positive")
        if (self.max_steps is None or self.max_steps <= 0) and not self.num_examples:
            raise ValueError("need num_examples (with epochs) or a positive max_steps")
        if self.per_device_batch_size < 1 or self.grad_accum < 1:
            raise ValueError("batch size and gradient accumulation must be >= 1")

    def flops_per_token(self) -> float:
        """Training FLOPs per processed token.

        Dense matmuls: forward 2N; backward 2N for the activation gradients plus 2N for the
        weight gradients, which a LoRA run needs only for its adapters (6T).  Gradient
        checkpointing recomputes the forward once more (+2N).  Attention scores and the
        weighted sum add 4 x seq x d_attn per layer forward (no causal halving), x3 for
        training, x4 with recompute.  Basis: the 2N/6N counts of Kaplan et al. and the JAX
        scaling book's "All the transformer math"; the LoRA split is derived from them.
        """
        n = float(self.params_total - self.embedding_params)
        t = float(self.params_trainable)
        gc = 1.0 if self.gradient_checkpointing else 0.0
        if self.lora:
            dense = (4.0 + 2.0 * gc) * n + (6.0 + 2.0 * gc) * t
        else:
            dense = (6.0 + 2.0 * gc) * n
        d_attn = float(self.attention_dim or self.hidden_size)
        attn_fwd = 4.0 * self.tokens_per_example * d_attn * self.num_layers
        return dense + attn_fwd * (3.0 + gc)

    def _fixed_by_steps(self) -> bool:
        return self.max_steps is not None and self.max_steps > 0

    def grad_accum_for(self, world_size: int) -> int:
        """Gradient accumulation that keeps the reference global batch on ``world_size`` GPUs.

        Without a reference (or on the reference GPU count) it is the job's own; otherwise
        ``grad_accum x reference / world_size``, rounded, at least 1 (the global batch then
        grows when ``world_size x per-device batch`` alone exceeds it).
        """
        ref = self.reference_world_size
        if ref is None or ref == world_size:
            return self.grad_accum
        return max(int(round(self.grad_accum * ref / world_size)), 1)

    def global_batch(self, world_size: int) -> int:
        """Examples per optimizer step on ``world_size`` GPUs."""
        return self.per_device_batch_size * self.grad_accum_for(world_size) * world_size

    def steps(self, world_size: int) -> int:
        """Optimizer steps on ``world_size`` data-parallel GPUs (Trainer's rounding)."""
        if self._fixed_by_steps():
            assert self.max_steps is not None
            if self.reference_world_size is None or self.reference_world_size == world_size:
                return self.max_steps
            return max(math.ceil(self.examples(world_size) / self.global_batch(world_size)), 1)
        per_epoch = self.steps_per_epoch(world_size)
        assert per_epoch is not None
        return max(math.ceil(self.epochs * per_epoch), 1)

    def steps_per_epoch(self, world_size: int) -> int | None:
        """Optimizer steps in one pass over the data set (Trainer's rounding), or None when the
        data set's size is not known.

        This is the interval of ``save_strategy: epoch`` whatever ends the run: with
        ``max_steps`` set, Trainer ignores ``num_train_epochs`` but an epoch is still one pass.
        """
        if not self.num_examples:
            return None
        per_device_batches = math.ceil(
            self.num_examples / (self.per_device_batch_size * world_size)
        )
        return max(per_device_batches // self.grad_accum_for(world_size), 1)

    def examples(self, world_size: int) -> float:
        """Examples processed (with repeats across epochs)."""
        if self._fixed_by_steps():
            assert self.max_steps is not None
            world = self.reference_world_size or world_size
            return float(self.max_steps * self.per_device_batch_size * self.grad_accum * world)
        assert self.num_examples is not None
        return self.num_examples * self.epochs

    def checkpoint_bytes(self) -> float:
        """Bytes one Trainer checkpoint writes.

        ``Trainer._save_checkpoint`` writes the trainable weights (a LoRA/QLoRA run: only the
        adapters, ``adapter_model.safetensors``; a full fine-tune: ``model.safetensors`` in
        the model's dtype), ``optimizer.pt`` (AdamW's ``exp_avg`` and ``exp_avg_sq``, each
        ``zeros_like`` the parameter), ``scheduler.pt``, ``rng_state*.pth`` and
        ``trainer_state.json`` (``checkpoint_extra_bytes``).
        """
        per_param = self.weight_bytes_per_param + self.optimizer_bytes_per_param
        return per_param * self.params_trainable + self.checkpoint_extra_bytes
