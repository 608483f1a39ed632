"""The deep check a resume runs on the checkpoint it is about to load: real ``torch.save`` and
safetensors files, damaged the ways disks and kills damage them, and the exact problem lines."""

from __future__ import annotations

import json
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from trainjob_helpers import make_checkpoint, write_safetensors

from trainjob.manifest import Manifest
from trainjob.verify import hash_problems, state_problems, verify_checkpoint_files

STATE = "trainer_state.json"


def checkpoint(root: Path, step: int = 4) -> Path:
    """A checkpoint whose optimizer, scheduler and RNG files are what Trainer writes and reads."""
    folder = make_checkpoint(root, step)
    torch.save(
        {"state": {0: {"step": torch.tensor(4.0)}}, "param_groups": [{"lr": 0.1}]},
        folder / "optimizer.pt",
    )
    torch.save({"last_epoch": 4, "_step_count": 5}, folder / "scheduler.pt")
    torch.save({"cpu": torch.get_rng_state(), "python": 1}, folder / "rng_state.pth")
    (folder / STATE).write_text(
        json.dumps({"global_step": step, "log_history": [], "max_steps": 8})
    )
    return folder


def load_error(path: Path) -> str:
    """How the problem line reports a file torch cannot read: the library's own first line."""
    with pytest.raises(Exception) as raised:
        torch.load(path, map_location="cpu", weights_only=True)
    first = str(raised.value).splitlines()[0]
    assert len(first) > 60  # so the cut at 60 characters is exercised
    return f"{path.name} does not load ({type(raised.value).__name__}: {first[:60]})"


def write_state(folder: Path, state: Any) -> Path:
    (folder / STATE).write_text(json.dumps(state))
    return folder / STATE


def test_a_checkpoint_trainer_can_load_has_no_problems(tmp_path: Path) -> None:
    folder = checkpoint(tmp_path)
    manifest = Manifest(tmp_path)
    manifest.record(folder, step=4, kind="periodic", plan={})
    assert verify_checkpoint_files(folder, manifest=manifest) == []
    assert verify_checkpoint_files(folder) == []


def test_state_problems_name_each_key_of_the_wrong_type(tmp_path: Path) -> None:
    base = {"global_step": 6, "log_history": [], "max_steps": 8}
    for state, expected in (
        ({**base, "epoch": 0.5}, []),
        ({**base, "epoch": 1}, []),
        ({**base, "epoch": None}, []),  # Trainer writes no epoch before the first one ends
        ({**base, "epoch": "1"}, ["trainer_state.json: epoch is str, not int"]),
        ({**base, "global_step": True}, ["trainer_state.json: global_step is bool, not int"]),
        ({**base, "max_steps": 8.0}, ["trainer_state.json: max_steps is float, not int"]),
        (
            {"log_history": [{"loss": 1.0}, 3]},
            [
                "trainer_state.json: global_step is NoneType, not int",
                "trainer_state.json: max_steps is NoneType, not int",
                "trainer_state.json: log_history holds entries that are not objects",
            ],
        ),
        ({**base, "log_history": {}}, ["trainer_state.json: log_history is dict, not list"]),
        ("global_step", ["trainer_state.json is not a JSON object"]),
    ):
        assert state_problems(write_state(tmp_path, state)) == expected, state


def test_state_that_does_not_parse_or_is_missing(tmp_path: Path) -> None:
    path = tmp_path / STATE
    path.write_text('{"global_step": 6,')
    with pytest.raises(ValueError) as raised:
        json.loads(path.read_text())
    assert state_problems(path) == [f"trainer_state.json does not parse ({str(raised.value)[:60]})"]
    path.unlink()
    missing = f"[Errno 2] No such file or directory: {str(path)!r}"
    assert len(missing) > 60
    assert state_problems(path) == [f"trainer_state.json does not parse ({missing[:60]})"]


def test_hash_problems_against_what_the_manifest_recorded(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 4)
    manifest = Manifest(tmp_path)
    entry = manifest.record(folder, step=4, kind="periodic", plan={})
    assert hash_problems(folder, None) == []
    assert hash_problems(folder, {"status": "valid"}) == []  # recorded before hashes were kept
    assert hash_problems(folder, {"files": ["optimizer.pt"]}) == []
    assert hash_problems(folder, entry) == []
    size = (folder / "scheduler.pt").stat().st_size
    (folder / "scheduler.pt").write_bytes(b"short")
    (folder / "optimizer.pt").unlink()
    state = folder / STATE
    state.write_bytes(state.read_bytes().replace(b"4", b"5"))  # same size, other bytes
    assert hash_problems(folder, entry) == [
        "optimizer.pt recorded in the manifest is missing",
        f"scheduler.pt is 5 bytes, the manifest recorded {size}",
        "trainer_state.json sha256 differs from the manifest (bytes changed since the save)",
    ]


def test_hash_problems_come_first_and_alone(tmp_path: Path) -> None:
    folder = checkpoint(tmp_path)
    manifest = Manifest(tmp_path)
    manifest.record(folder, step=4, kind="periodic", plan={})
    (folder / "rng_state.pth").unlink()
    write_state(folder, [])
    assert verify_checkpoint_files(folder, manifest=manifest) == [
        "rng_state.pth recorded in the manifest is missing",
        "trainer_state.json is 2 bytes, the manifest recorded "
        f"{manifest.entry(folder.name)['files'][STATE]['bytes']}",  # type: ignore[index]
    ]
    assert verify_checkpoint_files(folder) == [
        "trainer_state.json is not a JSON object",
        "rng_state.pth missing (the resume would not be exact)",
    ]


