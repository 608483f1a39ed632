"""Phase 4 of a run: the Trainer with trainjob's callbacks, the signal handling, and one clear
error for whatever stops training."""

from __future__ import annotations

import logging
import signal
import traceback
from pathlib import Path
from typing import Any

from .checkpoints import ResumePoint, find_resume_point, validate_checkpoint
from .diskerrors import first_line, is_disk_full
from .errors import RunFailed, TrainjobError
from .manifest import Manifest
from .runcontext import RunContext

log = logging.getLogger("trainjob")


class EarlyStop:
    """A SIGTERM that arrives before training starts (model download, tokenising) ends the run
    cleanly instead of killing it mid-write; once the Trainer exists, its JIT handler takes over
    and restores this one when training ends."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.requested = True
        log.warning("SIGTERM received before or after training; stopping at the next safe point")

    def install(self) -> None:
        try:
            self._previous = signal.signal(signal.SIGTERM, self._handler)
        except ValueError:  # not the main thread (e.g. called from a worker thread)
            self._previous = None

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def make_trainer(
    ctx: RunContext, model: Any, built: Any, output_dir: Path, manifest: Manifest
) -> tuple[Any, Any, Any]:
    """The Trainer, its CheckpointGuard and the progress renderer."""
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback
    from transformers.trainer_callback import ProgressCallback as HFProgress

    try:
        args = TrainingArguments(**built.args_values)
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


def wrap_jit(ctx: RunContext, trainer: Any, guard: Any, output_dir: Path) -> Any:
    """Add what transformers' JIT checkpoint lacks: validate and record the SIGTERM save, and
    skip it when ``checkpoint-<step>`` already exists and is valid (the JIT save would rewrite
    a good checkpoint in place, and a kill during that rewrite would leave none).

    Returns the SIGINT handler it replaced (to restore after training), or None."""
    jit = next(
        (
            cb
            for cb in trainer.callback_handler.callbacks
            if type(cb).__name__ == "JITCheckpointCallback"
        ),
        None,
    )
    manager = getattr(jit, "jit_manager", None)
    if manager is None:
        log.warning("this transformers has no enable_jit_checkpoint: no save on SIGTERM")
        return None
    original = manager.execute_jit_checkpoint

    def jit_save() -> None:
        step = trainer.state.global_step
        ctx.sigterm_step = step
        folder = output_dir / f"checkpoint-{step}"
        if (
            folder.is_dir()
            and validate_checkpoint(folder, require_optimizer=guard.require_optimizer).valid
        ):
            manager.is_checkpoint_requested = False
            log.info("SIGTERM: %s already saved and valid; stopping without re-saving", folder.name)
            return
        log.info("SIGTERM: saving %s before the grace period ends", folder.name)
        original()
        if trainer.is_world_process_zero():
            guard.after_save(step, "sigterm", epoch=trainer.state.epoch)

    manager.execute_jit_checkpoint = jit_save

    def on_sigint(signum: int, frame: Any) -> None:
        # Ctrl-C locally: the same save-and-stop as SIGTERM; a second Ctrl-C kills.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        manager._sigterm_handler(signum, frame)

    try:
        return signal.signal(signal.SIGINT, on_sigint)
    except ValueError:
        return None


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
    if is_disk_full(exc):
        partial = ", ".join(m.name for _, m in point.quarantined) or "none"
        return RunFailed(
            f"disk full while writing to {output_dir}: {first_line(exc)}. The partial "
            f"checkpoint was moved aside ({partial}); the last valid checkpoint is {good} "
            "and is intact. Free space (or use a larger volume) and run again to resume."
        )
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
