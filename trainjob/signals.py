"""The signal handling of a run, in one module: what a SIGTERM (spot reclaim, ``docker stop``,
SageMaker's stop) or a Ctrl-C does before and during training.

- ``EarlyStop``: a SIGTERM that arrives before training starts (model download, tokenising)
  only sets a flag; ``trainjob run`` then stops cleanly before training, exit 0.
- ``SignalSaveMixin``: during training the signal sets a flag and the next step end asks Trainer
  for an ordinary checkpoint of that step and the stop. ``callbacks.SignalSave`` is this logic as
  a transformers ``TrainerCallback``.

This module imports neither torch nor transformers: ``trainjob.run`` installs ``EarlyStop``
first thing, before anything heavy is imported, so that a signal during those imports is
honoured too.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import Any

from .checkpoints import validate_checkpoint

log = logging.getLogger("trainjob")


class EarlyStop:
    """A SIGTERM that arrives before training starts (model download, tokenising) ends the run
    cleanly instead of killing it mid-write; once the Trainer exists, ``SignalSave`` takes over
    (a flag set here counts as already requested) and restores this one when training ends."""

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


class SignalSaveMixin:
    """Save on SIGTERM (and Ctrl-C) at the next step boundary, then stop.

    transformers' ``enable_jit_checkpoint`` saves in ``on_pre_optimizer_step`` of the step in
    progress, after its forward pass drew dropout RNG, so the checkpoint's RNG state is one draw
    ahead of its weights and a resume from it is not the run it interrupted. Here the signal only
    sets a flag; ``on_step_end`` (after the optimizer step, before Trainer's own save) asks for an
    ordinary checkpoint of that step (``control.should_save``) and the stop, so the save is
    exactly a periodic one: the guard validates it as ``sigterm`` and a resume repeats the
    uninterrupted run bit for bit. If ``checkpoint-<step>`` already exists and is valid, nothing
    is re-saved. ``seconds`` is the grace window used: signal to validated checkpoint.

    A second Ctrl-C raises KeyboardInterrupt (the user insists); a second SIGTERM is ignored.
    ``guard`` is the run's ``callbacks.CheckpointGuard`` (its output dir, whether a checkpoint
    needs its optimizer state, and the kind it records for the next save).
    """

    def __init__(self, guard: Any, *, already: Callable[[], bool] | None = None) -> None:
        self.guard = guard
        self.requested = False
        self.signal_name: str | None = None
        self.saved_step: int | None = None
        self.seconds: float | None = None
        self._at: float  # set by request(); nothing reads it before
        self._already = already
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """Take over SIGTERM and SIGINT (main thread only); restored by ``uninstall``."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread
                return
        if self._already is not None and self._already():
            self.request("SIGTERM")

    def uninstall(self) -> None:
        for sig, previous in self._previous.items():
            if previous is not None:
                signal.signal(sig, previous)
        self._previous.clear()

    def request(self, name: str) -> None:
        if not self.requested:
            self.requested = True
            self.signal_name = name
            self._at = time.monotonic()

    def _handler(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and self.requested:
            raise KeyboardInterrupt
        name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        if not self.requested:
            log.warning(
                "%s received: saving a checkpoint at the end of this step, then stopping", name
            )
        self.request(name)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not self.requested or self.saved_step is not None:
            return
        step = state.global_step
        control.should_training_stop = True
        self.saved_step = step
        folder = self.guard.output_dir / f"checkpoint-{step}"
        if (
            folder.is_dir()
            and validate_checkpoint(folder, require_optimizer=self.guard.require_optimizer).valid
        ):
            control.should_save = False
            self.seconds = time.monotonic() - self._at
            log.info("%s: %s already saved and valid; stopping", self.signal_name, folder.name)
            return
        control.should_save = True
        self.guard._next_kind = "sigterm"
        log.info("%s: saving %s before the grace period ends", self.signal_name, folder.name)

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # Runs after CheckpointGuard.on_save (it is added later), so the save is validated here.
        if self.requested and self.saved_step == state.global_step and self.seconds is None:
            self.seconds = time.monotonic() - self._at
            log.info(
                "%s save took %.2f s from signal to validated checkpoint (SageMaker allows 120 s)",
                self.signal_name,
                self.seconds,
            )

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.uninstall()
