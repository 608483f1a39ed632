"""The typed input of both engines: one training step on one GPU of a (possibly sharded) job."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from memplan.architecture import Architecture
from memplan.params import LoraSetup

WeightDtype = Literal["float32", "float16", "bfloat16", "int8", "nf4"]
MixedPrecision = Literal["no", "fp16", "bf16"]
AttnImplementation = Literal["eager", "sdpa", "flash_attention_2"]
Distributed = Literal["none", "ddp", "fsdp", "zero1", "zero2", "zero3"]
OptimizerKind = Literal[
    "adamw",
    "adamw_foreach",
    "adamw_8bit",
    "adamw_4bit",
    "sgd",
    "adafactor",
    "lion",
    "lion_8bit",
    "rmsprop",
    "rmsprop_8bit",
    "adagrad",
    "ademamix",
    "ademamix_8bit",
]

WEIGHT_DTYPES: tuple[WeightDtype, ...] = ("float32", "float16", "bfloat16", "int8", "nf4")
ATTN_IMPLEMENTATIONS: tuple[AttnImplementation, ...] = ("eager", "sdpa", "flash_attention_2")
DISTRIBUTED: tuple[Distributed, ...] = ("none", "ddp", "fsdp", "zero1", "zero2", "zero3")

# transformers' TrainingArguments.optim values mapped onto the state each keeps per parameter and
# how its step runs. Names: transformers.training_args.OptimizerNames (5.x); which class each
# builds: transformers.trainer_optimizer (_get_adamw_torch passes fused=True only for
# adamw_torch_fused, so adamw_torch is torch.optim.AdamW's default on CUDA, foreach;
# bitsandbytes names go to bnb.optim.AdamW/Lion/RMSprop/AdEMAMix with optim_bits 8 or 32;
# adamw_torch_4bit/8bit to torchao's AdamW4bit/AdamW8bit). The default optim is
# adamw_torch_fused for torch >= 2.8 (TrainingArguments.default_optim).
_OPTIM_NAMES: dict[str, OptimizerKind] = {
    "adamw_torch_fused": "adamw",
    "adamw_torch_npu_fused": "adamw",
    "adamw_apex_fused": "adamw",
    "adamw_anyprecision": "adamw",
    "adamw_torch": "adamw_foreach",
    "adamw_torch_xla": "adamw_foreach",
    "adamw_hf": "adamw_foreach",
    "adamw": "adamw",
    "adam": "adamw",
    # bitsandbytes 32-bit optimizers keep fp32 states and update in one kernel.
    "paged_adamw_32bit": "adamw",
    "adamw_bnb_8bit": "adamw_8bit",
    "adamw_8bit": "adamw_8bit",
    "paged_adamw_8bit": "adamw_8bit",
    "adamw_torch_8bit": "adamw_8bit",
    "adamw_torch_4bit": "adamw_4bit",
    "sgd": "sgd",
    "adafactor": "adafactor",
    "lion_32bit": "lion",
    "paged_lion_32bit": "lion",
    "lion_8bit": "lion_8bit",
    "paged_lion_8bit": "lion_8bit",
    "rmsprop": "rmsprop",
    "rmsprop_bnb": "rmsprop",
    "rmsprop_bnb_32bit": "rmsprop",
    "rmsprop_bnb_8bit": "rmsprop_8bit",
    "adagrad": "adagrad",
    "ademamix": "ademamix",
    "paged_ademamix_32bit": "ademamix",
    "ademamix_8bit": "ademamix_8bit",
    "paged_ademamix_8bit": "ademamix_8bit",
}
#: optim values TrainingArguments accepts that memplan does not model (their state depends on
#: options memplan cannot see: GaLore/APOLLO projections, LOMO's fused update, schedule-free).
UNMODELLED_OPTIM = (
    "galore_*",
    "apollo_*",
    "lomo",
    "adalomo",
    "grokadamw",
    "schedule_free_*",
    "stable_adamw",
)


def optimizer_kind(optim: str) -> OptimizerKind:
    """The optimizer family of a TrainingArguments ``optim`` name; ValueError when unknown."""
    key = optim.strip().lower()
    if key not in _OPTIM_NAMES:
        raise ValueError(
            f"optimizer {optim!r} is not modelled (known: {', '.join(sorted(_OPTIM_NAMES))})"
        )
    return _OPTIM_NAMES[key]


@dataclass(frozen=True)
class TrainingSetup:
    """Everything that decides the memory of one training step on one GPU.

    ``weight_dtype`` is the dtype the base weights are loaded in (``int8``/``nf4`` mean
    bitsandbytes quantization of the decoder's linear layers, computing in ``compute_dtype``);
    ``mixed_precision`` is the Trainer's ``fp16``/``bf16`` autocast. ``kbit_upcast`` means peft's
    ``prepare_model_for_kbit_training`` ran: every fp16/bf16 parameter that is not 4-bit
    quantised (embeddings, norms, LM head; all of them for an unquantised model) is cast to
    fp32, and so is the residual stream. ``capacity_gib`` is the
    memory of one GPU; None means "unknown", and then ``fits`` is None too.
    """

    arch: Architecture
    batch_size: int = 1
    seq_len: int = 512
    weight_dtype: WeightDtype = "bfloat16"
    mixed_precision: MixedPrecision = "no"
    lora: LoraSetup | None = None
    gradient_checkpointing: bool = False
    optimizer: OptimizerKind = "adamw"
    attn_implementation: AttnImplementation = "sdpa"
    distributed: Distributed = "none"
    num_gpus: int = 1
    capacity_gib: float | None = None
    gpu_name: str | None = None
    gradient_accumulation_steps: int = 1
    double_quant: bool = False
    packed: bool = False
    kbit_upcast: bool = False

    @property
    def padded(self) -> bool:
        """Whether batches carry padding: more than one sequence per batch and no packing.

        With padding transformers passes an explicit attention mask, so SDPA cannot use its
        causal fast path: K/V heads are repeated for grouped-query attention and the kernel
        keeps a (batch, 1, seq, seq) additive mask per layer for backward.
        """
        return self.batch_size > 1 and not self.packed

    def __post_init__(self) -> None:
        if self.kbit_upcast and self.weight_dtype in ("float16", "bfloat16"):
            # prepare_model_for_kbit_training on an unquantised model casts every weight.
            object.__setattr__(self, "weight_dtype", "float32")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be >= 1, got {self.batch_size}")
        if self.seq_len < 1:
            raise ValueError(f"sequence length must be >= 1, got {self.seq_len}")
        if self.num_gpus < 1:
            raise ValueError(f"num_gpus must be >= 1, got {self.num_gpus}")
        if self.weight_dtype in ("int8", "nf4") and self.lora is None:
            raise ValueError(
                f"{self.weight_dtype} weights cannot be trained directly; add a LoRA adapter"
            )

    @property
    def compute_dtype(self) -> Literal["float32", "float16", "bfloat16"]:
        """The dtype activations are computed in."""
        if self.mixed_precision == "fp16":
            return "float16"
        if self.mixed_precision == "bf16":
            return "bfloat16"
        if self.weight_dtype in ("float32", "float16", "bfloat16"):
            return self.weight_dtype
        return "bfloat16"

    @property
    def tokens(self) -> int:
        return self.batch_size * self.seq_len

    def with_(self, **changes: object) -> TrainingSetup:
        """A copy with some fields changed (used by the suggestion search)."""
        return replace(self, **changes)  # type: ignore[arg-type]
