"""``protect(trainer)``: trainjob's run-time safety added to a Trainer the user built themselves.

The same safety ``trainjob run`` gives its own loop, for a TRL ``SFTTrainer``/``DPOTrainer``/
``GRPOTrainer`` or a plain ``transformers.Trainer`` in the user's script (``trainjob exec``
injects this call into every Trainer a process creates; a user may also write it as one line):

- the checkpoint guard (``trainjob.callbacks.CheckpointGuard``): each save validated the moment
  it is written and recorded in ``trainjob-manifest.json``, a canary save early, rotation only
  after a newer checkpoint is proven valid, a watchdog;
- the save on SIGTERM and Ctrl-C at the end of the step in progress (``callbacks.SignalSave``,
  as ``trainjob run`` does; transformers' mid-step ``enable_jit_checkpoint`` is taken off), so a
  resume repeats the uninterrupted run bit for bit with dropout on; validated, recorded, and
  never a rewrite of a valid checkpoint; under torchrun/accelerate every rank stops at the same step (the request is
  all-reduced at each step end, so no rank waits forever in a collective the others left);
- ``train()`` resumes from the newest *valid* checkpoint in ``output_dir`` (Trainer's own
  ``resume_from_checkpoint=True`` takes the highest-numbered folder without looking inside it);
  broken ones are renamed aside, never deleted; rank 0 decides and broadcasts, so every rank
  resumes from the same folder;
- ``finally``: the model is saved to ``output_dir/final-model`` (what ``trainjob run`` does),
  unless that folder holds files trainjob did not write.

After a SIGTERM stop, ``train()`` raises ``SystemExit(143)`` once the checkpoint is saved (unless
``exit_on_stop=False``): the rest of the user's script (evaluate, push, "final" save) must not
run as if training had finished.

Importing this module imports neither torch nor transformers; ``protect`` does.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checkpoints import find_resume_point, validate_checkpoint

log = logging.getLogger("trainjob")

FINAL_DIR = "final-model"
FINAL_MARKER = "trainjob-final.json"  # the same marker trainjob run writes in its final dirs
STOP_EXIT_CODE = 143  # 128 + SIGTERM, what a process killed by SIGTERM reports
ATTR = "_trainjob_protection"


@dataclass
class Protection:
    """What ``protect`` added to one Trainer, and what happened in its ``train()`` calls."""

    output_dir: Path
    guard: Any
    resumed_from: str | None = None
    quarantined: list[str] = field(default_factory=list)
    sigterm_step: int | None = None
    outcome: str | None = None  # "completed" | "stopped" | "failed"
    final_dir: Path | None = None
    notes: list[str] = field(default_factory=list)
    saver: Any = None  # callbacks.SignalSave, when the save on SIGTERM is on


def _rank() -> int:
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return int(dist.get_rank())
    except ImportError:  # pragma: no cover - torch is there whenever a Trainer is
        pass
    return int(os.environ.get("RANK", "0"))


def _distributed() -> bool:
    import torch.distributed as dist

    return bool(dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1)


def protect(
    trainer: Any,
    *,
    output_dir: str | Path | None = None,
    canary_steps: int | None = 50,
    canary_minutes: float | None = 30.0,
    resume: bool = True,
    final_save: bool = True,
    exit_on_stop: bool = True,
    watchdog_poll_seconds: float = 30.0,
    allow_mismatch: bool = False,
) -> Protection:
    """Add trainjob's checkpoint guard, SIGTERM save, validated resume and final save to
    ``trainer`` (a ``transformers.Trainer`` or any subclass, TRL's included). Idempotent.

    ``output_dir`` overrides ``trainer.args.output_dir`` (``trainjob exec --output-dir``: on
    SageMaker the synced checkpoint dir). ``resume=False`` leaves ``train()``'s
    ``resume_from_checkpoint`` to the caller, validated only when given. A checkpoint recorded
    under another batch size, world size, max_steps or dataset length is not resumed (exit 1)
    unless ``allow_mismatch``: Trainer would silently change the job.
    """
    existing = getattr(trainer, ATTR, None)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    from .callbacks import CheckpointGuard
    from .logs import setup_console_logging
    from .manifest import Manifest

    setup_console_logging(live=False)
    args = trainer.args
    if output_dir is not None and str(output_dir) != str(args.output_dir):
        log.warning(
            "trainjob: writing checkpoints to %s instead of %s (the dir trainjob was given)",
            output_dir,
            args.output_dir,
        )
        args.output_dir = str(output_dir)
    out = Path(args.output_dir)
    if _rank() == 0:
        out.mkdir(parents=True, exist_ok=True)
    # Trainer rotates before anything checks the new save; the guard rotates only afterwards.
    save_total_limit = args.save_total_limit
    args.save_total_limit = None
    save_steps = None
    if str(getattr(args.save_strategy, "value", args.save_strategy)) == "steps":
        save_steps = int(args.save_steps) if args.save_steps and args.save_steps >= 1 else None
    guard = CheckpointGuard(
        out,
        Manifest(out),
        plan_of(trainer),
        save_total_limit=save_total_limit,
        require_optimizer=not args.save_only_model,
        save_steps=save_steps,
        canary_steps=canary_steps or None,
        canary_seconds=canary_minutes * 60 if canary_minutes else None,
        watchdog_poll_seconds=watchdog_poll_seconds if _rank() == 0 else 0.0,
    )
    protection = Protection(output_dir=out, guard=guard)
    setattr(trainer, ATTR, protection)
    trainer.add_callback(guard)
    _enable_sigterm_save(trainer, protection)
    _wrap_train(
        trainer,
        protection,
        resume=resume,
        final_save=final_save,
        exit_on_stop=exit_on_stop,
        allow_mismatch=allow_mismatch,
    )
    if _rank() == 0:
        _record_gate(guard.manifest)
    _report(protection, "protected")
    return protection


def _record_gate(manifest: Any) -> None:
    """Keep what ``trainjob exec``'s preflight gate found (and any --force reason) with the
    checkpoints, as ``trainjob run`` keeps it in its run record."""
    raw = os.environ.get("TRAINJOB_EXEC_GATE")
    if not raw:
        return
    try:
        gated = json.loads(raw)
    except ValueError:
        return
    for row in gated if isinstance(gated, list) else []:
        if row.get("checked") is False:
            manifest.event(
                f"trainjob exec gate: {row.get('source')}: not checked: {row.get('why')}"
            )
            continue
        text = (
            f"trainjob exec gate: {row.get('source')}: {row.get('errors')} error(s), "
            f"{row.get('warnings')} warning(s), report {str(row.get('report_sha256'))[:16]}"
        )
        if row.get("forced"):
            text += f"; FORCED past {row.get('overridden_errors')}: {row.get('reason')}"
        manifest.event(text)
    try:
        manifest.save()
    except OSError as exc:
        log.warning("trainjob: could not update the manifest: %s", exc)


def plan_of(trainer: Any) -> dict[str, Any]:
    """The facts a resume must not silently change, recorded with every checkpoint."""
    args = trainer.args
    model = getattr(trainer, "model", None)
    config = getattr(model, "config", None)
    dataset = getattr(trainer, "train_dataset", None)
    try:
        examples: int | None = len(dataset) if dataset is not None else None
    except TypeError:  # an iterable dataset
        examples = None
    return {
        "per_device_train_batch_size": args.per_device_train_batch_size,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "world_size": args.world_size,
        "max_steps": args.max_steps,
        "num_train_epochs": args.num_train_epochs,
        "num_examples": examples,
        "model": getattr(config, "_name_or_path", None) or None,
        "trainer": type(trainer).__name__,
    }


# ----------------------------------------------------------------------------------------------
# the save on SIGTERM


def _enable_sigterm_save(trainer: Any, protection: Protection) -> None:
    """SIGTERM and Ctrl-C save an ordinary checkpoint at the end of the step in progress, then stop.

    This is ``trainjob run``'s ``callbacks.SignalSave``, not transformers' ``enable_jit_checkpoint``:
    that one saves in ``on_pre_optimizer_step``, after the step's forward pass drew dropout RNG,
    so a resume from it is not the run it interrupted. If the user turned it on, it is taken off
    (its handler put back first) so that only one save answers the signal.
    """
    import threading

    from .callbacks import SignalSave

    _drop_jit_checkpoint(trainer)
    if threading.current_thread() is not threading.main_thread():
        protection.notes.append("not the main thread: no save on SIGTERM")
        log.warning("trainjob: Trainer built outside the main thread: no save on SIGTERM")
        return
    saver = SignalSave(protection.guard)
    saver.install()
    protection.saver = saver
    if _distributed():
        # Before the saver in callback order: every rank learns of the request at the same step
        # end, so all of them save that step and stop together.
        trainer.add_callback(_synced_stop_callback(saver))
    trainer.add_callback(saver)


def _drop_jit_checkpoint(trainer: Any) -> None:
    if not getattr(trainer.args, "enable_jit_checkpoint", False):
        return
    from transformers.trainer_jit_checkpoint import JITCheckpointCallback

    for callback in list(trainer.callback_handler.callbacks):
        if isinstance(callback, JITCheckpointCallback):
            manager = getattr(callback, "jit_manager", None)
            original = getattr(manager, "_original_sigterm_handler", None)
            if original is not None:
                signal.signal(signal.SIGTERM, original)
            trainer.remove_callback(callback)
    trainer.args.enable_jit_checkpoint = False


def _synced_stop_callback(saver: Any) -> Any:
    from transformers import TrainerCallback

    class _SyncedStop(TrainerCallback):  # type: ignore[misc]
        """One 1-element all_reduce per step end, and only with several ranks."""

        flag: Any = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.flag = None
            if _distributed():
                import torch
                import torch.distributed as dist

                device = "cuda" if dist.get_backend() == "nccl" else "cpu"
                self.flag = torch.zeros(1, dtype=torch.int32, device=device)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            flag = self.flag
            if flag is None:
                return
            import torch.distributed as dist

            flag.fill_(1 if saver.requested else 0)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            if int(flag.item()) and not saver.requested:
                saver.request("SIGTERM")

    return _SyncedStop()


# ----------------------------------------------------------------------------------------------
# resume and finally


def _wrap_train(trainer: Any, protection: Protection, **how: bool) -> None:
    original = trainer.train

    def train(resume_from_checkpoint: str | bool | None = None, *a: Any, **kw: Any) -> Any:
        chosen = choose_resume(
            trainer,
            protection,
            resume_from_checkpoint,
            auto=how["resume"],
            allow_mismatch=how["allow_mismatch"],
        )
        error: BaseException | None = None
        try:
            if chosen is not None and _at_the_end(trainer, chosen):
                result = _load_finished(trainer, chosen)
            else:
                result = original(chosen, *a, **kw)
            state = trainer.state
            if protection.saver is not None and protection.saver.saved_step is not None:
                protection.sigterm_step = protection.saver.saved_step
            stopped = protection.sigterm_step is not None and state.global_step < state.max_steps
            protection.outcome = "stopped" if stopped else "completed"
            return result
        except BaseException as exc:
            error = exc
            protection.outcome = "failed"
            raise
        finally:
            protection.guard.stop_watchdog()
            if how["final_save"]:
                _final_save(trainer, protection, error)
            _report(protection, "trained")
            if protection.outcome == "stopped" and how["exit_on_stop"]:
                log.info(
                    "trainjob: stopped on SIGTERM at step %s; checkpoint saved. Run the same "
                    "command again to resume.",
                    protection.sigterm_step,
                )
                raise SystemExit(STOP_EXIT_CODE)

    trainer.train = train


def choose_resume(
    trainer: Any,
    protection: Protection,
    asked: str | bool | None,
    *,
    auto: bool,
    allow_mismatch: bool = False,
) -> str | None:
    """The checkpoint ``train()`` resumes from: the newest valid one (broken ones moved aside).

    An explicit path is used if valid; if not, it is moved aside and the newest valid one is
    taken instead. Rank 0 decides and broadcasts the answer, so every rank resumes alike.
    """
    if asked is False or (asked is None and not auto):
        return None
    out = protection.output_dir
    require_optimizer = protection.guard.require_optimizer
    decided: str | None = None
    if _rank() == 0:
        if isinstance(asked, str):
            check = validate_checkpoint(Path(asked), require_optimizer=require_optimizer)
            if check.valid:
                decided = str(check.path)
            else:
                log.warning(
                    "trainjob: resume_from_checkpoint=%s is not usable (%s); taking the newest "
                    "valid checkpoint in %s instead",
                    asked,
                    "; ".join(check.problems),
                    out,
                )
        if decided is None:
            point = find_resume_point(out, require_optimizer=require_optimizer)
            manifest = protection.guard.manifest
            for check, moved in point.quarantined:
                log.warning(
                    "trainjob: moved aside invalid %s -> %s (%s); it is kept, not deleted",
                    check.path.name,
                    moved.name,
                    "; ".join(check.problems),
                )
                manifest.mark(check.path.name, "quarantined", f"{moved.name}: {check.problems[0]}")
                protection.quarantined.append(moved.name)
            if point.quarantined:
                manifest.save()
            decided = str(point.checkpoint.path) if point.checkpoint else None
        if decided is not None:
            changed = plan_changes(protection, Path(decided).name)
            if changed and not allow_mismatch:
                log.error(
                    "trainjob: %s was trained under a different plan: %s. Resuming would "
                    "silently change the job (Trainer does not check). Restore the settings, use "
                    "a new output_dir, or pass --allow-mismatch (protect(allow_mismatch=True)).",
                    decided,
                    "; ".join(changed),
                )
                decided = REFUSED
            elif changed:
                log.warning("trainjob: resuming although the job changed: %s", "; ".join(changed))
    if _distributed():
        import torch.distributed as dist

        box: list[str | None] = [decided]
        dist.broadcast_object_list(box, src=0)
        decided = box[0]
    if decided == REFUSED:
        raise SystemExit(1)
    if decided is not None:
        protection.resumed_from = Path(decided).name
        log.info("trainjob: resuming from %s (newest valid checkpoint)", decided)
    return decided


def _at_the_end(trainer: Any, checkpoint: str) -> bool:
    """True when the checkpoint already holds the last step of a ``max_steps`` job."""
    max_steps = int(getattr(trainer.args, "max_steps", -1) or -1)
    step = int(Path(checkpoint).name.rsplit("-", 1)[1])
    return max_steps > 0 and step >= max_steps


def _load_finished(trainer: Any, checkpoint: str) -> Any:
    """Resumed at max_steps, Trainer would train one step more (and write checkpoint-N+1); the
    finished checkpoint is loaded instead, so the rest of the script sees the trained model."""
    from transformers import TrainerState
    from transformers.trainer_utils import TrainOutput

    log.info("trainjob: %s is already at max_steps: nothing left to train", Path(checkpoint).name)
    trainer._load_from_checkpoint(checkpoint)
    trainer.state = TrainerState.load_from_json(str(Path(checkpoint) / "trainer_state.json"))
    return TrainOutput(trainer.state.global_step, 0.0, {})


REFUSED = "\0refused"
MISMATCH_KEYS = (
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "world_size",
    "max_steps",
    "num_train_epochs",
    "num_examples",
)


def plan_changes(protection: Protection, checkpoint: str) -> list[str]:
    """``key: before -> now`` for each plan fact that differs from the checkpoint's record."""
    entry = protection.guard.manifest.entry(checkpoint) or {}
    before = entry.get("plan") or {}
    now = protection.guard.plan
    return [
        f"{k}: {before[k]!r} -> {now.get(k)!r}"
        for k in MISMATCH_KEYS
        if k in before and before[k] is not None and before[k] != now.get(k)
    ]


def _final_save(trainer: Any, protection: Protection, error: BaseException | None) -> None:
    """The seed's ``finally``: whatever ended training, the model as it is now is on disk."""
    if trainer.state.global_step <= 0:
        return
    target = protection.output_dir / FINAL_DIR
    if target.is_dir() and any(target.iterdir()) and not (target / FINAL_MARKER).is_file():
        log.warning("trainjob: %s holds files trainjob did not write; no final save there", target)
        return
    try:
        trainer.save_model(str(target))  # every rank calls it (FSDP/DeepSpeed gather)
        if trainer.is_world_process_zero():
            processing = getattr(trainer, "processing_class", None)
            if processing is not None and hasattr(processing, "save_pretrained"):
                processing.save_pretrained(str(target))
            (target / FINAL_MARKER).write_text(
                json.dumps(
                    {
                        "global_step": trainer.state.global_step,
                        "outcome": protection.outcome,
                        "error": f"{type(error).__name__}: {error}"[:200] if error else None,
                        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    }
                ),
                encoding="utf-8",
            )
            protection.final_dir = target
            log.info(
                "trainjob: final model saved to %s (step %d)", target, trainer.state.global_step
            )
    except Exception as exc:  # the original error, if any, is what the user must see
        log.error("trainjob: could not save the final model to %s: %s", target, exc)


def _report(protection: Protection, what: str) -> None:
    """Tell ``trainjob exec`` (the parent) what this process protected, in its report dir."""
    folder = os.environ.get("TRAINJOB_EXEC_REPORT_DIR")
    if not folder:
        return
    row = {
        "pid": os.getpid(),
        "rank": _rank(),
        "output_dir": str(protection.output_dir),
        "trainer": protection.guard.plan.get("trainer"),
        "resumed_from": protection.resumed_from,
        "quarantined": protection.quarantined,
        "sigterm_step": protection.sigterm_step,
        "outcome": protection.outcome,
        "checkpoints": protection.guard.written,
        "final_dir": str(protection.final_dir) if protection.final_dir else None,
    }
    path = Path(folder) / f"{what}-{os.getpid()}-{time.monotonic_ns()}.json"
    try:
        path.write_text(json.dumps(row), encoding="utf-8")
    except OSError:
        pass
