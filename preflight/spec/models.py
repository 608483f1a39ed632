"""The job spec of DESIGN.md as pydantic v2 models: one model per section, ``extra="forbid"``.

Every field carries a description, so ``preflight schema`` can hand editors a JSON Schema that
completes and documents spec files. Cross-field checks that would make AWS reject the job live
in ``cross_checks.py`` so that all of them are reported at once, each at its own key; dangers a
job can survive (but should not) are PF rules, not validation errors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, RootModel

Dtype = Literal["float32", "float16", "bfloat16", "int8", "nf4"]
Distributed = Literal["none", "ddp", "fsdp", "zero1", "zero2", "zero3"]


API_INT_MAX = 2**31 - 1
"""SageMaker's API integers (InstanceCount, VolumeSizeInGB, MaxRuntimeInSeconds) are 32-bit
signed (Smithy ``integer``; botocore's sagemaker service-2.json gives only their minimum)."""
LAYER_WIDTH_MAX = 65_536
"""No linear layer of a released LLM is wider (Llama-3.1-405B: hidden 16,384, MLP 53,248), and a
LoRA rank above a layer's smaller side adds nothing."""
CONTEXT_MAX = 10_000_000
"""The longest context window of a released model (Llama 4 Scout: 10M tokens)."""
EXAMPLES_MAX = 10**13
"""More examples than the largest public text corpora have tokens (FineWeb: about 15T)."""


class _Section(BaseModel):
    # inf and nan are never a usable size, price or time: reject them at the key they are in.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=False, allow_inf_nan=False)


class ModelSpec(_Section):
    """Which model is fine-tuned, and how its weights are held in GPU memory."""

    name: str = Field(
        description="A hub id or alias memplan bundles (91: meta-llama/Llama-3.1-8B-Instruct, "
        "Qwen/Qwen3-8B, ...; `memplan models`), a local directory holding config.json, a model in "
        "the Hugging Face cache, or a hub id read from the hub's config.json when online."
    )
    dtype: Dtype = Field(
        "bfloat16",
        description="Dtype of the frozen base weights: float32, float16, bfloat16, or int8 / nf4 "
        "(bitsandbytes quantisation, as in QLoRA).",
    )
    attn_implementation: Literal["eager", "sdpa", "flash_attention_2"] = Field(
        "sdpa", description="Attention kernel; changes activation memory (eager keeps scores)."
    )
    revision: str | None = Field(None, description="Hub revision, when model.name is a hub id.")
    bnb_4bit_use_double_quant: bool = Field(
        False,
        description="BitsAndBytesConfig(bnb_4bit_use_double_quant=...) for dtype nf4: the "
        "per-block fp32 scales are themselves quantised to 8 bits (QLoRA section 3), about "
        "0.37 bits less per weight: ~3 GiB on a 70B model.",
    )
    prepare_model_for_kbit_training: bool = Field(
        False,
        description="peft.prepare_model_for_kbit_training(model) is called: every fp16/bf16 "
        "parameter that is not 4-bit quantised (embeddings, norms, LM head) is cast to fp32, "
        "and so is the residual stream. (It also turns on gradient checkpointing by default; "
        "state that in training.gradient_checkpointing.)",
    )


class LoraSpec(_Section):
    """LoRA adapters (peft). Omit the section for a full fine-tune."""

    r: int = Field(
        16,
        gt=0,
        le=LAYER_WIDTH_MAX,
        description="Rank of the adapter matrices (at most 65,536: no LLM layer is wider).",
    )
    alpha: float = Field(
        32,
        gt=0,
        le=1e6,
        description="lora_alpha: the adapter output is scaled by alpha/r (at most 10^6: a larger "
        "scale overflows float16, whose largest value is 65,504, on the first update).",
    )
    dropout: float = Field(0.05, ge=0, lt=1, description="lora_dropout.")
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "v_proj"],
        min_length=1,
        description='Module names that get adapters, e.g. [q_proj, v_proj], or ["all-linear"].',
    )
    bias: Literal["none", "all", "lora_only"] = Field(
        "none",
        description="peft's bias option: all trains every bias of the base model, lora_only the "
        "biases of the targeted layers (their gradients and optimizer state count).",
    )
    use_dora: bool = Field(
        False,
        description="LoraConfig(use_dora=True): DoRA adds a trainable magnitude per output "
        "feature of each targeted layer and keeps the base and LoRA outputs for backward.",
    )
    modules_to_save: list[str] = Field(
        default_factory=list,
        description="LoraConfig(modules_to_save=...): modules trained in full as copies (e.g. "
        "[lm_head, embed_tokens]): the copy, its gradient and its optimizer state.",
    )


