"""Checkpoint validation, resume point and quarantine, on folders built byte by byte in the
formats Trainer writes (safetensors header + data, torch.save zip archives, trainer_state.json)."""

from __future__ import annotations

from pathlib import Path

import pytest
from trainjob_helpers import make_checkpoint, write_safetensors

from trainjob.checkpoints import (
    SENTINEL,
    find_resume_point,
    list_checkpoints,
    quarantine,
    safetensors_problem,
    validate_checkpoint,
)


def test_complete_checkpoint_is_valid(tmp_path: Path) -> None:
    check = validate_checkpoint(make_checkpoint(tmp_path, 10))
    assert check.valid, check.problems
    assert check.kind == "adapter" and check.step == 10


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda f: (f / "trainer_state.json").unlink(), "trainer_state.json missing"),
        (lambda f: (f / "trainer_state.json").write_text("{not json"), "does not parse"),
        (lambda f: (f / SENTINEL).write_text("in progress"), "incomplete JIT save"),
        (lambda f: (f / "optimizer.pt").unlink(), "optimizer.pt missing"),
        (lambda f: (f / "scheduler.pt").unlink(), "scheduler.pt missing"),
        (
            lambda f: (f / "adapter_config.json").write_text("{"),
            "adapter_config.json does not parse",
        ),
        (lambda f: (f / "adapter_model.safetensors").unlink(), "no model weights"),
    ],
)
def test_each_kind_of_damage_is_named(tmp_path: Path, damage, expected: str) -> None:  # type: ignore[no-untyped-def]
    folder = make_checkpoint(tmp_path, 10)
    damage(folder)
    check = validate_checkpoint(folder)
    assert not check.valid
    assert any(expected in p for p in check.problems), check.problems


def test_global_step_must_match_the_folder(tmp_path: Path) -> None:
    check = validate_checkpoint(make_checkpoint(tmp_path, 10, state_step=9))
    assert check.problems == ["global_step 9 in trainer_state.json, folder says 10"]


def test_truncated_optimizer_archive_is_caught(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 10)
    data = (folder / "optimizer.pt").read_bytes()
    (folder / "optimizer.pt").write_bytes(data[: len(data) // 2])
    assert any("optimizer.pt is truncated" in p for p in validate_checkpoint(folder).problems)


def test_save_only_model_checkpoints_need_no_optimizer(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 10)
    (folder / "optimizer.pt").unlink()
    (folder / "scheduler.pt").unlink()
    assert validate_checkpoint(folder, require_optimizer=False).valid


def test_safetensors_truncated_empty_and_tensorless(tmp_path: Path) -> None:
    good = tmp_path / "good.safetensors"
    write_safetensors(good, {"a": 4})
    assert safetensors_problem(good) is None
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[:-3])
    assert "truncated" in (safetensors_problem(cut) or "")
    empty = tmp_path / "empty.safetensors"
    write_safetensors(empty, {"a": 0})
    assert safetensors_problem(empty) == "all tensors are empty"
    none = tmp_path / "none.safetensors"
    write_safetensors(none, {})
    assert safetensors_problem(none) == "holds no tensors"
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(b"\1\2")
    assert safetensors_problem(tiny) == "truncated (no header)"


def test_resume_point_is_newest_valid_and_broken_ones_are_kept_aside(tmp_path: Path) -> None:
    make_checkpoint(tmp_path, 5)
    make_checkpoint(tmp_path, 10)
    broken = make_checkpoint(tmp_path, 15)
    (broken / "trainer_state.json").unlink()
    (tmp_path / "checkpoint-20").mkdir()  # an empty folder from a kill right after mkdir
    files_before = sorted(p.name for p in broken.iterdir())

    point = find_resume_point(tmp_path)

    assert point.checkpoint is not None and point.checkpoint.path.name == "checkpoint-10"
    assert [c.path.name for c, _ in point.quarantined] == ["checkpoint-20", "checkpoint-15"]
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-5", "checkpoint-10"]
    moved = [m for _, m in point.quarantined]
    assert all(m.is_dir() and m.name.startswith("quarantine-checkpoint-") for m in moved)
    assert sorted(p.name for p in moved[1].iterdir()) == files_before


def test_no_valid_checkpoint_means_a_fresh_start(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-3").mkdir()
    point = find_resume_point(tmp_path)
    assert point.checkpoint is None and len(point.quarantined) == 1
    assert find_resume_point(tmp_path / "absent").checkpoint is None


def test_quarantine_never_overwrites_an_earlier_quarantine(tmp_path: Path) -> None:
    first = quarantine(validate_checkpoint(_empty(tmp_path, 7)))
    second = quarantine(validate_checkpoint(_empty(tmp_path, 7)))
    assert first != second and first.is_dir() and second.is_dir()


def _empty(root: Path, step: int) -> Path:
    folder = root / f"checkpoint-{step}"
    folder.mkdir()
    return folder
