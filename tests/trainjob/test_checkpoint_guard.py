"""``trainjob.callbacks``: what ``CheckpointGuard`` leaves on disk and in the log after each save
(validation, the manifest, rotation under ``save_total_limit`` with and without a best checkpoint,
an invalid newest save, quarantined folders), the canary, the overdue-save watchdog on an
injected clock, and ``ProgressCallback``.

Real checkpoint folders (``make_checkpoint``), the real ``Manifest`` read back from disk, and
transformers' own ``TrainerState``/``TrainerControl``/``TrainingArguments`` where the callbacks
are driven the way Trainer drives them. No training: each test runs in milliseconds once
transformers is imported (about 5 s, once per session).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from trainjob_helpers import make_checkpoint, write_safetensors

pytest.importorskip("transformers")
from transformers import TrainerControl, TrainerState, TrainingArguments

from trainjob.callbacks import CheckpointGuard, ProgressCallback
from trainjob.checkpoints import folder_bytes, human_bytes
from trainjob.errors import RunFailed
from trainjob.manifest import MANIFEST_NAME, Manifest
from trainjob.progress import ProgressState, Renderer


class Clock:
    """An injected monotonic clock: the test moves it; nothing sleeps."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def args(tmp_path_factory: pytest.TempPathFactory) -> TrainingArguments:
    out = tmp_path_factory.mktemp("args")
    return TrainingArguments(output_dir=str(out), use_cpu=True, report_to="none")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def guard(out: Path, clock: Clock | None = None, **kw: Any) -> CheckpointGuard:
    options: dict[str, Any] = {
        "save_total_limit": None,
        "require_optimizer": True,
        "save_steps": None,
        "canary_steps": None,
        "canary_seconds": None,
        "watchdog_poll_seconds": 0,
    }
    options.update(kw)
    if clock is not None:
        options["clock"] = clock
    return CheckpointGuard(out, Manifest(out), {"max_steps": 1000}, **options)


def on_disk(out: Path) -> dict[str, Any]:
    """The manifest as a later process reads it."""
    return json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))["checkpoints"]  # type: ignore[no-any-return]


def folders(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir())


def names(*steps: int) -> list[str]:
    return sorted(f"checkpoint-{s}" for s in steps)


def save(g: CheckpointGuard, args: TrainingArguments, step: int, **state_kw: Any) -> None:
    """Trainer's order: the folder is written, then ``on_save`` fires with the state."""
    make_checkpoint(g.output_dir, step)
    g.on_save(args, TrainerState(global_step=step, **state_kw), TrainerControl())


def step_end(g: CheckpointGuard, args: TrainingArguments, state: TrainerState, **kw: Any) -> Any:
    state.global_step += 1
    control = TrainerControl(**kw)
    g.on_step_end(args, state, control)
    return control


# -- rotation: which folders remain after each save ---------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_rotation_keeps_the_newest_limit_folders_after_each_save(
    out: Path, args: TrainingArguments, limit: int
) -> None:
    g = guard(out, save_total_limit=limit)
    done: list[int] = []
    for step in (10, 20, 30, 40, 50):
        save(g, args, step)
        done.append(step)
        assert folders(out) == names(*done[-limit:])
    manifest = on_disk(out)
    for step in done[:-limit]:
        rotated = manifest[f"checkpoint-{step}"]
        newer = f"checkpoint-{step + 10 * limit}"  # the save that pushed it past the limit
        assert rotated["status"] == "rotated"
        assert rotated["detail"] == f"save_total_limit={limit}; newer {newer} validated"
    for step in done[-limit:]:
        assert manifest[f"checkpoint-{step}"]["status"] == "valid"


def test_rotation_logs_what_it_removed_and_its_size(
    out: Path, args: TrainingArguments, log_lines: list[str]
) -> None:
    g = guard(out, save_total_limit=2)
    save(g, args, 10)
    save(g, args, 20)
    write_safetensors(out / "checkpoint-10" / "extra.safetensors", {"w": 300})
    size = human_bytes(folder_bytes(out / "checkpoint-10"))
    log_lines.clear()
    save(g, args, 30)
    assert (
        f"INFO rotation (save_total_limit=2): removed checkpoint-10 ({size}) after "
        "checkpoint-30 validated"
    ) in log_lines
    assert folders(out) == names(20, 30)


