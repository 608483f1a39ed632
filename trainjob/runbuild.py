"""Phase 3 of a run: model, tokenizer, LoRA, tokenised data, TrainingArguments and the plan.

Nothing here trains; the plan it returns is what the manifest records for every checkpoint and
what a resume compares against.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import TrainjobError
from .runcontext import ASSETS_DIR, RunContext

log = logging.getLogger("trainjob")


@dataclass
class Built:
    """What the Trainer is made of."""

    model: Any
    tokenizer: Any
    origin: str
    train_tok: Any
    eval_tok: Any
    args_values: dict[str, Any]
    save_total_limit: int | None
    plan: dict[str, Any]


def quiet_libraries() -> None:
    """transformers' own INFO lines and bars are replaced by trainjob's."""
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_warning()
    hf_logging.disable_progress_bar()
    # peft 0.21 on transformers 5.x warns on every wrap; it is theirs to fix, not the user's.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")


def build(ctx: RunContext, output_dir: Path, texts: Any, eval_texts: Any) -> Built:
    """Base model and tokenizer, tokenised data, TrainingArguments values and the plan."""
    built = build_model(ctx, output_dir, texts.texts)
    model, tokenizer = built.model, built.tokenizer
    log.info("model: %s", built.origin)

    from .data import tokenize

    max_length = ctx.spec.data.max_length if ctx.spec.data else None
    if max_length is None:
        max_length = getattr(tokenizer, "model_max_length", None)
        if max_length is None or max_length > 1_000_000:
            max_length = getattr(model.config, "max_position_embeddings", None)
    train_tok = tokenize(texts.texts, tokenizer, max_length)
    log.info("tokenised: %s", train_tok.report())
    eval_tok = tokenize(eval_texts.texts, tokenizer, max_length) if eval_texts else None

    args_values, save_total_limit = training_arguments(ctx, output_dir)
    plan = make_plan(ctx, args_values, texts, max_length)
    return Built(
        model, tokenizer, built.origin, train_tok, eval_tok, args_values, save_total_limit, plan
    )


def make_plan(
    ctx: RunContext, args_values: dict[str, Any], texts: Any, max_length: int | None
) -> dict[str, Any]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return {
        "per_device_train_batch_size": args_values.get("per_device_train_batch_size", 8),
        "gradient_accumulation_steps": args_values.get("gradient_accumulation_steps", 1),
        "world_size": world,
        "max_steps": args_values.get("max_steps", -1),
        "num_train_epochs": args_values.get("num_train_epochs", 3.0),
        "data_sha256": texts.sha256,
        "num_examples": len(texts.texts),
        "max_length": max_length,
        "model": ctx.spec.model.name if ctx.spec.model else None,
        "dtype": ctx.spec.model.dtype if ctx.spec.model else None,
        **lora_plan(ctx),
    }


def lora_plan(ctx: RunContext) -> dict[str, Any]:
    """r, alpha and targets: what makes an adapter checkpoint fit this job's model."""
    lora = ctx.spec.lora
    if lora is None:
        return {}
    targets: Any = lora.target_modules
    plan: dict[str, Any] = {"lora_r": lora.r, "lora_alpha": lora.alpha}
    if targets and targets != ["all-linear"] and targets != "all-linear":
        plan["lora_targets"] = sorted(str(t) for t in targets)
    return plan


def build_model(ctx: RunContext, output_dir: Path, texts: list[str]) -> Any:
    from .modelbuild import build_from_config, load_model, shallow_config

    model_spec = ctx.spec.model
    if model_spec is None:
        raise TrainjobError(f"{ctx.loaded.path}: model: required for trainjob run")
    seed = int(ctx.training_value("seed") or 42)
    assets = output_dir / ASSETS_DIR
    if ctx.options.shallow_layers is not None:
        fields, local = shallow_config(model_spec.name, ctx.spec_dir, ctx.options.shallow_layers)
        tokenizer = None
        if local is not None and (local / "tokenizer_config.json").is_file():
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(local)
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
        layers = fields["num_hidden_layers"]
        origin = f"{model_spec.name} shallow copy ({layers} layer(s), random init)"
        return build_from_config(
            fields, texts, assets, seed=seed, origin=origin, tokenizer=tokenizer
        )
    return load_model(
        model_spec.name,
        texts,
        assets,
        seed=seed,
        dtype=model_spec.dtype,
        attn=model_spec.attn_implementation,
        spec_dir=ctx.spec_dir,
        revision=model_spec.revision,
    )


def wrap_lora(ctx: RunContext, model: Any, args_values: dict[str, Any]) -> Any:
    lora = ctx.spec.lora
    if lora is None:
        log.info("no lora section: full fine-tune")
        return model
    from peft import LoraConfig, get_peft_model

    targets: Any = lora.target_modules
    if targets == ["all-linear"]:
        targets = "all-linear"
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=targets,
        bias=lora.bias,
        task_type="CAUSAL_LM",
    )
    if args_values.get("gradient_checkpointing"):
        model.enable_input_require_grads()
    from transformers import set_seed

    # The LoRA init draws from the global RNG: seed it here, so a run whose base model came from
    # the assets cache (no random init drawn) starts from the same adapter as one that built it.
    set_seed(int(ctx.training_value("seed") or 42))
    try:
        wrapped = get_peft_model(model, config)
    except ValueError as exc:
        raise TrainjobError(
            f"{ctx.where('lora.target_modules')}: lora.target_modules: {str(exc).splitlines()[0]}"
        ) from None
    trainable, total = wrapped.get_nb_trainable_parameters()
    log.info(
        "LoRA r=%d on %s: %s trainable of %s parameters",
        lora.r,
        targets,
        f"{trainable:,}",
        f"{total:,}",
    )
    return wrapped


def training_arguments(ctx: RunContext, output_dir: Path) -> tuple[dict[str, Any], int | None]:
    """The spec's TrainingArguments plus trainjob's overrides, each one logged."""
    import torch

    values = dict(ctx.spec.training.values)
    values.update(ctx.options.training_overrides)
    values["output_dir"] = str(output_dir)
    if values.get("enable_jit_checkpoint") is False:
        log.warning("training.enable_jit_checkpoint: false overridden: trainjob saves on SIGTERM")
    # trainjob's SignalSave saves on SIGTERM/SIGINT at the next step boundary; transformers' JIT
    # save runs inside the step (on_pre_optimizer_step, after the forward pass drew dropout
    # RNG), so a resume from it would not repeat the uninterrupted run.
    values["enable_jit_checkpoint"] = False
    limit = values.pop("save_total_limit", None)
    values["save_total_limit"] = None  # trainjob rotates, after validating the newer save
    values["disable_tqdm"] = True  # trainjob's progress bar replaces tqdm
    values.setdefault("include_num_input_tokens_seen", "non_padding")
    values.setdefault("report_to", "none")
    if values.get("gradient_checkpointing"):
        values.setdefault("gradient_checkpointing_kwargs", {"use_reentrant": False})
    if not torch.cuda.is_available():
        for key in ("bf16", "fp16", "tf32"):
            if values.pop(key, None):
                log.info(
                    "training.%s: ignored on this machine (no CUDA GPU); training in float32", key
                )
        values["use_cpu"] = True
    if limit is not None:
        log.info(
            "save_total_limit=%s is applied by trainjob after each new checkpoint is validated",
            limit,
        )
    return values, limit
