"""``trainjob.signals`` with real signals to this test process (``os.kill(os.getpid(), ...)``)
and real transformers ``TrainerState``/``TrainerControl`` objects where the step-end save reads
and sets them; a real ``CheckpointGuard`` and real checkpoint folders on disk.

Each test first installs its own handlers (``Caught``) so that a handler which fails to take
over lets the signal land there, and the test fails on its assertion, instead of the signal
killing pytest. Under a second: no training, transformers only for the state objects.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from trainjob_helpers import make_checkpoint

from trainjob.signals import EarlyStop


class Caught:
    """A handler that records the signals it got: where a signal lands if ours is not there."""

    def __init__(self) -> None:
        self.got: list[int] = []

    def __call__(self, signum: int, frame: Any) -> None:
        self.got.append(signum)


@pytest.fixture(autouse=True)
def caught() -> Iterator[dict[int, Caught]]:
    """SIGTERM and SIGINT go to recording handlers in every test (a handler that failed to take
    over must not let a signal end pytest); the originals come back after."""
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    mine = {s: Caught() for s in before}
    for s, handler in mine.items():
        signal.signal(s, handler)
    yield mine
    for s, handler in before.items():
        signal.signal(s, handler)


def send(sig: int) -> None:
    """A real signal to this process; Python runs its handler before the next bytecode. A
    KeyboardInterrupt where none is due fails the test instead of stopping the whole session."""
    try:
        os.kill(os.getpid(), sig)
        time.sleep(0.001)
    except KeyboardInterrupt:
        pytest.fail(f"signal {sig} raised KeyboardInterrupt")


def send_expecting_interrupt(sig: int) -> None:
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), sig)
        time.sleep(0.001)


def in_thread(fn: Any) -> None:
    worker = threading.Thread(target=fn)
    worker.start()
    worker.join()


# -- EarlyStop: a SIGTERM before training -------------------------------------------------------


def test_early_stop_takes_sigterm_and_gives_it_back(
    caught: dict[int, Caught], log_lines: list[str]
) -> None:
    early = EarlyStop()
    assert early.requested is False
    early.install()
    assert signal.getsignal(signal.SIGTERM) == early._handler
    send(signal.SIGTERM)
    assert early.requested is True
    assert caught[signal.SIGTERM].got == []  # the process would have died here without it
    assert log_lines == [
        "WARNING SIGTERM received before or after training; stopping at the next safe point"
    ]
    early.uninstall()
    assert signal.getsignal(signal.SIGTERM) is caught[signal.SIGTERM]
    send(signal.SIGTERM)
    assert caught[signal.SIGTERM].got == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) is caught[signal.SIGINT]  # Ctrl-C is not its business


def test_early_stop_never_installed_restores_nothing(caught: dict[int, Caught]) -> None:
    EarlyStop().uninstall()
    assert signal.getsignal(signal.SIGTERM) is caught[signal.SIGTERM]


def test_early_stop_outside_the_main_thread_installs_nothing(caught: dict[int, Caught]) -> None:
    early = EarlyStop()
    in_thread(early.install)  # signal.signal raises ValueError there
    assert signal.getsignal(signal.SIGTERM) is caught[signal.SIGTERM]
    early.uninstall()  # nothing to restore: the handler in place stays
    assert signal.getsignal(signal.SIGTERM) is caught[signal.SIGTERM]
    send(signal.SIGTERM)
    assert early.requested is False and caught[signal.SIGTERM].got == [signal.SIGTERM]


# -- SignalSave: the save at the next step boundary ---------------------------------------------


@pytest.fixture
def guard(tmp_path: Path) -> Any:
    from trainjob.callbacks import CheckpointGuard
    from trainjob.manifest import Manifest

    out = tmp_path / "out"
    out.mkdir()
    return CheckpointGuard(
        out,
        Manifest(out),
        {},
        save_total_limit=None,
        require_optimizer=True,
        save_steps=None,
        canary_steps=None,
        canary_seconds=None,
        watchdog_poll_seconds=0,
    )


def saver_for(guard: Any, **kwargs: Any) -> Any:
    from trainjob.callbacks import SignalSave

    return SignalSave(guard, **kwargs)


def step_end(saver: Any, step: int, *, should_save: bool = False) -> Any:
    """``on_step_end`` with Trainer's own objects at ``step``; the control it leaves."""
    from transformers import TrainerControl, TrainerState

    state = TrainerState(global_step=step, max_steps=20)
    control = TrainerControl(should_save=should_save)
    saver.on_step_end(None, state, control)
    return control


def on_save(saver: Any, step: int) -> None:
    from transformers import TrainerControl, TrainerState

    saver.on_save(None, TrainerState(global_step=step), TrainerControl())


def test_signal_save_is_a_trainer_callback_taking_both_signals(
    guard: Any, caught: dict[int, Caught]
) -> None:
    from transformers import TrainerCallback

    saver = saver_for(guard)
    assert isinstance(saver, TrainerCallback)
    saver.install()
    assert signal.getsignal(signal.SIGTERM) == saver._handler
    assert signal.getsignal(signal.SIGINT) == saver._handler
    assert saver.requested is False  # installing asks for nothing
    saver.on_train_end(None, None, None)  # training over: the handlers in place before return
    assert signal.getsignal(signal.SIGTERM) is caught[signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) is caught[signal.SIGINT]
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    saver.uninstall()  # a second uninstall restores nothing (it forgot what it replaced)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN


