"""Phase 4 of a run: the Trainer with trainjob's callbacks, the save on SIGTERM installed on it
(the handlers themselves live in ``signals``), and one clear error for whatever stops training."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

from .checkpoints import ResumePoint, find_resume_point
from .diskerrors import disk_error, disk_problem, first_line
from .errors import RunFailed, TrainjobError
from .manifest import Manifest
from .runcontext import RunContext
from .secrets import without_hub_token

log = logging.getLogger("trainjob")


def make_trainer(
    ctx: RunContext, model: Any, built: Any, output_dir: Path, manifest: Manifest
) -> tuple[Any, Any, Any]:
    """The Trainer, its CheckpointGuard and the progress renderer."""
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback
    from transformers.trainer_callback import ProgressCallback as HFProgress

    try:
        args = TrainingArguments(**without_hub_token(built.args_values))
    except (TypeError, ValueError) as exc:
        message = str(exc).splitlines()[0]
        raise TrainjobError(
            f"{ctx.where('training')}: training: TrainingArguments refused these values: {message}"
        ) from None

    from .callbacks import CheckpointGuard, ProgressCallback
    from .progress import ProgressState, Renderer

    progress = ProgressState(started=ctx.started, usd_per_hour=usd_per_hour(ctx))
    renderer = Renderer(progress, live=ctx.options.live)
    save_steps = args.save_steps if args.save_strategy == "steps" else None
    save_steps_int = int(save_steps) if save_steps and save_steps >= 1 else None

    def counted(step: int) -> None:
        progress.checkpoints += 1

    guard = CheckpointGuard(
        output_dir,
        manifest,
        built.plan,
        save_total_limit=built.save_total_limit,
        require_optimizer=not args.save_only_model,
        save_steps=save_steps_int,
        canary_steps=ctx.options.canary_steps,
        canary_seconds=(ctx.options.canary_minutes * 60 if ctx.options.canary_minutes else None),
        watchdog_poll_seconds=ctx.options.watchdog_poll_seconds,
        on_checkpoint=counted,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=built.train_tok.examples,
        eval_dataset=built.eval_tok.examples if built.eval_tok else None,
        processing_class=built.tokenizer,
        data_collator=DataCollatorForLanguageModeling(built.tokenizer, mlm=False),
        callbacks=[guard, ProgressCallback(progress, renderer), *ctx.options.extra_callbacks],
    )
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(HFProgress)
    return trainer, guard, renderer


def add_signal_save(ctx: RunContext, trainer: Any, guard: Any) -> Any:
    """Install the step-boundary SIGTERM/SIGINT save (``callbacks.SignalSave``) on the Trainer.

    Installed before training starts, so a signal that arrives while the checkpoint is loaded
    is honoured too; one that arrived earlier (``EarlyStop``) counts as already requested."""
    from .callbacks import SignalSave

    saver = SignalSave(guard, already=lambda: bool(ctx.early.requested))
    trainer.add_callback(saver)
    saver.install()
    return saver


def usd_per_hour(ctx: RunContext) -> float | None:
    compute = ctx.spec.compute
    if not ctx.options.cost or compute is None or not compute.instance_type:
        return None
    import costmodel

    instance = costmodel.load_catalog().instance(compute.instance_type)
    try:
        rate = (
            instance.spot_usd_per_hour(compute.region)
            if compute.spot
            else instance.on_demand_usd_per_hour(compute.region)
        )
    except Exception as exc:  # a catalog without a price for this region: no cost shown
        log.info("cost so far not shown: %s", exc)
        return None
    return float(rate) * compute.instance_count


def explain(
    ctx: RunContext, exc: BaseException, output_dir: Path, manifest: Manifest
) -> BaseException:
    """Turn a training failure into one clear error, after moving any partial save aside."""
    if isinstance(exc, TrainjobError | KeyboardInterrupt):
        if isinstance(exc, RunFailed):
            quarantine_partial(output_dir, manifest)
        return exc
    point = quarantine_partial(output_dir, manifest)
    good = point.checkpoint.path.name if point.checkpoint else "none"
    if disk_problem(exc) is not None:
        return disk_error(exc, output_dir, started=True, good=good)
    if type(exc).__name__ == "OutOfMemoryError":
        return RunFailed(
            f"out of memory at step {ctx.sigterm_step or '?'}: {first_line(exc)}. "
            f"Last valid checkpoint: {good}. Lower per_device_train_batch_size or "
            "max_length, or enable gradient_checkpointing (memplan estimate SPEC)."
        )
    log.error("training failed:\n%s", "".join(traceback.format_exception(exc)))
    return RunFailed(
        f"training failed: {type(exc).__name__}: {first_line(exc)} (traceback in "
        f"{output_dir / 'trainjob.log'}). Last valid checkpoint: {good}."
    )


def quarantine_partial(output_dir: Path, manifest: Manifest) -> ResumePoint:
    try:
        point = find_resume_point(output_dir)
    except OSError:
        return ResumePoint(checkpoint=None)
    for check, moved in point.quarantined:
        log.warning(
            "moved aside invalid %s -> %s (%s)",
            check.path.name,
            moved.name,
            "; ".join(check.problems),
        )
        manifest.mark(check.path.name, "quarantined", f"{moved.name}: {check.problems[0]}")
    try:
        manifest.save()
    except OSError as exc:
        log.warning("could not update the manifest: %s", first_line(exc))
    return point