@pytest.mark.parametrize("limit", [None, 0, -1])
def test_no_limit_keeps_every_checkpoint(
    out: Path, args: TrainingArguments, limit: int | None, log_lines: list[str]
) -> None:
    g = guard(out, save_total_limit=limit)
    for step in (10, 20, 30):
        save(g, args, step)
    assert folders(out) == names(10, 20, 30)
    assert not any("rotation" in line for line in log_lines)


@pytest.mark.parametrize(
    ("limit", "kept"),
    [
        # Trainer's own rule: the best is never deleted; with limit 1 it keeps best + newest.
        (1, (20, 50)),
        (2, (20, 50)),
        (3, (20, 40, 50)),
    ],
)
def test_rotation_keeps_the_best_checkpoint(
    out: Path, args: TrainingArguments, limit: int, kept: tuple[int, ...]
) -> None:
    g = guard(out, save_total_limit=limit)
    save(g, args, 10, best_model_checkpoint=str(out / "checkpoint-10"))
    for step in (20, 30, 40, 50):  # checkpoint-20 is the best from its save on
        save(g, args, step, best_model_checkpoint=str(out / "checkpoint-20"))
    assert folders(out) == names(*kept)
    assert on_disk(out)["checkpoint-20"]["status"] == "valid"


def test_best_is_remembered_from_an_earlier_save(out: Path, args: TrainingArguments) -> None:
    """Trainer only sets best_model_checkpoint when it evaluates; later saves keep the best."""
    g = guard(out, save_total_limit=1)
    save(g, args, 10, best_model_checkpoint=str(out / "checkpoint-10"))
    save(g, args, 20)
    save(g, args, 30)
    assert folders(out) == names(10, 30)


def test_the_newest_being_the_best_protects_nothing_else(
    out: Path, args: TrainingArguments
) -> None:
    g = guard(out, save_total_limit=1)
    save(g, args, 10)
    save(g, args, 20, best_model_checkpoint=str(out / "checkpoint-20"))
    assert folders(out) == names(20)


def test_an_invalid_newest_save_rotates_nothing_and_stops_the_run(
    out: Path, args: TrainingArguments
) -> None:
    g = guard(out, save_total_limit=1)
    save(g, args, 10)
    bad = make_checkpoint(out, 20)
    (bad / "optimizer.pt").unlink()
    with pytest.raises(RunFailed) as raised:
        g.on_save(args, TrainerState(global_step=20), TrainerControl())
    assert str(raised.value) == (
        f"CHECKPOINT INVALID: {bad}: optimizer.pt missing. The save path is broken; stopping "
        "now rather than training on with nothing to resume from."
    )
    assert folders(out) == names(10, 20)  # the last valid one stays, the bad one is not deleted
    manifest = on_disk(out)
    assert manifest["checkpoint-10"]["status"] == "valid"
    assert manifest["checkpoint-20"] == {"status": "invalid", "detail": "optimizer.pt missing"}
    assert g.written == [10]


def test_every_problem_of_an_invalid_save_is_reported(out: Path) -> None:
    g = guard(out)
    bad = make_checkpoint(out, 20)
    (bad / "optimizer.pt").unlink()
    (bad / "scheduler.pt").unlink()
    with pytest.raises(RunFailed, match="optimizer.pt missing; scheduler.pt missing. The save"):
        g.after_save(20, "periodic")
    assert on_disk(out)["checkpoint-20"]["detail"] == "optimizer.pt missing; scheduler.pt missing"


def test_rotation_leaves_quarantined_and_other_folders_alone(
    out: Path, args: TrainingArguments
) -> None:
    quarantined = make_checkpoint(out, 5).rename(out / "quarantine-checkpoint-5-missing")
    (out / "checkpoint-final").mkdir()
    (out / "checkpoint-3").write_text("a file, not a checkpoint folder")
    g = guard(out, save_total_limit=1)
    save(g, args, 10)
    save(g, args, 20)
    assert folders(out) == sorted([quarantined.name, "checkpoint-final", "checkpoint-20"])
    assert (out / "checkpoint-3").is_file()


