"""CheckpointGuard with transformers' real TrainerState/TrainerControl: the canary, rotation only
after the newer save validates, refusal of an invalid save, the watchdog; and the progress maths."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from trainjob_helpers import make_checkpoint

pytest.importorskip("transformers")
from transformers import TrainerControl, TrainerState, TrainingArguments

from trainjob.callbacks import CheckpointGuard
from trainjob.errors import RunFailed
from trainjob.manifest import Manifest
from trainjob.progress import ProgressState


def guard(tmp_path: Path, **kw: object) -> CheckpointGuard:
    options: dict[str, object] = {
        "save_total_limit": None,
        "require_optimizer": True,
        "save_steps": 100,
        "canary_steps": 5,
        "canary_seconds": None,
        "watchdog_poll_seconds": 0,
    }
    options.update(kw)
    return CheckpointGuard(tmp_path, Manifest(tmp_path), {"max_steps": 1000}, **options)  # type: ignore[arg-type]


@pytest.fixture
def args(tmp_path: Path) -> TrainingArguments:
    return TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")


def steps(g: CheckpointGuard, args: TrainingArguments, state: TrainerState, n: int) -> list[int]:
    """Advance n steps; return the steps at which the guard asked for a save."""
    asked = []
    for _ in range(n):
        control = TrainerControl()
        state.global_step += 1
        g.on_step_end(args, state, control)
        if control.should_save:
            asked.append(state.global_step)
    return asked


def test_canary_forces_one_early_save(tmp_path: Path, args: TrainingArguments) -> None:
    g = guard(tmp_path)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    assert steps(g, args, state, 4) == []
    assert steps(g, args, state, 1) == [5]
    make_checkpoint(tmp_path, 5)
    g.on_save(args, state, TrainerControl())
    assert Manifest(tmp_path).entry("checkpoint-5")["kind"] == "canary"  # type: ignore[index]
    assert steps(g, args, state, 20) == []  # only once


def test_no_canary_when_the_first_regular_save_comes_first(
    tmp_path: Path, args: TrainingArguments
) -> None:
    g = guard(tmp_path, save_steps=3)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    assert steps(g, args, state, 10) == []


def test_invalid_save_stops_the_run_and_is_marked(tmp_path: Path, args: TrainingArguments) -> None:
    g = guard(tmp_path)
    folder = make_checkpoint(tmp_path, 7)
    (folder / "optimizer.pt").unlink()
    with pytest.raises(RunFailed, match="CHECKPOINT INVALID.*optimizer.pt missing"):
        g.after_save(7, "periodic")
    assert Manifest(tmp_path).entry("checkpoint-7")["status"] == "invalid"  # type: ignore[index]


def test_rotation_applies_the_limit_only_after_validation(tmp_path: Path) -> None:
    g = guard(tmp_path, save_total_limit=2)
    for step in (10, 20):
        make_checkpoint(tmp_path, step)
        g.after_save(step, "periodic")
    bad = make_checkpoint(tmp_path, 30)
    (bad / "trainer_state.json").unlink()
    with pytest.raises(RunFailed):
        g.after_save(30, "periodic")
    assert (tmp_path / "checkpoint-10").is_dir() and (tmp_path / "checkpoint-20").is_dir()
    shutil.rmtree(bad)
    make_checkpoint(tmp_path, 30)
    g.after_save(30, "periodic")
    assert not (tmp_path / "checkpoint-10").exists()
    assert (tmp_path / "checkpoint-20").is_dir() and (tmp_path / "checkpoint-30").is_dir()
    assert Manifest(tmp_path).entry("checkpoint-10")["status"] == "rotated"  # type: ignore[index]


def test_rotation_keeps_the_best_checkpoint(tmp_path: Path) -> None:
    g = guard(tmp_path, save_total_limit=2)
    g.best_checkpoint = "checkpoint-10"
    for step in (10, 20, 30):
        make_checkpoint(tmp_path, step)
        g.after_save(step, "periodic")
    assert (tmp_path / "checkpoint-10").is_dir() and not (tmp_path / "checkpoint-20").exists()


def test_watchdog_says_overdue_only_past_the_expected_interval(
    tmp_path: Path, args: TrainingArguments, caplog: pytest.LogCaptureFixture
) -> None:
    g = guard(tmp_path, save_steps=10, canary_steps=None)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    assert g.overdue() is None  # no step time yet: nothing expected
    steps(g, args, state, 1)
    g._step_seconds = 2.0  # measured step time
    expected = 10 * 2.0 * g.watchdog_factor + 60.0
    assert g.expected_interval() == pytest.approx(expected)
    start = g._last_ckpt_time
    assert g.overdue(now=start + expected - 1) is None
    assert g.overdue(now=start + expected + 1) == pytest.approx(expected + 1)


def test_watchdog_thread_logs_a_warning(
    tmp_path: Path, args: TrainingArguments, caplog: pytest.LogCaptureFixture
) -> None:
    g = guard(tmp_path, save_steps=1, canary_steps=None, watchdog_poll_seconds=0.02)
    g.watchdog_factor = 0.0
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    steps(g, args, state, 1)
    g._last_ckpt_time -= 61.0  # the last checkpoint is older than the 60 s floor
    logger = logging.getLogger("trainjob")
    logger.addHandler(caplog.handler)
    try:
        import time

        deadline = time.monotonic() + 3
        while "WATCHDOG" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        g.stop_watchdog()
        logger.removeHandler(caplog.handler)
    assert "WATCHDOG: no checkpoint" in caplog.text


def test_progress_rates_eta_and_cost() -> None:
    p = ProgressState(step=30, max_steps=130, first_step=10, tokens_seen=5000, tokens_at_start=1000)
    p.started, p.train_started, p.usd_per_hour = 0.0, 100.0, 1.5
    assert p.tokens_per_second(now=140.0) == pytest.approx(4000 / 40)
    assert p.eta_seconds(now=140.0) == pytest.approx(40 / 20 * 100)
    assert p.cost_usd(now=3600.0) == pytest.approx(1.5)
    assert ProgressState().cost_usd() is None