def test_sigterm_asks_for_a_save_at_the_step_end_then_the_timing_is_logged(
    guard: Any, caught: dict[int, Caught], log_lines: list[str]
) -> None:
    saver = saver_for(guard)
    saver.install()
    untouched = step_end(saver, 3)  # no signal yet: the step ends as Trainer decided
    assert not untouched.should_save and not untouched.should_training_stop
    assert saver.saved_step is None
    before = time.monotonic()
    send(signal.SIGTERM)
    after = time.monotonic()
    send(signal.SIGTERM)  # a second SIGTERM is ignored: no second warning, no exception
    assert caught[signal.SIGTERM].got == []
    assert saver.requested and saver.signal_name == "SIGTERM"
    assert before <= saver._at <= after
    control = step_end(saver, 7)
    assert control.should_save is True and control.should_training_stop is True
    assert saver.saved_step == 7 and guard._next_kind == "sigterm"
    assert saver.seconds is None  # not saved yet
    on_save(saver, 6)  # another step's save is not this one
    assert saver.seconds is None
    on_save(saver, 7)
    first = saver.seconds
    assert first is not None and 0 <= first <= time.monotonic() - before
    on_save(saver, 7)
    assert saver.seconds == first  # measured once: signal to the first validated save
    again = step_end(saver, 8)  # already stopping: a later step end changes nothing
    assert not again.should_save and not again.should_training_stop and saver.saved_step == 7
    assert log_lines == [
        "WARNING SIGTERM received: saving a checkpoint at the end of this step, then stopping",
        "INFO SIGTERM: saving checkpoint-7 before the grace period ends",
        f"INFO SIGTERM save took {first:.2f} s from signal to validated checkpoint "
        "(SageMaker allows 120 s)",
    ]
    saver.uninstall()


def test_a_valid_checkpoint_of_that_step_is_not_saved_again(
    guard: Any, log_lines: list[str]
) -> None:
    make_checkpoint(guard.output_dir, 5)
    saver = saver_for(guard)
    saver.request("SIGINT")
    at = saver._at
    control = step_end(saver, 5, should_save=True)  # Trainer's own periodic save of step 5
    assert control.should_save is False and control.should_training_stop is True
    assert saver.saved_step == 5 and guard._next_kind == "periodic"
    assert saver.seconds is not None and 0 <= saver.seconds <= time.monotonic() - at
    assert log_lines == ["INFO SIGINT: checkpoint-5 already saved and valid; stopping"]


def test_an_invalid_checkpoint_of_that_step_is_saved_again(guard: Any) -> None:
    (make_checkpoint(guard.output_dir, 5) / "optimizer.pt").unlink()
    saver = saver_for(guard)
    saver.request("SIGTERM")
    control = step_end(saver, 5)
    assert control.should_save is True and guard._next_kind == "sigterm"
    assert saver.seconds is None


def test_a_save_only_model_checkpoint_needs_no_optimizer(guard: Any) -> None:
    (make_checkpoint(guard.output_dir, 5) / "optimizer.pt").unlink()
    guard.require_optimizer = False
    saver = saver_for(guard)
    saver.request("SIGTERM")
    assert step_end(saver, 5).should_save is False


def test_a_second_ctrl_c_interrupts_at_once(guard: Any, log_lines: list[str]) -> None:
    saver = saver_for(guard)
    saver.install()
    try:
        send(signal.SIGINT)
        assert saver.requested and saver.signal_name == "SIGINT"
        send(signal.SIGTERM)  # SIGTERM after Ctrl-C: still the one stop, named by the first
        assert saver.signal_name == "SIGINT"
        send_expecting_interrupt(signal.SIGINT)
    finally:
        saver.uninstall()
    assert log_lines == [
        "WARNING SIGINT received: saving a checkpoint at the end of this step, then stopping"
    ]


def test_ctrl_c_after_sigterm_interrupts(guard: Any) -> None:
    saver = saver_for(guard)
    saver.install()
    try:
        send(signal.SIGTERM)
        send_expecting_interrupt(signal.SIGINT)
    finally:
        saver.uninstall()
    assert saver.signal_name == "SIGTERM"


def test_a_sigterm_before_training_counts_as_already_requested(guard: Any) -> None:
    asked = saver_for(guard, already=lambda: True)
    asked.install()
    asked.uninstall()
    assert asked.requested and asked.signal_name == "SIGTERM"
    for already in (None, lambda: False):
        saver = saver_for(guard, already=already)
        saver.install()
        saver.uninstall()
        assert saver.requested is False and saver.signal_name is None


def test_signal_save_outside_the_main_thread_installs_nothing(
    guard: Any, caught: dict[int, Caught]
) -> None:
    saver = saver_for(guard, already=lambda: True)
    in_thread(saver.install)
    assert saver.requested is False  # it gave up at once: no handler, no request
    assert signal.getsignal(signal.SIGTERM) is caught[signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) is caught[signal.SIGINT]
    saver.uninstall()
    assert signal.getsignal(signal.SIGTERM) is caught[signal.SIGTERM]