def test_files_torch_cannot_load_are_named(tmp_path: Path) -> None:
    folder = checkpoint(tmp_path)
    opt = folder / "optimizer.pt"
    opt.write_bytes(opt.read_bytes()[:-40])  # a save cut short: no zip central directory
    torch.save([1, 2], folder / "scheduler.pt")
    torch.save({"python": 1}, folder / "rng_state_1.pth")
    assert verify_checkpoint_files(folder) == [
        "rng_state_1.pth has no CPU RNG state",
        load_error(opt),
        "scheduler.pt holds a list, not a state dict",
    ]
    # save_only_model=True checkpoints hold no optimizer or scheduler: those are not read, the
    # RNG files Trainer still writes are, and a missing RNG file is no problem there
    assert verify_checkpoint_files(folder, require_optimizer=False) == [
        "rng_state_1.pth has no CPU RNG state"
    ]
    for rng in folder.glob("rng_state*.pth"):
        rng.unlink()
    assert verify_checkpoint_files(folder, require_optimizer=False) == []


def test_only_weights_only_loads_are_accepted(tmp_path: Path) -> None:
    """A pickle that needs arbitrary code to load is refused, as Trainer's loads refuse it."""
    folder = checkpoint(tmp_path)
    torch.save({"cpu": Fraction(1, 2)}, folder / "rng_state.pth")
    (problem,) = verify_checkpoint_files(folder)
    assert problem.startswith(
        "rng_state.pth does not load (UnpicklingError: Weights only load failed"
    )


def test_weights_only_holds_when_the_environment_turns_the_default_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 (set to read old checkpoints) only changes torch.load
    calls that leave weights_only unset: the check must still refuse arbitrary pickles."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    folder = checkpoint(tmp_path)
    torch.save({"cpu": Fraction(1, 2)}, folder / "rng_state.pth")
    (problem,) = verify_checkpoint_files(folder)
    assert problem.startswith(
        "rng_state.pth does not load (UnpicklingError: Weights only load failed"
    )


def gpu_saved(path: Path) -> None:
    """Rewrite a torch.save archive as a GPU run writes it: its storages tagged ``cuda:0``."""
    with zipfile.ZipFile(path) as zin:
        entries = [(name, zin.read(name)) for name in zin.namelist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zout:
        for name, data in entries:
            if name.endswith("/data.pkl"):  # protocol 2: BINUNICODE, 4-byte length
                assert b"X\x03\x00\x00\x00cpu" in data
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            zout.writestr(name, data)


def test_an_optimizer_saved_on_a_gpu_is_checked_on_the_cpu(tmp_path: Path) -> None:
    """A checkpoint synced from a GPU job and verified where no GPU is: loaded onto the CPU."""
    folder = checkpoint(tmp_path)
    opt = folder / "optimizer.pt"
    torch.save({"state": {0: {"exp_avg": torch.ones(3)}}, "param_groups": [{"lr": 0.1}]}, opt)
    gpu_saved(opt)
    if not torch.cuda.is_available():  # the archive really is a GPU one
        with pytest.raises(RuntimeError, match="CUDA device"):
            torch.load(opt, weights_only=True)
    assert verify_checkpoint_files(folder) == []


def test_an_optimizer_state_needs_state_and_param_groups(tmp_path: Path) -> None:
    folder = checkpoint(tmp_path)
    msg = "optimizer.pt is not an optimizer state (no state/param_groups)"
    torch.save({"state": {}}, folder / "optimizer.pt")
    assert verify_checkpoint_files(folder) == [msg]
    torch.save({"param_groups": []}, folder / "optimizer.pt")
    assert verify_checkpoint_files(folder) == [msg]
    torch.save({"state": {}, "param_groups": [], "extra": 1}, folder / "optimizer.pt")
    assert verify_checkpoint_files(folder) == []


def test_weights_that_do_not_load_are_named(tmp_path: Path) -> None:
    folder = checkpoint(tmp_path)
    adapter = folder / "adapter_model.safetensors"
    # a header that promises more tensor bytes than the file holds
    write_safetensors(adapter, {"q.lora_A": 8})
    adapter.write_bytes(adapter.read_bytes()[:-4])
    with pytest.raises(Exception) as raised:
        with safe_open(str(adapter), framework="pt") as fh:
            fh.get_tensor("q.lora_A")
    first = str(raised.value).splitlines()[0]
    expected = (
        f"adapter_model.safetensors does not load ({type(raised.value).__name__}: {first[:60]})"
    )
    assert verify_checkpoint_files(folder) == [expected]

    write_safetensors(adapter, {"q.lora_A": 8})
    full = folder / "model.safetensors"  # a full fine-tune's weights are read too
    full.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{not js}")
    (problem,) = verify_checkpoint_files(folder)
    assert problem.startswith("model.safetensors does not load (")
    full.unlink()
    # .bin weights are a torch pickle that validate_checkpoint sizes; they are not opened here
    (folder / "adapter_model.bin").write_bytes(b"not a safetensors file")
    assert verify_checkpoint_files(folder) == []
