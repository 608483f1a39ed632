"""Damaged checkpoints, byte by byte, and the exact problem text a user reads for each.

Every file is a real file in the format Trainer writes (safetensors header + data, zip archives,
JSON). Where a damaged safetensors file is rejected, the real ``safetensors`` library is asked to
open it too: it must refuse the same file (no false positive), and accept every file we accept.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file
from trainjob_helpers import make_checkpoint, write_safetensors, write_zip

from trainjob.checkpoints import (
    DTYPE_BYTES,
    SENTINEL,
    CheckpointCheck,
    _short,
    find_resume_point,
    folder_bytes,
    human_bytes,
    list_checkpoints,
    quarantine,
    safetensors_header_problem,
    safetensors_problem,
    validate_checkpoint,
)


def json_error(text: str | bytes) -> str:
    """The first line of the message json gives for ``text`` (what the checks quote)."""
    try:
        json.loads(text)
    except ValueError as exc:
        return str(exc).splitlines()[0]
    raise AssertionError(f"{text!r} parses")


def write_raw(path: Path, header: Any, data_bytes: int, *, header_len: int | None = None) -> int:
    """A safetensors-shaped file: 8-byte length, ``header`` as JSON, ``data_bytes`` zeros.
    Returns the header length (the real one, or the ``header_len`` written instead)."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(raw) if header_len is None else header_len
    path.write_bytes(struct.pack("<Q", n) + raw + b"\0" * data_bytes)
    return n


def library_refuses(path: Path) -> bool:
    try:
        with safe_open(str(path), framework="numpy") as f:
            for key in f.keys():
                f.get_tensor(key)
    except Exception:
        return True
    return False


TORN_STATE = '{"global_step": 12'
TORN_CONFIG = '{"r": 4'
TORN_INDEX = '{"weight_map": {"embed": "model-0'


