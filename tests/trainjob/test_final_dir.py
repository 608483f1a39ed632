"""The final-model folder on real files: the marker protocol of ``write_final_dir``, what
``final_is_complete`` accepts, which checkpoint files ``copy_final`` carries over, and which
folders ``check_final_dir`` refuses before training."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path

import pytest
from trainjob_helpers import make_checkpoint

from trainjob.errors import RunRefused
from trainjob.finish import check_final_dir, copy_final, final_is_complete, write_final_dir

MARKER = "trainjob-final.json"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def marker(folder: Path) -> dict[str, object]:
    return json.loads((folder / MARKER).read_text())  # type: ignore[no-any-return]


def two_files(staging: Path) -> None:
    (staging / "adapter_model.safetensors").write_bytes(b"w" * 10)
    (staging / "tokenizer.json").write_text("{}")


def test_write_final_dir_marks_writing_first_and_complete_with_hashes_last(
    tmp_path: Path,
) -> None:
    target = tmp_path / "deep" / "final-model"  # parents are made too
    seen: dict[str, object] = {}

    def write(staging: Path) -> None:
        seen.update(marker(target))
        seen["staging"] = staging
        two_files(staging)

    write_final_dir(target, write, step=7, outcome="stopped")
    at = seen.pop("at")
    assert isinstance(at, str) and STAMP.match(at)
    assert seen == {"status": "writing", "global_step": 7, "staging": target / ".trainjob-staging"}
    done = marker(target)
    assert isinstance(done["at"], str) and STAMP.match(done["at"])
    assert done == {
        "status": "complete",
        "global_step": 7,
        "outcome": "stopped",
        "at": done["at"],
        "files": {
            "adapter_model.safetensors": sha(target / "adapter_model.safetensors"),
            "tokenizer.json": sha(target / "tokenizer.json"),
        },
    }
    text = (target / MARKER).read_text()
    assert text == json.dumps(done, indent=1)  # one key a line: a person reads this file
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["adapter_model.safetensors", MARKER, "tokenizer.json"]
    )  # the staging folder is gone once published
    assert final_is_complete(target, 7)


def test_write_final_dir_reuses_an_existing_folder_and_drops_a_killed_staging(
    tmp_path: Path,
) -> None:
    target = tmp_path / "final-model"  # SM_MODEL_DIR exists before the job starts
    (target / ".trainjob-staging").mkdir(parents=True)
    (target / ".trainjob-staging" / "half.bin").write_bytes(b"from a killed attempt")
    (target / f".x{'.trainjob-tmp'}").write_bytes(b"a temporary sibling")
    (target / "code").mkdir()  # a folder the platform put there: neither hashed nor touched
    (target / "code" / "train.py").write_text("print()")
    write_final_dir(target, two_files, step=3, outcome="completed")
    assert not (target / "half.bin").exists()
    files = marker(target)["files"]
    assert files == {
        "adapter_model.safetensors": sha(target / "adapter_model.safetensors"),
        "tokenizer.json": sha(target / "tokenizer.json"),
    }  # neither the marker itself nor a temporary file is listed
    assert final_is_complete(target, 3)
    assert (target / "code" / "train.py").read_text() == "print()"


def test_final_is_complete_only_for_the_same_step_and_unchanged_files(tmp_path: Path) -> None:
    target = tmp_path / "final-model"
    assert not final_is_complete(target, 3)  # no folder, no marker
    write_final_dir(target, two_files, step=3, outcome="completed")
    assert final_is_complete(target, 3)
    assert not final_is_complete(target, 4)
    assert not final_is_complete(target, 2)

    good = marker(target)
    for broken in (
        {**good, "status": "writing"},
        {**good, "global_step": "3"},
        {**good, "files": ["tokenizer.json"]},
        {k: v for k, v in good.items() if k != "files"},
        {**good, "files": {**good["files"], "extra.bin": "00"}},  # type: ignore[dict-item]
        ["complete", 3],
    ):
        (target / MARKER).write_text(json.dumps(broken))
        assert not final_is_complete(target, 3), broken
    # a marker without a status (written before statuses existed) counts as complete
    (target / MARKER).write_text(json.dumps({k: v for k, v in good.items() if k != "status"}))
    assert final_is_complete(target, 3)

    (target / MARKER).write_text('{"status": "compl')
    assert not final_is_complete(target, 3)
    (target / MARKER).write_text(json.dumps(good))
    (target / "tokenizer.json").write_text("{ }")  # same name, other bytes
    assert not final_is_complete(target, 3)
    (target / "tokenizer.json").unlink()
    assert not final_is_complete(target, 3)


def test_copy_final_carries_the_model_files_only(
    tmp_path: Path, logged: list[logging.LogRecord]
) -> None:
    ckpt = make_checkpoint(tmp_path / "out", 12)
    keep = [
        "adapter_config.json",
        "adapter_model.safetensors",
        "chat_template.jinja",
        "config.json",
        "model.safetensors",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    for name in keep[2:]:
        (ckpt / name).write_text(f"{name} of step 12")
    (ckpt / "rng_state.pth").write_bytes(b"rng")
    (ckpt / "training_args.bin").write_bytes(b"args")
    (ckpt / "tokenizer_extra").mkdir()  # a folder whose name matches is not a file to copy
    model, backup = tmp_path / "model", tmp_path / "backup"
    copy_final(ckpt, [model, backup])
    for target in (model, backup):
        assert sorted(p.name for p in target.iterdir()) == sorted([*keep, MARKER])
        for name in keep:
            assert (target / name).read_bytes() == (ckpt / name).read_bytes()
        done = marker(target)
        assert (done["status"], done["global_step"], done["outcome"]) == (
            "complete",
            12,
            "completed",
        )
    assert [r.getMessage() for r in logged] == [
        f"final adapter copied from checkpoint-12 to {model}",
        f"final adapter copied from checkpoint-12 to {backup}",
    ]


def test_copy_final_leaves_a_complete_final_dir_of_that_step_alone(
    tmp_path: Path, logged: list[logging.LogRecord]
) -> None:
    ckpt = make_checkpoint(tmp_path / "out", 8)
    target = tmp_path / "model"

    def own(staging: Path) -> None:
        (staging / "adapter_model.safetensors").write_bytes(b"saved by the run itself")

    write_final_dir(target, own, step=8, outcome="stopped")
    before = (target / MARKER).read_text()
    copy_final(ckpt, [target])
    assert (target / MARKER).read_text() == before
    assert (target / "adapter_model.safetensors").read_bytes() == b"saved by the run itself"
    assert logged == []
    # the folders after a complete one are still looked at
    backup = tmp_path / "backup"
    copy_final(ckpt, [target, backup])
    assert (target / MARKER).read_text() == before
    assert final_is_complete(backup, 8)
    # a final dir of another step is rewritten from the checkpoint
    newer = make_checkpoint(tmp_path / "out", 10)
    copy_final(newer, [target])
    assert (target / "adapter_model.safetensors").read_bytes() == (
        newer / "adapter_model.safetensors"
    ).read_bytes()
    assert marker(target)["global_step"] == 10


def test_copy_final_needs_a_checkpoint_folder(tmp_path: Path) -> None:
    folder = tmp_path / "final-model"
    folder.mkdir()
    with pytest.raises(ValueError) as raised:
        copy_final(folder, [tmp_path / "model"])
    assert str(raised.value) == f"{folder} is not a checkpoint-<step> folder"
    assert not (tmp_path / "model").exists()


def test_check_final_dir_refuses_a_folder_trainjob_did_not_write(tmp_path: Path) -> None:
    check_final_dir(tmp_path / "absent")  # not there yet: fine
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    check_final_dir(a_file)  # not a folder: nothing of it would be overwritten
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / MARKER).write_text("{}")
    (ours / "adapter_model.safetensors").write_bytes(b"ours")
    check_final_dir(ours)
    (ours / ".trainjob-staging").mkdir()
    (ours / MARKER).unlink()
    (ours / "adapter_model.safetensors").unlink()
    (ours / ".trainjob-final.json.trainjob-tmp").write_text("{")
    check_final_dir(ours)  # only trainjob's own leftovers
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(RunRefused) as refused:
        check_final_dir(theirs)
    assert str(refused.value) == (
        f"{theirs} already holds files that trainjob did not write; the final model would "
        "overwrite them. Choose another --model-dir/--backup-dir or move them."
    )
    assert (theirs / "notes.txt").read_text() == "mine"
