"""``trainjob run``: the LoRA fine-tune itself, with every safety of the seed built in.

The order of one run, one module per phase (each testable alone with a spec and a folder):

1. load the spec and pass the preflight gate (errors refuse the run unless ``--force --reason``);
2. ``runpaths``: resolve the paths (SageMaker's container contract when ``SM_*`` variables exist)
   and read the data;
3. ``resume``: find the newest *valid* checkpoint, moving broken ones aside, and refuse a resume
   whose plan (batch, max steps, data, model, LoRA shape) differs from the checkpoint's unless told;
4. ``runbuild``: model, tokenizer, LoRA and data; ``runtrain``: train with the checkpoint guard,
   the progress bar and a SIGTERM save, and a handler for a signal that arrives before training
   (both in ``signals``);
5. ``finish`` (in ``finally``): save the adapter and tokenizer to the model dir and a backup, list
   every checkpoint with its size, and append this attempt to ``trainjob-run.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .diskerrors import disk_error, disk_problem
from .errors import TrainjobError
from .finish import check_final_dir, copy_final, finish
from .manifest import Manifest
from .resume import RESUME_KEYS, check_resume, choose_resume_point, finished
from .runcontext import ASSETS_DIR, FINAL_MARKER, RECORD_NAME, RunContext, RunOptions, RunResult
from .runpaths import read_data, resolve_paths
from .runtrain import add_signal_save, explain, make_trainer
from .signals import EarlyStop
from .sm_env import read_sagemaker_env

log = logging.getLogger("trainjob")

__all__ = [
    "ASSETS_DIR",
    "FINAL_MARKER",
    "RECORD_NAME",
    "RESUME_KEYS",
    "RunOptions",
    "RunResult",
    "main_from_sagemaker_env",
    "run_and_report",
    "run_job",
]


def run_job(spec_path: str | Path, options: RunOptions | None = None) -> RunResult:
    """Run the job a spec describes; raises TrainjobError (and subclasses) for what users can fix."""
    from preflight.spec import load_spec

    from .logs import setup_console_logging

    options = options or RunOptions()
    setup_console_logging(live=options.live)
    early = EarlyStop()
    early.install()
    try:
        loaded = load_spec(spec_path)
        gate = None
        if options.gate:
            from .gate import run_gate

            gate = run_gate(loaded, force=options.force, reason=options.reason)
        return execute(RunContext(loaded, options, gate, early))
    finally:
        early.uninstall()


def main_from_sagemaker_env(spec_path: str | Path, **overrides: Any) -> int:
    """Entry point for a SageMaker training container: paths from ``SM_*``, exit code returned.

    The launch side's entry script calls this with the spec it shipped. Checkpoints go to the
    synced checkpoint dir (``checkpointconfig.json`` LocalPath), the final adapter to
    ``SM_MODEL_DIR`` and a backup to ``SM_OUTPUT_DATA_DIR/final_model``; after a spot restart the
    restored checkpoints are resumed from.
    """
    options = RunOptions(sagemaker=read_sagemaker_env(), live=False, **overrides)
    return run_and_report(spec_path, options)


def run_and_report(spec_path: str | Path, options: RunOptions) -> int:
    """Run and turn the outcome into a DESIGN.md exit code, printing one clear line on failure."""
    from preflight.spec import SpecError

    try:
        result = run_job(spec_path, options)
    except SpecError as exc:
        for issue in exc.issues:
            log.error("%s", issue)
        return 2
    except TrainjobError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted (Ctrl-C); the final adapter was saved if training had started")
        return 130
    if result.outcome == "stopped":
        log.info(
            "stopped on SIGTERM at step %d/%d; %s saved. Run again to resume.",
            result.global_step,
            result.max_steps,
            result.sigterm_checkpoint or "the last checkpoint was",
        )
    return 0


def execute(ctx: RunContext) -> RunResult:
    """Phases 2 to 5 for a loaded, gated spec."""
    from .logs import add_file_log

    paths = resolve_paths(ctx)
    output_dir = paths.output_dir
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        file_log = add_file_log(output_dir)
    except OSError as exc:
        raise disk_error(exc, output_dir, started=False) from None
    try:
        check_final_dir(paths.model_dir)
        if paths.backup_dir is not None:
            check_final_dir(paths.backup_dir)
        texts, eval_texts = read_data(ctx)
        manifest = Manifest(output_dir)
        point = choose_resume_point(ctx, output_dir, manifest)
        return train(
            ctx,
            output_dir,
            paths.model_dir,
            paths.backup_dir,
            texts,
            eval_texts,
            manifest,
            point.checkpoint,
            [m.name for _, m in point.quarantined],
        )
    except TrainjobError:
        raise
    except Exception as exc:
        if disk_problem(exc) is None:
            raise
        raise disk_error(exc, output_dir, started=False) from None
    finally:
        logging.getLogger("trainjob").removeHandler(file_log)
        file_log.close()


def train(
    ctx: RunContext,
    output_dir: Path,
    model_dir: Path,
    backup_dir: Path | None,
    texts: Any,
    eval_texts: Any,
    manifest: Manifest,
    resume: Any,
    quarantined: list[str],
) -> RunResult:
    import torch

    from .runbuild import build, quiet_libraries, wrap_lora

    if ctx.options.threads:
        torch.set_num_threads(ctx.options.threads)
    quiet_libraries()
    built = build(ctx, output_dir, texts, eval_texts)
    plan = built.plan
    changed = (
        check_resume(resume, manifest, plan, allow_mismatch=ctx.options.allow_mismatch)
        if resume is not None
        else False
    )
    model = wrap_lora(ctx, built.model, built.args_values)
    trainer, guard, renderer = make_trainer(ctx, model, built, output_dir, manifest)
    saver = add_signal_save(ctx, trainer, guard)
    tokenizer, train_tok = built.tokenizer, built.train_tok

    resumed_from = resume.path.name if resume is not None else None
    if resume is not None and finished(resume, plan["max_steps"], changed):
        # Trainer would run one extra step past max_steps when resumed at the very end.
        log.info("%s is already at max_steps: nothing left to train", resume.path.name)
        trainer.state.global_step = resume.step
        trainer.state.max_steps = resume.step
        saver.uninstall()
        copy_final(resume.path, [d for d in (model_dir, backup_dir) if d is not None])
        return finish(
            ctx, "completed", trainer, output_dir, None, None, manifest, resumed_from,
            quarantined, train_tok, tokenizer, trained=False,
        )  # fmt: skip
    if resume is not None:
        log.info("resuming from %s (newest valid checkpoint)", resume.path)
    if ctx.early.requested or saver.requested:
        saver.uninstall()
        log.warning("SIGTERM arrived before training started; nothing trained, exiting cleanly")
        return finish(
            ctx, "stopped", trainer, output_dir, None, None, manifest, resumed_from,
            quarantined, train_tok, tokenizer, trained=False,
        )  # fmt: skip

    outcome = "failed"
    error: BaseException | None = None
    try:
        trainer.train(resume_from_checkpoint=str(resume.path) if resume else None)
        stopped = (
            saver.saved_step is not None and trainer.state.global_step < trainer.state.max_steps
        )
        if stopped:
            ctx.sigterm_step = saver.saved_step
            ctx.sigterm_save_seconds = saver.seconds
        outcome = "stopped" if stopped else "completed"
    except BaseException as exc:
        error = exc
        raise explain(ctx, exc, output_dir, manifest) from None
    finally:
        guard.stop_watchdog()
        renderer.stop()
        saver.uninstall()
        result = finish(
            ctx, outcome, trainer, output_dir, model_dir, backup_dir, manifest, resumed_from,
            quarantined, train_tok, tokenizer, trained=True, error=error,
        )  # fmt: skip
    if result.final_save_failures:
        raise TrainjobError(result.final_save_failures[0], exit_code=2)
    return result