def tensor(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


# --- safetensors_problem -------------------------------------------------------------------


def test_files_the_library_writes_are_accepted_for_every_numpy_dtype(tmp_path: Path) -> None:
    # numpy dtype -> safetensors dtype name; the byte width comes from numpy, not from our table
    names = {
        "bool": "BOOL",
        "uint8": "U8",
        "int8": "I8",
        "int16": "I16",
        "uint16": "U16",
        "float16": "F16",
        "int32": "I32",
        "uint32": "U32",
        "float32": "F32",
        "float64": "F64",
        "int64": "I64",
        "uint64": "U64",
    }
    for np_name, st_name in names.items():
        assert DTYPE_BYTES[st_name] == np.dtype(np_name).itemsize, st_name
        path = tmp_path / f"{np_name}.safetensors"
        save_file(
            {"w": np.zeros((2, 3), dtype=np_name), "b": np.ones(5, dtype=np_name)},
            str(path),
            metadata={"format": "np"},
        )
        assert safetensors_problem(path) is None, np_name


def test_a_dtype_that_does_not_match_the_bytes_is_named(tmp_path: Path) -> None:
    # F32 [2, 3] is 2 * 3 * 4 = 24 bytes; the header gives it 12 (as if it were F16)
    path = tmp_path / "w.safetensors"
    write_raw(path, {"w": tensor("F32", [2, 3], 0, 12)}, 12)
    assert safetensors_problem(path) == "tensor 'w' holds 12 bytes, its F32 shape [2, 3] needs 24"
    assert library_refuses(path)
    # BF16 [4] is 4 * 2 = 8 bytes; the header gives it 16 (as if it were F32)
    write_raw(path, {"b": tensor("BF16", [4], 0, 16)}, 16)
    assert safetensors_problem(path) == "tensor 'b' holds 16 bytes, its BF16 shape [4] needs 8"
    assert library_refuses(path)
    # three dims, one byte wide: U8 [2, 3, 4] is 24 bytes; 23 given
    # the second tensor: F32 [2, 2] is 16 bytes, it is given bytes 16..24
    write_raw(path, {"a": tensor("F32", [4], 0, 16), "b": tensor("F32", [2, 2], 16, 24)}, 24)
    assert safetensors_problem(path) == "tensor 'b' holds 8 bytes, its F32 shape [2, 2] needs 16"
    write_raw(path, {"u": tensor("U8", [2, 3, 4], 0, 23)}, 23)
    assert safetensors_problem(path) == "tensor 'u' holds 23 bytes, its U8 shape [2, 3, 4] needs 24"


def test_scalars_single_bytes_and_unknown_dtypes(tmp_path: Path) -> None:
    path = tmp_path / "s.safetensors"
    write_raw(path, {"s": tensor("F32", [], 0, 4)}, 4)  # a scalar: one element of 4 bytes
    assert safetensors_problem(path) is None
    assert not library_refuses(path)
    write_raw(path, {"u": tensor("U8", [1], 0, 1)}, 1)  # one byte of data is not "empty"
    assert safetensors_problem(path) is None
    # a dtype without a known size gets the offset checks only
    write_raw(path, {"q": tensor("F4", [8], 0, 4)}, 4)
    assert safetensors_problem(path) is None


def test_gaps_and_overlaps_between_tensors(tmp_path: Path) -> None:
    path = tmp_path / "g.safetensors"
    # listed out of order on purpose: the checks sort by offset, as the library does
    write_raw(path, {"b": tensor("F32", [4], 20, 36), "a": tensor("F32", [4], 0, 16)}, 36)
    assert safetensors_problem(path) == "tensor 'b' starts at byte 20, not 16 (a gap or an overlap)"
    assert library_refuses(path)
    write_raw(path, {"b": tensor("F32", [4], 8, 24), "a": tensor("F32", [4], 0, 16)}, 24)
    assert safetensors_problem(path) == "tensor 'b' starts at byte 8, not 16 (a gap or an overlap)"
    assert library_refuses(path)
    write_raw(path, {"a": tensor("F32", [4], 4, 20)}, 20)  # data must start at byte 0
    assert safetensors_problem(path) == "tensor 'a' starts at byte 4, not 0 (a gap or an overlap)"
    write_raw(path, {"a": tensor("F4", [4], 0, 16), "b": tensor("F4", [4], 16, 8)}, 16)
    assert safetensors_problem(path) == "tensor 'b' ends at byte 8, before it starts (16)"
    write_raw(path, {"a": tensor("F32", [4], 0, 16), "b": tensor("F32", [4], 16, 32)}, 32)
    assert safetensors_problem(path) is None
    assert not library_refuses(path)


@pytest.mark.parametrize(
    "entry",
    [
        5,
        {"shape": [4], "data_offsets": [0, 16]},
        {"dtype": 7, "shape": [4], "data_offsets": [0, 16]},
        {"dtype": "F32", "data_offsets": [0, 16]},
        {"dtype": "F32", "shape": 4, "data_offsets": [0, 16]},
        {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]},
        {"dtype": "F32", "shape": ["4"], "data_offsets": [0, 16]},
        {"dtype": "F32", "shape": [4]},
        {"dtype": "F32", "shape": [4], "data_offsets": "0-16"},
        {"dtype": "F32", "shape": [4], "data_offsets": [16]},
        {"dtype": "F32", "shape": [4], "data_offsets": [0, 16, 32]},
        {"dtype": "F32", "shape": [4], "data_offsets": ["0", "16"]},
        {"dtype": "F32", "shape": [4], "data_offsets": [False, 16]},
        {"dtype": "F32", "shape": [4], "data_offsets": [-16, 0]},
        {"dtype": "F32", "shape": [4], "data_offsets": [0.0, 16.0]},
    ],
)
def test_a_malformed_tensor_entry_is_named_not_a_crash(tmp_path: Path, entry: Any) -> None:
    path = tmp_path / "m.safetensors"
    write_raw(path, {"ok": tensor("F32", [4], 0, 16), "bad": entry}, 16)
    assert safetensors_problem(path) == "tensor 'bad' has no valid dtype, shape and data_offsets"
    assert library_refuses(path)