class DataSpec(_Section):
    """Where the training data is and how big it is: duration and cost are computed from it."""

    train: str | None = Field(None, description="Training data: a local path or an s3:// URI.")
    eval: str | None = Field(None, description="Evaluation data, if any.")
    format: Literal["text", "pairs"] = Field(
        "text",
        description='"text": rows with a text field; "pairs": source/target translation pairs.',
    )
    text_field: str = Field("text", description="Column holding the text (format: text).")
    source_field: str = Field("source", description="Column of the source side (format: pairs).")
    target_field: str = Field("target", description="Column of the target side (format: pairs).")
    prompt_template: str = Field(
        "{source}\n{target}",
        description="How a pair becomes one training text; {source} and {target} are replaced.",
    )
    num_examples: int | None = Field(
        None,
        ge=0,
        le=EXAMPLES_MAX,
        description="Number of training examples (at most 10^13, more than any corpus has).",
    )
    avg_tokens: float | None = Field(
        None,
        gt=0,
        le=CONTEXT_MAX,
        description="Average tokens per example (at most 10M, the longest context of any model).",
    )
    max_length: int | None = Field(
        None,
        gt=0,
        le=CONTEXT_MAX,
        description="Truncation length in tokens (at most 10M, the longest context of any model).",
    )
    packing: bool = Field(
        False,
        description="Sequence packing (TRL SFTConfig(packing=True)): examples are concatenated "
        "into rows of exactly max_length tokens, with no padding and no attention mask.",
    )
    padding: Literal["longest", "max_length"] = Field(
        "longest",
        description='How batches are padded, which sets the tokens the GPU processes: "longest" '
        "(pad to the longest example of each batch, what DataCollatorForLanguageModeling and "
        'trainjob do: about avg_tokens each) or "max_length" (every example padded to max_length).',
    )
    sample_path: str | None = Field(
        None, description="A local sample of the data, used to measure avg_tokens and to rehearse."
    )


class ComputeSpec(_Section):
    """Where the job runs and under which limits."""

    provider: Literal["sagemaker", "local"] = Field(
        "sagemaker", description="sagemaker (a SageMaker training job) or local."
    )
    instance_type: str | None = Field(
        None, description="SageMaker instance type such as ml.g5.xlarge (required for sagemaker)."
    )
    instance_count: int = Field(
        1, ge=1, le=API_INT_MAX, description="Number of instances (a 32-bit API integer)."
    )
    gpu_memory_gib: float | None = Field(
        None,
        gt=0,
        le=1024,  # one GPU: the largest today holds 288 GB (NVIDIA B300)
        description="Memory of one GPU in GiB, as torch.cuda.get_device_properties(0)"
        ".total_memory / 2**30 reports it; for a local GPU, or to override the catalog's figure "
        "for compute.instance_type.",
    )
    spot: bool = Field(False, description="Managed spot training (EnableManagedSpotTraining).")
    max_run_hours: float = Field(
        24.0,
        gt=0,
        description="MaxRuntimeInSeconds in hours. SageMaker's default is 1 day; the API allows "
        "up to 28 days, and the account quota may allow less.",
    )
    max_wait_hours: float | None = Field(
        None,
        gt=0,
        le=API_INT_MAX // 3600,
        description="MaxWaitTimeInSeconds in hours (spot only); must be >= max_run_hours.",
    )
    checkpoint_s3_uri: str | None = Field(
        None, description="S3 URI that checkpoint_local_path is synced to during the job."
    )
    checkpoint_local_path: str = Field(
        "/opt/ml/checkpoints", description="The directory SageMaker syncs to checkpoint_s3_uri."
    )
    region: str = Field("us-east-1", description="AWS region of the job.")
    role_arn: str | None = Field(None, description="IAM role the training job runs as.")
    volume_size_gb: int = Field(
        30,
        ge=1,
        le=API_INT_MAX,
        description="EBS volume per instance, in GB (a 32-bit API integer).",
    )
    output_path: str | None = Field(None, description="S3 URI for model.tar.gz at the end.")
    distributed: Distributed = Field(
        "none", description="Data parallelism across GPUs: none, ddp, fsdp, or DeepSpeed zero1/2/3."
    )
    image_uri: str | None = Field(None, description="Training image; a HuggingFace DLC if unset.")
    subnets: list[str] | None = Field(
        None,
        description="VPC subnet ids (subnet-...) the job runs in (VpcConfig.Subnets); "
        "set together with security_group_ids.",
    )
    security_group_ids: list[str] | None = Field(
        None,
        description="VPC security group ids (sg-...) of the job (VpcConfig.SecurityGroupIds); "
        "set together with subnets.",
    )


