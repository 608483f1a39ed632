"""Phase 1 of a run: where checkpoints, the final model and its backup go, and where the data is.

SageMaker's container contract wins when ``SM_*`` variables exist (the synced checkpoint dir,
``SM_MODEL_DIR``, ``SM_CHANNEL_TRAIN``); otherwise the spec and the command line say.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RunRefused, TrainjobError
from .runcontext import RunContext

log = logging.getLogger("trainjob")


@dataclass
class RunPaths:
    output_dir: Path
    model_dir: Path
    backup_dir: Path | None


def resolve_paths(ctx: RunContext) -> RunPaths:
    """The three folders a run writes, or a one-line refusal naming the spec key."""
    training = ctx.spec.training
    if ctx.sm is not None:
        output_dir = ctx.sm.checkpoint_dir
        stated = training.values.get("output_dir")
        if stated and Path(stated) != output_dir:
            log.warning(
                "training.output_dir %s is not the synced checkpoint dir; writing checkpoints "
                "to %s, the only folder SageMaker syncs to S3 during the job",
                stated,
                output_dir,
            )
        return RunPaths(output_dir, ctx.sm.model_dir, ctx.sm.output_data_dir / "final_model")
    compute = ctx.spec.compute
    if compute is not None and compute.provider == "sagemaker" and ctx.options.output_dir is None:
        raise RunRefused(
            f"{ctx.where('compute.provider')}: compute.provider: sagemaker, and this is not a "
            "SageMaker container; launch it with `trainjob launch SPEC`, or pass --output-dir "
            "to train here"
        )
    if ctx.options.output_dir is not None:
        output_dir = ctx.options.output_dir
    else:
        stated = training.values.get("output_dir")
        if not stated:
            line = ctx.loaded.line_of("training")
            where = f"{ctx.loaded.path}:{line}" if line else str(ctx.loaded.path)
            raise TrainjobError(
                f"{where}: training.output_dir: required for trainjob run (or pass --output-dir)"
            )
        output_dir = Path(stated)
    model_dir = ctx.options.model_dir or output_dir / "final-model"
    backup = ctx.options.backup_dir or output_dir / "final-model-backup"
    return RunPaths(output_dir, model_dir, backup)


def data_path(ctx: RunContext, which: str) -> Path | None:
    """The local file or folder for ``data.train`` / ``data.eval`` (a channel on SageMaker)."""
    data = ctx.spec.data
    if which == "train" and ctx.options.data_path is not None:
        return ctx.options.data_path
    if ctx.sm is not None:
        names = ("train", "training") if which == "train" else ("eval", "validation", "test")
        for name in names:
            if name in ctx.sm.channels:
                return ctx.sm.channels[name]
    stated = getattr(data, which, None) if data is not None else None
    if which == "train" and stated is None and data is not None:
        stated = data.sample_path
    if stated is None:
        if which == "train":
            raise TrainjobError(
                f"{ctx.loaded.path}: data.train: required for trainjob run (a local jsonl "
                "or csv file, or a folder of them)"
            )
        return None
    if "://" in stated and which == "eval" and ctx.sm is not None:
        log.warning("data.eval %s has no SM_CHANNEL_EVAL in this job: no evaluation", stated)
        return None
    if "://" in stated:
        raise TrainjobError(
            f"{ctx.where('data.' + which)}: data.{which}: {stated} is remote; trainjob run "
            "reads local files (SageMaker hands it the channel as SM_CHANNEL_TRAIN)"
        )
    path = Path(stated)
    return path if path.is_absolute() else ctx.spec_dir / path


def read_data(ctx: RunContext) -> tuple[Any, Any]:
    """The training texts (and eval texts, or None), read and checked row by row."""
    from .data import read_texts

    data = ctx.spec.data
    train_path = data_path(ctx, "train")
    assert train_path is not None
    fields: dict[str, Any] = {
        "fmt": data.format if data else "text",
        "text_field": data.text_field if data else "text",
        "source_field": data.source_field if data else "source",
        "target_field": data.target_field if data else "target",
        "prompt_template": data.prompt_template if data else "{source}\n{target}",
    }
    texts = read_texts(train_path, limit=ctx.options.data_limit, **fields)
    eval_path = data_path(ctx, "eval")
    eval_texts = read_texts(eval_path, **fields) if eval_path is not None else None
    log.info("data: %d rows from %s", len(texts.texts), train_path)
    return texts, eval_texts