def test_the_header_itself_damaged(tmp_path: Path) -> None:
    path = tmp_path / "h.safetensors"
    path.write_bytes(b"\1\2\3\4\5\6\7")  # 7 bytes: not even the length field
    assert safetensors_problem(path) == "truncated (no header)"
    path.write_bytes(b"")
    assert safetensors_problem(path) == "truncated (no header)"
    path.write_bytes(b"\0" * 8)  # a length field saying 0, then nothing: an empty header
    assert safetensors_problem(path) == f"unreadable ({json_error(b'')})"
    # the length field one byte past the end of the file
    body = json.dumps({"a": tensor("F32", [1], 0, 4)}).encode()
    write_raw(path, body, 0, header_len=len(body) + 1)
    assert safetensors_problem(path) == "truncated (header longer than file)"
    # exactly as long as the rest of the file: read, then judged on its content
    write_raw(path, {"__metadata__": {"format": "pt"}}, 0)
    assert safetensors_problem(path) == "holds no tensors"
    not_utf8 = b"\xff\xfe{}"
    write_raw(path, not_utf8, 0)
    assert safetensors_problem(path) == "unreadable (" + json_error(not_utf8) + ")"
    torn = b'{"a": {"dtype": "F32",'
    write_raw(path, torn, 0)
    assert safetensors_problem(path) == "unreadable (" + json_error(torn) + ")"
    write_raw(path, [1, 2], 0)
    assert safetensors_problem(path) == "header is not a mapping"
    # not a safetensors file at all: the length field reads as 2**64 - 1 (unsigned)
    path.write_bytes(b"\xff" * 64)
    assert safetensors_problem(path) == "truncated (header longer than file)"


def test_metadata_is_not_a_tensor(tmp_path: Path) -> None:
    path = tmp_path / "meta.safetensors"
    write_raw(path, {"__metadata__": {"format": "pt"}, "a": tensor("F32", [2], 0, 8)}, 8)
    assert safetensors_problem(path) is None
    assert not library_refuses(path)
    write_raw(path, {"__metadata__": {"format": "pt"}, "a": tensor("F32", [0], 0, 0)}, 0)
    assert safetensors_problem(path) == "all tensors are empty"


def test_truncated_or_overlong_data(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    header_len = write_raw(path, {"a": tensor("F32", [4], 0, 16)}, 16)
    full = 8 + header_len + 16
    assert path.stat().st_size == full and safetensors_problem(path) is None
    path.write_bytes(path.read_bytes()[:-1])
    assert safetensors_problem(path) == f"truncated ({full - 1} bytes, header promises {full})"
    path.write_bytes(path.read_bytes() + b"\0\0\0\0\0\0")
    assert (
        safetensors_problem(path)
        == f"5 bytes past the last tensor ({full + 5} bytes, header promises {full})"
    )
    assert library_refuses(path)


def test_the_header_check_alone_needs_only_the_header_and_the_size() -> None:
    # what a ranged S3 read has: the parsed header, its length and the object's size
    header = {"__metadata__": {"format": "pt"}, "a": tensor("F32", [4], 0, 16)}
    assert safetensors_header_problem(header, 100, 8 + 100 + 16) is None
    assert safetensors_header_problem(header, 100, 8 + 100 + 15) == (
        "truncated (123 bytes, header promises 124)"
    )
    assert safetensors_header_problem([], 2, 10) == "header is not a mapping"


def test_a_folder_named_like_a_file_is_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "dir.safetensors"
    folder.mkdir()
    problem = safetensors_problem(folder)
    assert problem is not None and problem.startswith("unreadable (") and problem.endswith(")")
    assert "Is a directory" in problem


# --- validate_checkpoint: the whole problem list a user reads ----------------------------


def test_a_folder_not_named_checkpoint_n(tmp_path: Path) -> None:
    folder = tmp_path / "ckpt-3"
    folder.mkdir()
    check = validate_checkpoint(folder)
    assert check.problems == ["folder name 'ckpt-3' is not checkpoint-<step>"]
    assert check.step == -1 and check.kind == "unknown" and not check.valid


def test_a_file_named_checkpoint_n(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-5").write_text("not a folder")
    check = validate_checkpoint(tmp_path / "checkpoint-5")
    assert check.problems == ["not a directory"] and check.step == 5


def test_every_problem_of_a_badly_damaged_checkpoint_in_order(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 12)
    (folder / SENTINEL).write_text("saving")
    (folder / "trainer_state.json").unlink()
    adapter = folder / "adapter_model.safetensors"
    size = adapter.stat().st_size
    adapter.write_bytes(adapter.read_bytes()[:-4])
    (folder / "adapter_config.json").unlink()
    (folder / "optimizer.pt").write_bytes(b"")  # a zero-byte optimizer.pt
    (folder / "scheduler.pt").unlink()
    check = validate_checkpoint(folder)
    assert check.kind == "adapter" and check.step == 12
    assert check.problems == [
        "incomplete JIT save (checkpoint-is-incomplete.txt present)",
        "trainer_state.json missing (save did not finish)",
        f"adapter_model.safetensors: truncated ({size - 4} bytes, header promises {size})",
        "adapter_config.json missing",
        "optimizer.pt is truncated (not a complete torch.save archive)",
        "scheduler.pt missing",
    ]


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        (TORN_STATE, "trainer_state.json does not parse (" + json_error(TORN_STATE) + ")"),
        ("", "trainer_state.json does not parse (" + json_error("") + ")"),
        ("[12]", "global_step None in trainer_state.json, folder says 12"),
        ('{"log_history": []}', "global_step None in trainer_state.json, folder says 12"),
        ('{"global_step": 11}', "global_step 11 in trainer_state.json, folder says 12"),
        ('{"global_step": "12"}', "global_step 12 in trainer_state.json, folder says 12"),
    ],
)
def test_a_torn_or_wrong_trainer_state(tmp_path: Path, state: str, problem: str) -> None:
    folder = make_checkpoint(tmp_path, 12)
    (folder / "trainer_state.json").write_text(state)
    assert validate_checkpoint(folder).problems == [problem]