class BudgetSpec(_Section):
    """What the job may cost and when it must be done."""

    max_cost_usd: float | None = Field(
        None,
        gt=0,
        le=1e12,
        description="Most the job may cost, in USD (at most 10^12, past any cloud bill).",
    )
    deadline_hours: float | None = Field(
        None,
        gt=0,
        le=API_INT_MAX // 3600,
        description="Hours from launch by which the job must have finished (at most what "
        "MaxWaitTimeInSeconds can hold).",
    )
    prices: dict[str, Annotated[float, Field(gt=0)]] | None = Field(
        None,
        description="Your own on-demand $/hour per instance type (negotiated rate, savings "
        "plan), e.g. {ml.g5.xlarge: 1.2}; replaces the bundled price in the spec's region.",
    )
    spot_prices: dict[str, Annotated[float, Field(gt=0)]] | None = Field(
        None,
        description="Your own effective managed-spot $/hour per instance type; replaces "
        "on-demand x (1 - the Spot Advisor saving).",
    )
    spot_discount_pct: float | None = Field(
        None,
        gt=0,
        lt=100,
        description="Spot saving in percent off on-demand for every instance type, instead of "
        "the Spot Advisor's per-type figure.",
    )


class IgnoreEntry(_Section):
    """Silence one rule for this spec; a written reason is required."""

    rule: str = Field(pattern=r"^PF\d{3}$", description="Rule ID, e.g. PF105.")
    reason: str = Field(min_length=3, description="Why the finding does not apply.")
    field: str | None = Field(None, description="Only silence findings about this dotted key.")


class TrainingSpec(RootModel[dict[str, Any]]):
    """Any ``transformers.TrainingArguments`` field, by its own name.

    Unstated fields read as Trainer's own default (from the field table), so rules see what the
    Trainer would do; ``stated`` tells them what the user actually wrote.
    """

    root: dict[str, Any] = Field(default_factory=dict)
    _config_defaults: dict[str, Any] = PrivateAttr(default_factory=dict)
    """Defaults of the arguments class in use where they differ from TrainingArguments' (TRL's
    SFTConfig turns gradient checkpointing on): set by the readers, read before Trainer's."""

    @property
    def values(self) -> dict[str, Any]:
        return self.root

    def use_config_defaults(self, defaults: dict[str, Any]) -> None:
        """Read unstated fields from ``defaults`` (the config class's own) before Trainer's."""
        self._config_defaults = dict(defaults)

    @property
    def config_defaults(self) -> dict[str, Any]:
        return dict(self._config_defaults)

    @property
    def stated(self) -> set[str]:
        return set(self.root)

    def get(self, name: str, default: Any = None) -> Any:
        """The stated value, else TrainingArguments' default for ``name``, else ``default``."""
        if name in self.root:
            return self.root[name]
        if name in self._config_defaults:
            return self._config_defaults[name]
        from .defaults import trainer_default

        found, value = trainer_default(name)
        return value if found else default


class JobSpec(_Section):
    """One training job: what model, which data, how it trains, where it runs, what it may cost."""

    name: str | None = Field(None, description="A name for the job (used for the SageMaker job).")
    model: ModelSpec | None = Field(None, description="The model being fine-tuned.")
    lora: LoraSpec | None = Field(None, description="LoRA adapters; omit for a full fine-tune.")
    data: DataSpec | None = Field(None, description="Training data and its size.")
    training: TrainingSpec = Field(
        default_factory=TrainingSpec, description="transformers.TrainingArguments, by field name."
    )
    compute: ComputeSpec | None = Field(None, description="Where and under which limits it runs.")
    budget: BudgetSpec | None = Field(None, description="Cost and time limits.")
    ignore: list[IgnoreEntry] = Field(
        default_factory=list, description="Rules silenced for this spec, each with a reason."
    )


SECTIONS: dict[str, type[BaseModel]] = {
    "model": ModelSpec,
    "lora": LoraSpec,
    "data": DataSpec,
    "compute": ComputeSpec,
    "budget": BudgetSpec,
}