def test_rotation_counts_checkpoints_from_before_the_run(
    out: Path, args: TrainingArguments
) -> None:
    """A resumed run: the folders already there count towards the limit, oldest go first."""
    for step in (5, 10, 15):
        make_checkpoint(out, step)
    g = guard(out, save_total_limit=2)
    save(g, args, 20)
    assert folders(out) == names(15, 20)
    assert on_disk(out)["checkpoint-5"] == {
        "status": "rotated",
        "detail": "save_total_limit=2; newer checkpoint-20 validated",
    }


@contextlib.contextmanager
def undeletable(folder: Path) -> Iterator[None]:
    """A real removal failure in ``folder``: an immutable file (root, ext4's ``chattr +i``) or a
    folder without write permission (any other user); skipped where neither can be made."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    stuck = folder / "optimizer.pt"
    if shutil.which("chattr") is None:
        pytest.skip("root without chattr: no way to make a real removal fail here")
    made = subprocess.run(["chattr", "+i", str(stuck)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i refused here: {made.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(stuck)], capture_output=True, check=False)


def test_a_folder_that_cannot_be_removed_does_not_stop_the_run(
    out: Path, args: TrainingArguments, log_lines: list[str]
) -> None:
    """Trainer's own rotation ignores removal errors; ours must not crash a long job over an old
    folder either: the new save stays recorded, the old folder is reported, and the next save
    tries again."""
    g = guard(out, save_total_limit=1)
    save(g, args, 10)
    with undeletable(out / "checkpoint-10"):
        save(g, args, 20)
    assert g.written == [10, 20]
    manifest = on_disk(out)
    assert manifest["checkpoint-20"]["status"] == "valid"
    assert manifest["checkpoint-10"]["status"] == "rotation-failed"
    assert manifest["checkpoint-10"]["detail"].startswith("save_total_limit=1; [Errno ")
    assert (out / "checkpoint-10").is_dir()
    (warning,) = [line for line in log_lines if line.startswith("WARNING")]
    assert warning.startswith(
        "WARNING rotation (save_total_limit=1): could not remove checkpoint-10 ("
    )
    assert warning.endswith("); it stays on disk and the next save tries again")
    assert "(save_total_limit=1): could not remove checkpoint-10 ([Errno " in warning
    save(g, args, 30)
    assert folders(out) == names(30)
    assert on_disk(out)["checkpoint-10"]["status"] == "rotated"


def test_one_stuck_folder_does_not_keep_the_others(out: Path, args: TrainingArguments) -> None:
    for step in (10, 20):
        make_checkpoint(out, step)
    g = guard(out, save_total_limit=1)
    with undeletable(out / "checkpoint-10"):
        save(g, args, 30)
    assert folders(out) == names(10, 30)  # checkpoint-20 went although checkpoint-10 could not
    assert on_disk(out)["checkpoint-20"]["status"] == "rotated"


def test_only_rank_zero_validates_records_and_rotates(out: Path, args: TrainingArguments) -> None:
    g = guard(out, save_total_limit=1)
    save(g, args, 10)
    make_checkpoint(out, 20)
    g._next_kind = "canary"
    g.on_save(args, TrainerState(global_step=20, is_world_process_zero=False), TrainerControl())
    assert folders(out) == names(10, 20)
    assert "checkpoint-20" not in on_disk(out)
    assert g.written == [10]
    assert g._next_kind == "periodic"


# -- what a validated save records and logs -----------------------------------------------------


def test_a_valid_save_is_recorded_logged_and_counted(
    out: Path, args: TrainingArguments, log_lines: list[str]
) -> None:
    counted: list[int] = []
    g = guard(out, on_checkpoint=counted.append)
    folder = make_checkpoint(out, 5)
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.bin").write_bytes(b"n" * 3000)
    log_lines.clear()
    g.on_save(args, TrainerState(global_step=5, epoch=0.456), TrainerControl())
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert log_lines == [
        f"INFO [CHECK] CHECKPOINT SAVED: {folder}",
        f"INFO    Step: 5  Epoch: 0.46  Total: {human_bytes(folder_bytes(folder))}",
        *(f"INFO    [OK] {f.name}: {human_bytes(f.stat().st_size)}" for f in files),
    ]
    entry = on_disk(out)["checkpoint-5"]
    assert (entry["step"], entry["kind"], entry["status"]) == (5, "periodic", "valid")
    assert entry["plan"] == {"max_steps": 1000}
    assert "sub/nested.bin" in entry["files"]
    assert g.written == [5] and counted == [5]


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("canary", " (canary: proves the save path early)"),
        ("sigterm", " (on SIGTERM)"),
        ("periodic", ""),
    ],
)
def test_the_saved_line_says_why_it_was_saved(
    out: Path, log_lines: list[str], kind: str, label: str
) -> None:
    g = guard(out)
    folder = make_checkpoint(out, 7)
    g.after_save(7, kind)
    assert log_lines[0] == f"INFO [CHECK] CHECKPOINT SAVED: {folder}{label}"
    assert log_lines[1].startswith("INFO    Step: 7  Epoch: -  Total: ")
    assert on_disk(out)["checkpoint-7"]["kind"] == kind


def test_an_invalid_save_is_not_counted(out: Path) -> None:
    counted: list[int] = []
    g = guard(out, on_checkpoint=counted.append)
    (make_checkpoint(out, 5) / "trainer_state.json").unlink()
    with pytest.raises(RunFailed):
        g.after_save(5, "periodic")
    assert counted == [] and g.written == []


def test_a_model_only_save_needs_no_optimizer_when_told(out: Path) -> None:
    (make_checkpoint(out, 5) / "optimizer.pt").unlink()
    guard(out, require_optimizer=False).after_save(5, "periodic")
    assert on_disk(out)["checkpoint-5"]["status"] == "valid"


# -- the canary ---------------------------------------------------------------------------------


def test_the_canary_counts_steps_from_the_resumed_step(out: Path, args: TrainingArguments) -> None:
    g = guard(out, save_steps=100, canary_steps=5)
    state = TrainerState(global_step=200)
    g.on_train_begin(args, state, TrainerControl())
    asked = [state.global_step for _ in range(8) if step_end(g, args, state).should_save]
    assert asked[0] == 205
    save(g, args, 205)
    assert on_disk(out)["checkpoint-205"]["kind"] == "canary"


def test_the_canary_fires_once_then_never_again(out: Path, args: TrainingArguments) -> None:
    g = guard(out, save_steps=100, canary_steps=3)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    asked = [state.global_step for _ in range(4) if step_end(g, args, state).should_save]
    assert asked == [3, 4]  # due from step 3 on until a save proves the path
    save(g, args, 4)
    asked = [state.global_step for _ in range(20) if step_end(g, args, state).should_save]
    assert asked == []


def test_the_canary_by_seconds_is_due_at_exactly_its_time(
    out: Path, args: TrainingArguments
) -> None:
    clock = Clock()
    g = guard(out, clock, save_steps=100, canary_seconds=60.0)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    clock.t += 59.5
    assert step_end(g, args, state).should_save is False
    clock.t += 0.5  # 60 s after the start
    assert step_end(g, args, state).should_save is True
    assert g._next_kind == "canary"


@pytest.mark.parametrize(("save_steps", "canary_at"), [(5, None), (6, 5), (4, None)])
def test_a_regular_save_before_the_canary_is_the_canary(
    out: Path, args: TrainingArguments, save_steps: int, canary_at: int | None
) -> None:
    g = guard(out, save_steps=save_steps, canary_steps=5)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    asked = [state.global_step for _ in range(5) if step_end(g, args, state).should_save]
    assert asked == ([canary_at] if canary_at else [])


def test_the_canary_without_a_step_schedule(out: Path, args: TrainingArguments) -> None:
    """save_strategy epoch (no save_steps): the step canary still comes."""
    g = guard(out, save_steps=None, canary_steps=5)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    asked = [state.global_step for _ in range(5) if step_end(g, args, state).should_save]
    assert asked == [5]


def test_canary_seconds_stay_when_the_step_canary_is_dropped(
    out: Path, args: TrainingArguments
) -> None:
    clock = Clock()
    g = guard(out, clock, save_steps=3, canary_steps=5, canary_seconds=30.0)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    assert step_end(g, args, state).should_save is False
    clock.t += 30.0
    assert step_end(g, args, state).should_save is True


def test_a_save_trainer_asked_for_is_periodic_and_proves_the_path(
    out: Path, args: TrainingArguments
) -> None:
    g = guard(out, save_steps=2, canary_steps=5, canary_seconds=600.0)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    step_end(g, args, state)
    g._next_kind = "canary"
    assert step_end(g, args, state, should_save=True).should_save is True
    save(g, args, 2)
    assert on_disk(out)["checkpoint-2"]["kind"] == "periodic"
    # the canary is no longer pending: a valid save proved the path
    g.clock = Clock(time.monotonic() + 10_000)
    assert step_end(g, args, state).should_save is False


def test_after_a_save_the_next_one_is_periodic_again(out: Path, args: TrainingArguments) -> None:
    g = guard(out)
    g._next_kind = "sigterm"
    save(g, args, 3)
    save(g, args, 6)
    assert on_disk(out)["checkpoint-6"]["kind"] == "periodic"


# -- the watchdog, on an injected clock ---------------------------------------------------------


def test_expected_interval_follows_the_measured_step_time(
    out: Path, args: TrainingArguments
) -> None:
    clock = Clock()
    g = guard(out, clock, save_steps=10)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    assert g.expected_interval() is None  # no step measured yet
    clock.t += 10.0
    step_end(g, args, state)
    assert g.expected_interval() == 10 * 10.0 * 2.0 + 60.0
    clock.t += 20.0
    step_end(g, args, state)
    step = 0.9 * 10.0 + 0.1 * 20.0  # the exponential average of 10 s then 20 s
    assert g.expected_interval() == pytest.approx(10 * step * 2.0 + 60.0)


def test_expected_interval_takes_the_soonest_pending_save(
    out: Path, args: TrainingArguments
) -> None:
    clock = Clock()
    g = guard(out, clock, save_steps=500, canary_steps=20, canary_seconds=300.0)
    g.watchdog_factor = 3.0
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    clock.t += 4.0
    step_end(g, args, state)
    # 4 s a step: canary steps 80 s, canary seconds 300 s, save_steps 2000 s
    assert g.expected_interval() == 20 * 4.0 * 3.0 + 60.0
    g.canary_steps = 100  # now 400 s: the canary's 300 s come first
    assert g.expected_interval() == 300.0 * 3.0 + 60.0
    save(g, args, 1)  # the canary is done: only save_steps is expected
    assert g.expected_interval() == 500 * 4.0 * 3.0 + 60.0


def test_no_expected_interval_without_a_step_schedule(out: Path, args: TrainingArguments) -> None:
    clock = Clock()
    g = guard(out, clock)  # save_strategy epoch or no: no step count to expect a save at
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    clock.t += 5.0
    step_end(g, args, state)
    assert g.expected_interval() is None
    clock.t += 1e6
    assert g.overdue() is None and g.warn_if_overdue() is False


def test_overdue_is_strictly_past_the_expected_interval(out: Path, args: TrainingArguments) -> None:
    clock = Clock()
    g = guard(out, clock, save_steps=10)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    clock.t += 1.0
    step_end(g, args, state)
    expected = 10 * 1.0 * 2.0 + 60.0
    start = 1000.0  # the clock at train begin: no checkpoint yet, so the start counts
    assert g.overdue(now=start + expected) is None
    assert g.overdue(now=start + expected + 0.5) == expected + 0.5
    clock.t = start + expected + 2.0
    assert g.overdue() == expected + 2.0
    save(g, args, 1)  # a checkpoint restarts the wait
    assert g.overdue() is None
    assert g.overdue(now=clock.t + expected + 1.0) == expected + 1.0


def test_the_watchdog_warns_then_thins_out(
    out: Path, args: TrainingArguments, log_lines: list[str]
) -> None:
    clock = Clock()
    g = guard(out, clock, save_steps=10)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    clock.t += 4.55
    step_end(g, args, state)
    expected = 10 * 4.55 * 2.0 + 60.0  # 151 s: 2.52 min, shown rounded as 3
    clock.t = 1000.0 + 150.0
    assert g.warn_if_overdue() is False  # not yet overdue
    clock.t = 1000.0 + 1000.0  # 16.7 min since train begin (no checkpoint yet)
    log_lines.clear()
    assert g.warn_if_overdue() is True
    assert log_lines == [
        "WARNING WATCHDOG: no checkpoint for 17 min (expected one within 3 min at the current "
        f"step time); check save_strategy/save_steps and the output dir {out}"
    ]
    assert g.expected_interval() == pytest.approx(expected)
    # The next warning waits until the time since the last one exceeds half the time since the
    # last checkpoint: at +d, since = 1000 + d and d must exceed (1000 + d) / 2, so d > 1000.
    clock.t = 1000.0 + 2000.0
    assert g.warn_if_overdue() is False
    clock.t = 1000.0 + 2000.5
    assert g.warn_if_overdue() is True
    assert log_lines[-1].startswith("WARNING WATCHDOG: no checkpoint for 33 min ")
    assert len(log_lines) == 2


def test_a_fresh_guard_expects_nothing_yet(out: Path) -> None:
    """Before training begins (and before a step is timed) nothing is overdue."""
    g = guard(out, Clock(), save_steps=10)
    assert g.expected_interval() is None
    assert g.overdue() is None and g.warn_if_overdue() is False


def test_the_watchdog_thread_warns_and_stops_at_train_end(
    out: Path, args: TrainingArguments, log_lines: list[str]
) -> None:
    clock = Clock()
    g = guard(out, clock, save_steps=1, watchdog_poll_seconds=0.01)
    state = TrainerState()
    g.on_train_begin(args, state, TrainerControl())
    watchdog = [t for t in threading.enumerate() if t.name == "trainjob-watchdog"]
    assert len(watchdog) == 1 and watchdog[0].daemon is True
    clock.t += 1.0
    step_end(g, args, state)
    clock.t += 3600.0
    deadline = time.monotonic() + 2.0
    while not log_lines and time.monotonic() < deadline:
        time.sleep(0.01)
    g.on_train_end(args, state, TrainerControl())
    watchdog[0].join(timeout=2.0)
    assert not watchdog[0].is_alive()
    assert log_lines[0].startswith("WARNING WATCHDOG: no checkpoint for 60 min ")


@pytest.mark.parametrize(("rank_zero", "poll"), [(False, 0.01), (True, 0.0)])
def test_no_watchdog_thread_off_rank_zero_or_with_no_poll(
    out: Path, args: TrainingArguments, rank_zero: bool, poll: float
) -> None:
    before = {t.ident for t in threading.enumerate()}
    g = guard(out, watchdog_poll_seconds=poll)
    g.on_train_begin(args, TrainerState(is_world_process_zero=rank_zero), TrainerControl())
    try:
        assert {t.ident for t in threading.enumerate()} == before
    finally:
        g.stop_watchdog()


def test_stop_watchdog_ends_the_thread(out: Path, args: TrainingArguments) -> None:
    g = guard(out, watchdog_poll_seconds=0.01)
    g.on_train_begin(args, TrainerState(), TrainerControl())
    (watchdog,) = [t for t in threading.enumerate() if t.name == "trainjob-watchdog"]
    g.stop_watchdog()
    watchdog.join(timeout=2.0)
    assert not watchdog.is_alive()


# -- ProgressCallback ---------------------------------------------------------------------------


def progress(live: bool) -> tuple[ProgressState, Renderer, ProgressCallback]:
    state = ProgressState()
    renderer = Renderer(state, live=live)
    return state, renderer, ProgressCallback(state, renderer)


@pytest.mark.parametrize(("seen", "tokens"), [(500, 500), (None, 0)])
def test_progress_starts_from_the_resumed_step_and_tokens(
    args: TrainingArguments, seen: int | None, tokens: int
) -> None:
    state, _, cb = progress(live=False)
    before = time.monotonic()
    cb.on_train_begin(
        args,
        TrainerState(max_steps=100, global_step=10, num_input_tokens_seen=seen),
        TrainerControl(),
    )
    assert (state.max_steps, state.step, state.first_step) == (100, 10, 10)
    assert (state.tokens_seen, state.tokens_at_start) == (tokens, tokens)
    assert before <= state.train_started <= time.monotonic()


def test_progress_logs_a_line_per_logged_loss_not_per_step(
    args: TrainingArguments, log_lines: list[str]
) -> None:
    state, _, cb = progress(live=False)
    ts = TrainerState(max_steps=100, global_step=0)
    cb.on_train_begin(args, ts, TrainerControl())
    ts.global_step, ts.num_input_tokens_seen = 3, 96
    cb.on_step_end(args, ts, TrainerControl())
    assert (state.step, state.tokens_seen) == (3, 96)
    assert log_lines == []
    ts.num_input_tokens_seen = None
    cb.on_step_end(args, ts, TrainerControl())
    assert state.tokens_seen == 0
    cb.on_log(args, ts, TrainerControl(), logs={"loss": 1.5, "learning_rate": 0.001})
    assert state.loss == 1.5
    assert log_lines == [f"INFO {state.line()}"]
    assert log_lines[0].startswith("INFO step 3/100 loss 1.5000 ")


def test_progress_logs_eval_results_in_trainers_dict_form(
    args: TrainingArguments, log_lines: list[str]
) -> None:
    state, _, cb = progress(live=False)
    ts = TrainerState(global_step=40)
    cb.on_log(args, ts, TrainerControl(), logs={"eval_loss": 1.234567, "eval_runtime": 2, "x": "s"})
    assert log_lines == ["INFO eval at step 40: {'eval_loss': 1.2346, 'eval_runtime': 2, 'x': 's'}"]
    assert state.loss is None  # an eval log is not a training loss


def test_progress_is_quiet_off_rank_zero_but_keeps_the_loss(
    args: TrainingArguments, log_lines: list[str]
) -> None:
    state, _, cb = progress(live=False)
    ts = TrainerState(global_step=40, is_world_process_zero=False)
    cb.on_log(args, ts, TrainerControl(), logs={"eval_loss": 1.0})
    cb.on_log(args, ts, TrainerControl(), logs={"loss": 2.0})
    assert log_lines == [] and state.loss == 2.0


@pytest.mark.parametrize("logs", [None, {}, {"learning_rate": 0.1}])
def test_progress_ignores_logs_without_a_loss(
    args: TrainingArguments, log_lines: list[str], logs: dict[str, float] | None
) -> None:
    state, _, cb = progress(live=False)
    cb.on_log(args, TrainerState(), TrainerControl(), logs=logs)
    assert log_lines == [] and state.loss is None


def test_live_bar_follows_the_steps_on_rank_zero(args: TrainingArguments) -> None:
    state, renderer, cb = progress(live=True)
    ts = TrainerState(max_steps=50, global_step=5)
    cb.on_train_begin(args, ts, TrainerControl())
    bar = renderer._progress
    assert bar is not None
    ts.global_step = 9
    cb.on_step_end(args, ts, TrainerControl())
    assert bar.tasks[0].completed == 9
    ts.global_step = 12
    cb.on_log(args, ts, TrainerControl(), logs={"loss": 0.5})
    cb.on_step_end(args, ts, TrainerControl())
    assert bar.tasks[0].completed == 12
    cb.on_train_end(args, ts, TrainerControl())
    assert renderer._progress is None


def test_no_live_bar_off_rank_zero(args: TrainingArguments) -> None:
    state, renderer, cb = progress(live=True)
    ts = TrainerState(max_steps=50, is_world_process_zero=False)
    cb.on_train_begin(args, ts, TrainerControl())
    assert renderer._progress is None


def test_no_log_line_from_a_live_bar_that_never_started(
    args: TrainingArguments, log_lines: list[str]
) -> None:
    """Another rank's renderer is never started: its step ends must not log either."""
    state, renderer, cb = progress(live=True)
    ts = TrainerState(max_steps=50, global_step=5)
    cb.on_step_end(args, ts, TrainerControl())
    assert log_lines == [] and state.step == 5