def test_a_trainer_state_that_is_a_folder(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 12)
    (folder / "trainer_state.json").unlink()
    (folder / "trainer_state.json").mkdir()
    assert validate_checkpoint(folder).problems == [
        "trainer_state.json missing (save did not finish)"
    ]


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ("[]", "adapter_config.json is not a JSON object"),
        ('"r"', "adapter_config.json is not a JSON object"),
        (TORN_CONFIG, "adapter_config.json does not parse (" + json_error(TORN_CONFIG) + ")"),
    ],
)
def test_a_wrong_adapter_config(tmp_path: Path, config: str, problem: str) -> None:
    folder = make_checkpoint(tmp_path, 3)
    (folder / "adapter_config.json").write_text(config)
    assert validate_checkpoint(folder).problems == [problem]


def test_pickled_adapter_weights(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 3)
    (folder / "adapter_model.safetensors").unlink()
    (folder / "adapter_model.bin").write_bytes(b"")
    check = validate_checkpoint(folder)
    assert check.kind == "adapter" and check.problems == ["adapter_model.bin is empty"]
    (folder / "adapter_model.bin").write_bytes(b"\x80")  # one byte: not empty, not judged further
    assert validate_checkpoint(folder).valid


def test_safetensors_adapter_wins_over_a_pickled_one(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 3)
    (folder / "adapter_model.bin").write_bytes(b"")
    adapter = folder / "adapter_model.safetensors"
    adapter.write_bytes(adapter.read_bytes()[:5])
    assert validate_checkpoint(folder).problems == [
        "adapter_model.safetensors: truncated (no header)"
    ]


def _full_checkpoint(root: Path, step: int) -> Path:
    folder = make_checkpoint(root, step)
    (folder / "adapter_model.safetensors").unlink()
    (folder / "adapter_config.json").unlink()
    return folder


def test_full_model_weights(tmp_path: Path) -> None:
    folder = _full_checkpoint(tmp_path, 6)
    check = validate_checkpoint(folder)
    assert check.kind == "unknown"
    assert check.problems == ["no model weights (adapter_model.safetensors or model.safetensors)"]

    write_safetensors(folder / "model.safetensors", {"embed": 6, "lm_head": 6})
    check = validate_checkpoint(folder)
    assert check.valid and check.kind == "full"
    (folder / "model.safetensors").write_bytes(b"")
    assert validate_checkpoint(folder).problems == ["model.safetensors: truncated (no header)"]
    (folder / "model.safetensors").unlink()

    # a zero-byte pickled model cannot be resumed from either (this used to pass as valid)
    (folder / "pytorch_model.bin").write_bytes(b"")
    check = validate_checkpoint(folder)
    assert check.kind == "full" and check.problems == ["pytorch_model.bin is empty"]
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x02")
    assert validate_checkpoint(folder).valid


def _sharded(folder: Path) -> None:
    write_safetensors(folder / "model-00001-of-00002.safetensors", {"embed": 8, "layer.0": 4})
    write_safetensors(folder / "model-00002-of-00002.safetensors", {"lm_head": 8})
    index = {
        "metadata": {"total_size": 80},
        "weight_map": {
            "embed": "model-00001-of-00002.safetensors",
            "layer.0": "model-00001-of-00002.safetensors",
            "lm_head": "model-00002-of-00002.safetensors",
        },
    }
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))


