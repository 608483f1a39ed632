"""Atomic writes and folder publishing on real files: what is on disk after a success, after a
failure, and after a leftover of a killed attempt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainjob.atomic import (
    TMP_SUFFIX,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    fsync_dir,
    fsync_file,
    publish_folder,
    staging_for,
)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "trainjob-run.json"
    path.write_bytes(b"old")
    # the temporary sibling a killed earlier attempt left behind
    (tmp_path / f".trainjob-run.json{TMP_SUFFIX}").write_bytes(b"half of an older write")
    atomic_write_bytes(path, b"new")
    assert tree(tmp_path) == {"trainjob-run.json": b"new"}


def test_a_failed_rename_keeps_the_target_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "final"
    target.mkdir()
    (target / "kept.bin").write_bytes(b"theirs")
    with pytest.raises(IsADirectoryError):
        atomic_write_bytes(target, b"data")  # a folder cannot be replaced by a file
    assert tree(tmp_path) == {"final/kept.bin": b"theirs"}


def test_a_write_into_a_missing_folder_raises_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as raised:
        atomic_write_bytes(tmp_path / "absent" / "x.json", b"{}")
    # the error the caller classifies (diskerrors walks the cause chain) is the write's own, not
    # a second one from cleaning up a temporary file that was never created
    assert raised.value.__context__ is None
    assert list(tmp_path.iterdir()) == []


def test_text_is_utf8_and_json_takes_the_dump_options(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    atomic_write_text(path, "café ✓")
    assert path.read_bytes() == "café ✓".encode()
    atomic_write_json(path, {"b": 1, "a": [1, 2]}, indent=2, sort_keys=True)
    assert path.read_text(encoding="utf-8") == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}'
    atomic_write_json(path, {"é": None})
    assert json.loads(path.read_text(encoding="utf-8")) == {"é": None}
    assert path.read_text(encoding="utf-8") == '{"\\u00e9": null}'  # json.dumps defaults
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]


def test_fsync_of_a_missing_folder_is_a_no_op_and_of_a_missing_file_an_error(
    tmp_path: Path,
) -> None:
    fsync_dir(tmp_path / "absent")
    fsync_dir(tmp_path)
    with pytest.raises(FileNotFoundError):
        fsync_file(tmp_path / "absent.bin")
    (tmp_path / "f.bin").write_bytes(b"x")
    fsync_file(tmp_path / "f.bin")


def _staged(root: Path) -> Path:
    staging = root / ".final-model.trainjob-tmp"
    (staging / "sub" / "deeper").mkdir(parents=True)
    (staging / "adapter_model.safetensors").write_bytes(b"weights")
    (staging / "sub" / "a.json").write_bytes(b"{}")
    (staging / "sub" / "deeper" / "b.txt").write_bytes(b"b")
    (staging / "new" / "two").mkdir(parents=True)  # two levels with no file above the last
    (staging / "new" / "two" / "c.bin").write_bytes(b"c")
    return staging


def test_publishing_into_a_new_folder_moves_the_whole_staging(tmp_path: Path) -> None:
    staging = _staged(tmp_path)
    expected = tree(staging)
    target = tmp_path / "final-model"
    publish_folder(staging, target)
    assert tree(target) == expected and not staging.exists()


def test_publishing_into_a_folder_that_stays_replaces_file_by_file(tmp_path: Path) -> None:
    staging = _staged(tmp_path)
    target = tmp_path / "final-model"
    (target / "sub").mkdir(parents=True)  # SM_MODEL_DIR exists already, with a sub folder
    (target / "adapter_model.safetensors").write_bytes(b"older weights")
    (target / "sub" / "a.json").write_bytes(b'{"old": 1}')
    (target / "README.md").write_bytes(b"not ours, kept")
    publish_folder(staging, target)
    assert tree(target) == {
        "README.md": b"not ours, kept",
        "adapter_model.safetensors": b"weights",
        "new/two/c.bin": b"c",
        "sub/a.json": b"{}",
        "sub/deeper/b.txt": b"b",
    }
    assert not staging.exists()


def test_staging_is_a_fresh_hidden_sibling(tmp_path: Path) -> None:
    target = tmp_path / "assets"
    staging = staging_for(target)
    assert staging == tmp_path / f".assets{TMP_SUFFIX}" and not staging.exists()
    # a killed attempt's half-made copy is replaced, never read
    (staging / "sub").mkdir(parents=True)
    (staging / "sub" / "half.bin").write_bytes(b"half")
    assert staging_for(target) == staging and not staging.exists()
    assert list(tmp_path.iterdir()) == []
