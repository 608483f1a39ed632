"""The Trainer callbacks every trainjob run gets, so nobody has to write them for a 7-day job.

``CheckpointGuard`` validates each save the moment it is written (and logs it the way the seed's
``CheckpointValidationCallback`` does), records it in the manifest, forces an early *canary*
save so a broken save path shows in the first hour rather than on day 7, rotates old checkpoints
only after a newer one has been proven valid, and runs a watchdog that warns when no checkpoint
appeared in the expected time. ``ProgressCallback`` feeds the progress bar.

This module imports transformers at the top: it is only imported by ``trainjob.run`` inside the
functions that train.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from .checkpoints import folder_bytes, human_bytes, list_checkpoints, validate_checkpoint
from .errors import RunFailed
from .manifest import Manifest
from .progress import ProgressState, Renderer
from .signals import SignalSaveMixin

log = logging.getLogger("trainjob")


class CheckpointGuard(TrainerCallback):
    """Validate, record, rotate and watch checkpoints (rank 0 only writes)."""

    def __init__(
        self,
        output_dir: Path,
        manifest: Manifest,
        plan: dict[str, Any],
        *,
        save_total_limit: int | None,
        require_optimizer: bool,
        save_steps: int | None,
        canary_steps: int | None,
        canary_seconds: float | None,
        watchdog_poll_seconds: float,
        watchdog_factor: float = 2.0,
        on_checkpoint: Callable[[int], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.output_dir = output_dir
        self.manifest = manifest
        self.plan = plan
        self.save_total_limit = save_total_limit
        self.require_optimizer = require_optimizer
        self.save_steps = save_steps
        self.canary_steps = canary_steps
        self.canary_seconds = canary_seconds
        self.watchdog_factor = watchdog_factor
        self.watchdog_poll_seconds = watchdog_poll_seconds
        self.on_checkpoint = on_checkpoint
        # Step times, the canary's seconds and the watchdog all read this clock (tests pass one).
        self.clock = clock
        self.written: list[int] = []
        # No folder is named "", so "" would protect nothing, exactly as None does.
        self.best_checkpoint: str | None = None  # pragma: no mutate
        self._next_kind = "periodic"
        # Set by on_train_begin, which Trainer calls before any other event; nothing reads them
        # before (``_late`` returns before reading the last checkpoint's time until a step ends).
        self._start_step: int
        self._start_time: float
        self._last_ckpt_time: float
        self._last_step_time: float
        self._step_seconds: float | None = None
        self._warned_at: float | None = None  # when the watchdog last warned
        self._stop = threading.Event()

    @property
    def canary_pending(self) -> bool:
        """A canary save is still to come: one is set, and no valid save has proved the path yet
        (``after_save`` clears both settings)."""
        return self.canary_steps is not None or self.canary_seconds is not None

    # -- Trainer events -------------------------------------------------------------------------

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        now = self.clock()
        self._start_step = state.global_step
        self._start_time = self._last_ckpt_time = self._last_step_time = now
        if self.save_steps is not None and self.canary_steps is not None:
            # A regular save that comes before the canary would is the canary.
            if self.save_steps <= self.canary_steps:
                self.canary_steps = None
        if state.is_world_process_zero and self.watchdog_poll_seconds > 0:
            threading.Thread(target=self._watch, name="trainjob-watchdog", daemon=True).start()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        now = self.clock()
        took = now - self._last_step_time
        self._last_step_time = now
        # Exponential average: cheap, and follows a job whose speed changes.
        self._step_seconds = (
            took if self._step_seconds is None else 0.9 * self._step_seconds + 0.1 * took
        )
        if self.canary_pending and not control.should_save:
            steps = state.global_step - self._start_step
            due = (self.canary_steps is not None and steps >= self.canary_steps) or (
                self.canary_seconds is not None and now - self._start_time >= self.canary_seconds
            )
            if due:
                control.should_save = True
                self._next_kind = "canary"
        elif control.should_save:
            self._next_kind = "periodic"

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.best_model_checkpoint:
            self.best_checkpoint = Path(state.best_model_checkpoint).name
        if state.is_world_process_zero:
            self.after_save(state.global_step, self._next_kind, epoch=state.epoch)
        self._next_kind = "periodic"

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.stop_watchdog()

    # -- the work -------------------------------------------------------------------------------

    def after_save(self, step: int, kind: str, *, epoch: float | None = None) -> None:
        """Validate ``checkpoint-<step>``; record it, or stop the run if the save path is broken."""
        folder = self.output_dir / f"checkpoint-{step}"
        check = validate_checkpoint(folder, require_optimizer=self.require_optimizer)
        if not check.valid:
            self.manifest.mark(folder.name, "invalid", "; ".join(check.problems))
            self.manifest.save()
            raise RunFailed(
                f"CHECKPOINT INVALID: {folder}: {'; '.join(check.problems)}. The save path is "
                "broken; stopping now rather than training on with nothing to resume from."
            )
        entry = self.manifest.record(folder, step=step, kind=kind, plan=self.plan)
        self.canary_steps = self.canary_seconds = None  # any valid save proves the save path
        self.written.append(step)
        self._last_ckpt_time = self.clock()
        epoch_text = f"{epoch:.2f}" if epoch is not None else "-"
        label = {"canary": " (canary: proves the save path early)", "sigterm": " (on SIGTERM)"}
        log.info("[CHECK] CHECKPOINT SAVED: %s%s", folder, label.get(kind, ""))
        log.info(
            "   Step: %d  Epoch: %s  Total: %s", step, epoch_text, human_bytes(entry["total_bytes"])
        )
        for name, info in entry["files"].items():
            if "/" not in name:
                log.info("   [OK] %s: %s", name, human_bytes(info["bytes"]))
        self._rotate(folder)
        self.manifest.save()
        if self.on_checkpoint is not None:
            self.on_checkpoint(step)

    def _rotate(self, newest: Path) -> None:
        """Apply the user's ``save_total_limit``, but only once ``newest`` is proven valid.

        Trainer rotates inside ``_save_checkpoint``, before anything checks the new save; here
        the limit is applied afterwards, and the best checkpoint (if tracked) is always kept. A
        folder that cannot be removed is reported and left for the next save, never fatal.
        """
        limit = self.save_total_limit
        if limit is None or limit <= 0:
            return
        others = [p for p in list_checkpoints(self.output_dir) if p != newest]
        keep = max(limit - 1, 0)
        surplus = [p for p in others if p.name != self.best_checkpoint]
        excess = len(others) - keep
        for path in surplus[: max(excess, 0)]:
            size = folder_bytes(path)
            try:
                shutil.rmtree(path)
            except OSError as exc:
                # Trainer's own rotation ignores removal errors; a 7-day job must not die over
                # an old folder after its newest save validated. The folder keeps its name, so
                # the next save tries again (a resume quarantines it if it is now incomplete).
                self.manifest.mark(path.name, "rotation-failed", f"save_total_limit={limit}; {exc}")
                log.warning(
                    "rotation (save_total_limit=%d): could not remove %s (%s); it stays on disk "
                    "and the next save tries again",
                    limit,
                    path.name,
                    exc,
                )
                continue
            self.manifest.mark(
                path.name, "rotated", f"save_total_limit={limit}; newer {newest.name} validated"
            )
            log.info(
                "rotation (save_total_limit=%d): removed %s (%s) after %s validated",
                limit,
                path.name,
                human_bytes(size),
                newest.name,
            )

    def expected_interval(self) -> float | None:
        """Seconds within which the next checkpoint should appear, or None if unknown yet."""
        if self._step_seconds is None:
            return None
        steps = [s for s in (self.save_steps, self.canary_steps) if s]
        limits = [s * self._step_seconds for s in steps]
        if self.canary_seconds is not None:
            limits.append(self.canary_seconds)
        if not limits:
            return None
        return min(limits) * self.watchdog_factor + 60.0

    def overdue(self, now: float | None = None) -> float | None:
        """Seconds since the last checkpoint if that is longer than expected, else None."""
        late = self._late(self.clock() if now is None else now)
        return late[0] if late else None

    def _late(self, now: float) -> tuple[float, float] | None:
        """(seconds since the last checkpoint, seconds expected) when the next one is overdue."""
        expected = self.expected_interval()
        if expected is None:
            return None
        since = now - self._last_ckpt_time
        return (since, expected) if since > expected else None

    def _watch(self) -> None:
        while not self._stop.wait(self.watchdog_poll_seconds):
            self.warn_if_overdue()

    def warn_if_overdue(self) -> bool:
        """One watchdog look: warn if the next checkpoint is overdue, then again only once the
        time since the last warning exceeds half the time since the last checkpoint (so the
        warnings thin out on a job that has stopped saving)."""
        now = self.clock()
        late = self._late(now)
        if late is None:
            return False
        since, expected = late
        if self._warned_at is not None and now - self._warned_at <= since / 2:
            return False
        self._warned_at = now
        log.warning(
            "WATCHDOG: no checkpoint for %.0f min (expected one within %.0f min at the "
            "current step time); check save_strategy/save_steps and the output dir %s",
            since / 60,
            expected / 60,
            self.output_dir,
        )
        return True

    def stop_watchdog(self) -> None:
        self._stop.set()


class ProgressCallback(TrainerCallback):
    """Feeds ProgressState from Trainer events; the Renderer shows it."""

    def __init__(self, state: ProgressState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.state.max_steps = state.max_steps
        self.state.step = self.state.first_step = state.global_step
        self.state.tokens_seen = self.state.tokens_at_start = int(state.num_input_tokens_seen or 0)
        self.state.train_started = time.monotonic()
        if state.is_world_process_zero:
            self.renderer.start()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.state.step = state.global_step
        self.state.tokens_seen = int(state.num_input_tokens_seen or 0)
        # Redraws a live bar (only rank 0 starts one); never logs: the plain line comes per
        # logged loss, from on_log.
        self.renderer.update(logged=False)

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if logs and "eval_loss" in logs and state.is_world_process_zero:
            # Trainer's own dict form, which the launch side's CloudWatch metric regex reads.
            shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in logs.items()}
            log.info("eval at step %d: %s", state.global_step, shown)
        if logs and "loss" in logs:
            self.state.loss = float(logs["loss"])
            if state.is_world_process_zero:
                self.renderer.update(logged=True)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.renderer.stop()


class SignalSave(SignalSaveMixin, TrainerCallback):
    """Save on SIGTERM (and Ctrl-C) at the next step boundary, then stop: the logic of
    ``signals.SignalSaveMixin`` (where it and its reasons live, free of transformers) as a
    Trainer callback."""