def test_every_shard_of_a_sharded_save_must_be_there_and_whole(tmp_path: Path) -> None:
    folder = _full_checkpoint(tmp_path, 6)
    _sharded(folder)
    check = validate_checkpoint(folder)
    assert check.valid and check.kind == "full", check.problems

    second = folder / "model-00002-of-00002.safetensors"
    size = second.stat().st_size
    second.write_bytes(second.read_bytes()[:-8])
    assert validate_checkpoint(folder).problems == [
        f"model-00002-of-00002.safetensors: truncated ({size - 8} bytes, header promises {size})"
    ]
    second.unlink()
    (folder / "model-00001-of-00002.safetensors").unlink()
    assert validate_checkpoint(folder).problems == [
        "model-00001-of-00002.safetensors missing (listed in model.safetensors.index.json)",
        "model-00002-of-00002.safetensors missing (listed in model.safetensors.index.json)",
    ]


@pytest.mark.parametrize(
    ("index", "problem"),
    [
        (
            TORN_INDEX,
            "model.safetensors.index.json does not parse (" + json_error(TORN_INDEX) + ")",
        ),
        ('{"metadata": {}}', "model.safetensors.index.json has no weight_map"),
        ('{"weight_map": {}}', "model.safetensors.index.json has no weight_map"),
        ('{"weight_map": ["model.safetensors"]}', "model.safetensors.index.json has no weight_map"),
        ('["model-00001-of-00002.safetensors"]', "model.safetensors.index.json has no weight_map"),
    ],
)
def test_a_damaged_shard_index(tmp_path: Path, index: str, problem: str) -> None:
    folder = _full_checkpoint(tmp_path, 6)
    _sharded(folder)
    (folder / "model.safetensors.index.json").write_text(index)
    assert validate_checkpoint(folder).problems == [problem]


def test_an_empty_zip_is_not_an_optimizer_state(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 4)
    with zipfile.ZipFile(folder / "scheduler.pt", "w"):
        pass  # a complete archive with nothing in it
    assert validate_checkpoint(folder).problems == [
        "scheduler.pt is truncated (not a complete torch.save archive)"
    ]
    write_zip(folder / "scheduler.pt")
    (folder / "optimizer.pt").unlink()
    (folder / "optimizer.pt").mkdir()
    assert validate_checkpoint(folder).problems == ["optimizer.pt missing"]
    assert validate_checkpoint(folder, require_optimizer=False).valid


def test_short_keeps_the_first_line_and_80_characters() -> None:
    assert _short(ValueError("first line\nsecond line")) == "first line"
    assert _short(ValueError("x" * 100)) == "x" * 80
    assert _short(ValueError("y" * 80)) == "y" * 80
    assert _short(KeyError()) == "KeyError"


# --- listing, quarantine, resume point ---------------------------------------------------


def test_checkpoints_are_listed_by_step_number_not_by_name(tmp_path: Path) -> None:
    for step in (100, 9, 10):
        (tmp_path / f"checkpoint-{step}").mkdir()
    (tmp_path / "checkpoint-50").write_text("a file")
    (tmp_path / "checkpoint-final").mkdir()
    (tmp_path / "quarantine-checkpoint-7-x").mkdir()
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        "checkpoint-9",
        "checkpoint-10",
        "checkpoint-100",
    ]
    assert list_checkpoints(tmp_path / "absent") == []
    (tmp_path / "plain-file").write_text("x")
    assert list_checkpoints(tmp_path / "plain-file") == []


def test_reason_slug_is_the_first_problem_in_40_folder_safe_characters(tmp_path: Path) -> None:
    def slug(*problems: str) -> str:
        return CheckpointCheck(path=tmp_path, step=1, problems=list(problems)).reason_slug()

    assert slug() == "invalid"
    assert slug("!!! ...") == "invalid"
    assert (
        slug("Global_Step 9 IN trainer_state.json", "second")
        == "global-step-9-in-trainer-state-json"
    )
    assert slug("(" + "a" * 50) == "a" * 40
    # the 40th character is the dash before "finish": cut, and the dangling dash dropped
    assert slug("trainer_state.json missing (save did not finish)") == (
        "trainer-state-json-missing-save-did-not"
    )


