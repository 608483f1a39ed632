"""Unit tests of the pieces the fault suite leans on, on real files, no training: the final-dir
marker protocol, copy_final, atomic writes, disk-error shapes, the resume checks."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from trainjob_helpers import make_checkpoint, write_safetensors

from trainjob.atomic import atomic_write_bytes
from trainjob.checkpoints import validate_checkpoint
from trainjob.diskerrors import disk_problem
from trainjob.errors import RunRefused
from trainjob.finish import check_final_dir, copy_final, final_is_complete, write_final_dir
from trainjob.manifest import Manifest
from trainjob.resume import adapter_plan, check_resume
from trainjob.verify import hash_problems, state_problems


def test_a_kill_mid_final_save_leaves_a_dir_the_rerun_accepts(tmp_path: Path) -> None:
    target = tmp_path / "final-model"

    def dies_halfway(staging: Path) -> None:
        (staging / "adapter_model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt  # stands for the kill: nothing after this line runs

    with pytest.raises(KeyboardInterrupt):
        write_final_dir(target, dies_halfway, step=8, outcome="completed")
    marker = json.loads((target / "trainjob-final.json").read_text())
    assert marker["status"] == "writing"
    check_final_dir(
        target
    )  # trainjob's own leftovers: accepted, not "files trainjob did not write"
    assert not final_is_complete(target, 8)
    assert not (target / "adapter_model.safetensors").exists()  # only staged, never published


def test_a_kill_while_the_marker_is_first_written_is_trainjobs_own_leftover(tmp_path: Path) -> None:
    target = tmp_path / "final-model"
    target.mkdir()
    (target / ".trainjob-final.json.trainjob-tmp").write_text('{"status": "wri')
    check_final_dir(target)  # found by the kill suite: this used to brick the dir


def test_foreign_files_are_still_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "weights.bin").write_bytes(b"mine")
    with pytest.raises(RunRefused, match="did not write"):
        check_final_dir(theirs)


def test_copy_final_rewrites_an_incomplete_final_dir_from_the_checkpoint(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path / "out", 8)
    (ckpt / "tokenizer.json").write_text('{"model": {}}')
    target = tmp_path / "final-model"
    target.mkdir()
    (target / "trainjob-final.json").write_text('{"status": "writing", "global_step": 8}')
    (target / "adapter_model.safetensors").write_bytes(b"torn")
    copy_final(ckpt, [target])
    for name in ("adapter_model.safetensors", "adapter_config.json", "tokenizer.json"):
        assert (target / name).read_bytes() == (ckpt / name).read_bytes()
    assert final_is_complete(target, 8)
    # a complete final dir whose file was changed since is rewritten too
    (target / "adapter_model.safetensors").write_bytes(b"changed")
    assert not final_is_complete(target, 8)
    copy_final(ckpt, [target])
    assert (target / "adapter_model.safetensors").read_bytes() == (
        ckpt / "adapter_model.safetensors"
    ).read_bytes()


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path: Path) -> None:
    path = tmp_path / "trainjob-manifest.json"
    path.write_text("old")

    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["trainjob-manifest.json"]  # no temp left


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "full"),
        (
            RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 40"),
            "full",
        ),
        (RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"), "full"),
        (
            Exception(
                "Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "
                '"No space left on device" })'
            ),
            "full",
        ),  # fmt: skip
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
        (PermissionError(errno.EACCES, "Permission denied"), "read-only"),
        (ValueError("a bad value"), None),
    ],
)
def test_disk_problems_of_every_shape(exc: BaseException, kind: str | None) -> None:
    assert disk_problem(exc) == kind


def test_disk_problem_found_in_the_cause_chain() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("save failed") from inner
    except RuntimeError as outer:
        assert disk_problem(outer) == "full"


def test_truncated_adapter_makes_the_checkpoint_invalid(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 4)
    adapter = folder / "adapter_model.safetensors"
    adapter.write_bytes(adapter.read_bytes()[:-16])
    problems = validate_checkpoint(folder).problems
    assert any("adapter_model.safetensors: truncated" in p for p in problems), problems


def test_trainer_state_of_the_wrong_shape(tmp_path: Path) -> None:
    state = tmp_path / "trainer_state.json"
    state.write_text('{"global_step": 6, "log_history": "x", "max_steps": 8}')
    assert state_problems(state) == ["trainer_state.json: log_history is str, not list"]
    state.write_text('{"global_step": 6, "log_history": [], "max_steps": 8, "epoch": 0.1}')
    assert state_problems(state) == []
    state.write_text("[1, 2]")
    assert state_problems(state) == ["trainer_state.json is not a JSON object"]


def test_hashes_are_checked_against_the_manifest(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 4)
    manifest = Manifest(tmp_path)
    manifest.record(folder, step=4, kind="periodic", plan={})
    assert hash_problems(folder, manifest.entry(folder.name)) == []
    opt = folder / "optimizer.pt"
    data = bytearray(opt.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    opt.write_bytes(bytes(data))
    assert hash_problems(folder, manifest.entry(folder.name)) == [
        "optimizer.pt sha256 differs from the manifest (bytes changed since the save)"
    ]


def test_a_changed_lora_rank_is_named(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 4)
    (folder / "adapter_config.json").write_text(
        json.dumps({"r": 4, "lora_alpha": 8, "target_modules": ["v_proj", "q_proj"]})
    )
    (folder / "trainer_state.json").write_text('{"global_step": 4, "max_steps": 8}')
    assert adapter_plan(folder) == {
        "lora_r": 4,
        "lora_alpha": 8,
        "lora_targets": ["q_proj", "v_proj"],
    }
    check = validate_checkpoint(folder, require_optimizer=True)
    plan = {
        "per_device_train_batch_size": 4,
        "world_size": 1,
        "max_steps": 8,
        "lora_r": 8,
        "lora_alpha": 8,
        "lora_targets": ["q_proj", "v_proj"],
    }
    with pytest.raises(RunRefused, match="lora_r: 4 -> 8"):
        check_resume(check, Manifest(tmp_path), plan, allow_mismatch=False)
    assert (
        check_resume(check, Manifest(tmp_path), {**plan, "lora_r": 4}, allow_mismatch=False)
        is False
    )


def test_safetensors_helper_writes_what_the_checks_read(tmp_path: Path) -> None:
    path = tmp_path / "a.safetensors"
    write_safetensors(path, {"x": 4})
    from trainjob.checkpoints import safetensors_problem

    assert safetensors_problem(path) is None