def test_quarantine_names_count_up_and_keep_every_file(tmp_path: Path) -> None:
    names = []
    for _ in range(3):
        folder = tmp_path / "checkpoint-7"
        folder.mkdir()
        (folder / "optimizer.pt").write_bytes(b"partial")
        names.append(quarantine(validate_checkpoint(folder)).name)
    base = "quarantine-checkpoint-7-trainer-state-json-missing-save-did-not"
    assert names == [base, f"{base}-2", f"{base}-3"]
    assert all((tmp_path / n / "optimizer.pt").read_bytes() == b"partial" for n in names)
    assert not (tmp_path / "checkpoint-7").exists()


def test_the_deep_check_runs_only_on_the_candidate(tmp_path: Path) -> None:
    make_checkpoint(tmp_path, 5)
    make_checkpoint(tmp_path, 10)
    make_checkpoint(tmp_path, 15)
    (make_checkpoint(tmp_path, 20) / "trainer_state.json").unlink()
    seen: list[str] = []

    def deep(path: Path) -> list[str]:
        seen.append(path.name)
        return ["optimizer.pt sha256 differs"] if path.name == "checkpoint-15" else []

    point = find_resume_point(tmp_path, verify=deep)
    # 20 fails the structural check (no deep check), 15 fails the deep one, 10 is chosen, 5 is
    # older than the choice and never read deeply
    assert seen == ["checkpoint-15", "checkpoint-10"]
    assert point.checkpoint is not None and point.checkpoint.path.name == "checkpoint-10"
    assert [(c.path.name, c.problems) for c, _ in point.quarantined] == [
        ("checkpoint-20", ["trainer_state.json missing (save did not finish)"]),
        ("checkpoint-15", ["optimizer.pt sha256 differs"]),
    ]
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-5", "checkpoint-10"]


def test_an_invalid_checkpoint_older_than_the_choice_is_moved_aside_too(tmp_path: Path) -> None:
    (make_checkpoint(tmp_path, 5) / "optimizer.pt").unlink()
    make_checkpoint(tmp_path, 10)
    point = find_resume_point(tmp_path)
    assert point.checkpoint is not None and point.checkpoint.path.name == "checkpoint-10"
    assert [c.path.name for c, _ in point.quarantined] == ["checkpoint-5"]
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-10"]


def test_save_only_model_runs_and_non_zero_ranks(tmp_path: Path) -> None:
    newest = make_checkpoint(tmp_path, 10)
    (newest / "optimizer.pt").unlink()
    make_checkpoint(tmp_path, 5)
    # a save_only_model run resumes from the newest, which holds no optimizer by design
    point = find_resume_point(tmp_path, require_optimizer=False)
    assert point.checkpoint is not None and point.checkpoint.path.name == "checkpoint-10"
    assert point.quarantined == []
    # another rank reaches the same verdict without moving anything
    point = find_resume_point(tmp_path, move_aside=False)
    assert point.checkpoint is not None and point.checkpoint.path.name == "checkpoint-5"
    assert point.quarantined == [] and newest.is_dir()
    # rank 0 (the default) moves it aside
    point = find_resume_point(tmp_path)
    assert [c.path.name for c, _ in point.quarantined] == ["checkpoint-10"] and not newest.exists()


# --- sizes --------------------------------------------------------------------------------


def test_folder_bytes_counts_files_in_subfolders_and_not_folders(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "x.bin").write_bytes(b"123")
    (tmp_path / "a" / "y.bin").write_bytes(b"4567")
    (tmp_path / "a" / "b" / "z.bin").write_bytes(b"89")
    assert folder_bytes(tmp_path) == 3 + 4 + 2
    assert folder_bytes(tmp_path / "a" / "b") == 2


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),  # 1536 / 1024
        (1024**2 - 1, "1024.0 KiB"),  # 1023.999 KiB rounds up in print but is still KiB
        (1024**2, "1.0 MiB"),
        (5 * 1024**3 + 512 * 1024**2, "5.5 GiB"),
        (1024**4, "1.0 TiB"),
        (3 * 1024**5, "3072.0 TiB"),  # nothing above TiB
    ],
)
def test_human_bytes_units_and_their_edges(n: int, text: str) -> None:
    assert human_bytes(n) == text
