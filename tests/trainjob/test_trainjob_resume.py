"""``trainjob.resume`` on real checkpoint folders: which checkpoint a run resumes from (the broken
ones moved aside, logged and recorded), the refusal of a resume into a changed job, the LoRA
shape read from a checkpoint, and whether a checkpoint already finished the job.

The checkpoints are written the way Trainer writes them (``torch.save`` of state dicts, a
safetensors adapter, ``trainer_state.json``), so the deep check of ``verify`` passes on them;
the ``RunContext`` is built directly from a spec on disk. No training: under a second after the
one-time torch import.
"""

from __future__ import annotations

import json
import locale
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from trainjob_helpers import make_checkpoint, write_spec

from trainjob.checkpoints import CheckpointCheck
from trainjob.errors import RunRefused
from trainjob.manifest import MANIFEST_NAME, Manifest
from trainjob.resume import (
    RESUME_KEYS,
    adapter_plan,
    check_resume,
    choose_resume_point,
    finished,
    is_rank_zero,
)
from trainjob.runcontext import RunContext, RunOptions
from trainjob.signals import EarlyStop


@pytest.fixture(autouse=True)
def single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RANK", raising=False)


def trainer_checkpoint(
    root: Path, step: int, *, max_steps: int = 20, optimizer: bool = True
) -> Path:
    """A checkpoint whose files load the way Trainer loads them on resume."""
    import torch

    folder = make_checkpoint(root, step)
    state = {"global_step": step, "max_steps": max_steps, "log_history": [], "epoch": 0.5}
    (folder / "trainer_state.json").write_text(json.dumps(state))
    if optimizer:
        torch.save({"state": {}, "param_groups": [{"lr": 0.002}]}, folder / "optimizer.pt")
        torch.save({"last_epoch": step}, folder / "scheduler.pt")
        torch.save({"cpu": torch.get_rng_state()}, folder / "rng_state.pth")
    else:  # save_only_model=True: weights and state only
        for name in ("optimizer.pt", "scheduler.pt"):
            (folder / name).unlink()
    return folder


def context(tmp_path: Path, **overrides: Any) -> RunContext:
    loaded_spec = write_spec(tmp_path, output_dir=tmp_path / "out")
    from preflight.spec import load_spec

    options = RunOptions(live=False, training_overrides=overrides)
    return RunContext(load_spec(loaded_spec), options, None, EarlyStop())


def quarantined_dirs(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("quarantine-"))


# -- is_rank_zero --------------------------------------------------------------------------------


def test_rank_zero_is_rank_0_or_a_single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_rank_zero() is True  # no RANK: a single process
    monkeypatch.setenv("RANK", "0")
    assert is_rank_zero() is True
    monkeypatch.setenv("RANK", "1")
    assert is_rank_zero() is False


# -- choose_resume_point -------------------------------------------------------------------------


def test_the_newest_valid_checkpoint_is_chosen_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    trainer_checkpoint(out, 5)
    newest = trainer_checkpoint(out, 10)
    point = choose_resume_point(context(tmp_path), out, Manifest(out))
    assert point.checkpoint is not None and point.checkpoint.path == newest
    assert point.quarantined == []
    assert not (out / MANIFEST_NAME).exists()  # nothing moved aside: the manifest is not rewritten


def test_a_broken_newest_checkpoint_is_moved_aside_logged_and_recorded(
    tmp_path: Path, log_lines: list[str]
) -> None:
    out = tmp_path / "out"
    older = trainer_checkpoint(out, 5)
    broken = trainer_checkpoint(out, 10)
    (broken / "optimizer.pt").unlink()
    (broken / "scheduler.pt").unlink()
    point = choose_resume_point(context(tmp_path), out, Manifest(out))
    assert point.checkpoint is not None and point.checkpoint.path == older
    (moved,) = quarantined_dirs(out)
    assert not broken.exists() and (out / moved / "adapter_model.safetensors").is_file()
    problems = "optimizer.pt missing; scheduler.pt missing"
    assert log_lines == [
        f"WARNING moved aside invalid checkpoint-10 -> {moved} ({problems}); it is kept, "
        "not deleted"
    ]
    saved = json.loads((out / MANIFEST_NAME).read_text())  # saved to disk, not only in memory
    assert saved["checkpoints"]["checkpoint-10"] == {
        "status": "quarantined",
        "detail": f"{moved}: optimizer.pt missing",
    }


def test_bytes_changed_since_the_save_fail_the_deep_check(tmp_path: Path) -> None:
    out = tmp_path / "out"
    older = trainer_checkpoint(out, 5)
    newest = trainer_checkpoint(out, 10)
    manifest = Manifest(out)
    manifest.record(newest, step=10, kind="periodic", plan={})
    config = newest / "adapter_config.json"
    config.write_text(config.read_text().replace("4", "8"))  # same size, other bytes
    point = choose_resume_point(context(tmp_path), out, manifest)
    assert point.checkpoint is not None and point.checkpoint.path == older
    (moved,) = quarantined_dirs(out)
    entry = manifest.entry("checkpoint-10") or {}
    assert entry["status"] == "quarantined"
    assert entry["detail"] == (
        f"{moved}: adapter_config.json sha256 differs from the manifest (bytes changed since "
        "the save)"
    )


def test_a_checkpoint_without_rng_state_is_moved_aside_by_the_deep_check(tmp_path: Path) -> None:
    # the structural check passes it; the resume would not repeat the run (dropout RNG)
    out = tmp_path / "out"
    older = trainer_checkpoint(out, 5)
    (trainer_checkpoint(out, 10) / "rng_state.pth").unlink()
    manifest = Manifest(out)
    point = choose_resume_point(context(tmp_path), out, manifest)
    assert point.checkpoint is not None and point.checkpoint.path == older
    (moved,) = quarantined_dirs(out)
    assert (manifest.entry("checkpoint-10") or {})["detail"] == (
        f"{moved}: rng_state.pth missing (the resume would not be exact)"
    )


def test_save_only_model_checkpoints_need_no_optimizer_or_rng_state(tmp_path: Path) -> None:
    out = tmp_path / "out"
    only_model = trainer_checkpoint(out, 10, optimizer=False)
    point = choose_resume_point(context(tmp_path, save_only_model=True), out, Manifest(out))
    assert point.checkpoint is not None and point.checkpoint.path == only_model
    assert point.quarantined == []
    # the same folder in an ordinary run lacks what an exact resume needs: moved aside
    point = choose_resume_point(context(tmp_path), out, Manifest(out))
    assert point.checkpoint is None and len(point.quarantined) == 1


def test_other_ranks_judge_the_same_but_move_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    older = trainer_checkpoint(out, 5)
    broken = trainer_checkpoint(out, 10)
    (broken / "optimizer.pt").unlink()
    monkeypatch.setenv("RANK", "1")
    point = choose_resume_point(context(tmp_path), out, Manifest(out))
    assert point.checkpoint is not None and point.checkpoint.path == older
    assert broken.is_dir() and quarantined_dirs(out) == []
    assert not (out / MANIFEST_NAME).exists()


# -- check_resume --------------------------------------------------------------------------------

PLAN: dict[str, Any] = {
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "world_size": 1,
    "max_steps": 20,
    "num_train_epochs": 3.0,
    "data_sha256": "ab" * 32,
    "num_examples": 240,
    "max_length": 24,
    "model": "tiny-mistral",
    "dtype": "float32",
    "lora_r": 4,
    "lora_alpha": 8,
    "lora_targets": ["q_proj", "v_proj"],
}
OTHER: dict[str, Any] = {  # a changed value for every key that makes it another job
    "per_device_train_batch_size": 2,
    "gradient_accumulation_steps": 4,
    "world_size": 2,
    "max_steps": 40,
    "num_train_epochs": 1.0,
    "data_sha256": "cd" * 32,
    "max_length": 48,
    "model": "tiny-llama",
    "dtype": "bfloat16",
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_targets": ["q_proj"],
}


def recorded(
    tmp_path: Path, plan: dict[str, Any], **state: Any
) -> tuple[CheckpointCheck, Manifest]:
    """checkpoint-10 recorded in the manifest under ``plan`` (or unrecorded when plan is {})."""
    out = tmp_path / "out"
    folder = make_checkpoint(out, 10)
    if state:
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": 10, **state}))
    manifest = Manifest(out)
    if plan:
        manifest.record(folder, step=10, kind="periodic", plan=plan)
    return CheckpointCheck(path=folder, step=10), manifest


def test_the_same_job_resumes_silently(tmp_path: Path, log_lines: list[str]) -> None:
    check, manifest = recorded(tmp_path, PLAN)
    assert check_resume(check, manifest, dict(PLAN), allow_mismatch=False) is False
    # a key that does not change the job (the count of examples) is not compared
    assert (
        check_resume(check, manifest, {**PLAN, "num_examples": 999}, allow_mismatch=False) is False
    )
    assert log_lines == []


def test_every_key_that_makes_another_job_is_refused_by_name(tmp_path: Path) -> None:
    assert set(OTHER) == set(RESUME_KEYS)
    check, manifest = recorded(tmp_path, PLAN)
    for key in RESUME_KEYS:
        with pytest.raises(RunRefused) as refused:
            check_resume(check, manifest, {**PLAN, key: OTHER[key]}, allow_mismatch=False)
        assert f"plan: {key}: {PLAN[key]!r} -> {OTHER[key]!r}. Resuming" in str(refused.value)


def test_the_refusal_names_every_change_in_order_and_the_ways_out(tmp_path: Path) -> None:
    check, manifest = recorded(tmp_path, PLAN)
    now = {**PLAN, "lora_r": 8, "per_device_train_batch_size": 2, "max_steps": 40}
    with pytest.raises(RunRefused) as refused:
        check_resume(check, manifest, now, allow_mismatch=False)
    assert str(refused.value) == (
        f"{check.path} was trained under a different plan: per_device_train_batch_size: 4 -> 2; "
        "max_steps: 20 -> 40; lora_r: 4 -> 8. Resuming would silently change the job (Trainer "
        "does not check). Restore the spec, use a new output_dir, or pass --allow-mismatch."
    )
    assert refused.value.exit_code == 1


def test_allow_mismatch_resumes_with_a_warning(tmp_path: Path, log_lines: list[str]) -> None:
    check, manifest = recorded(tmp_path, PLAN)
    now = {**PLAN, "max_steps": 40, "max_length": 48}
    assert check_resume(check, manifest, now, allow_mismatch=True) is True
    assert log_lines == [
        "WARNING resuming checkpoint-10 although the job changed (--allow-mismatch): "
        "max_steps: 20 -> 40; max_length: 24 -> 48"
    ]


def test_a_key_the_manifest_plan_lacks_is_not_compared(tmp_path: Path) -> None:
    before = {k: v for k, v in PLAN.items() if k != "dtype"}  # a manifest from an older trainjob
    check, manifest = recorded(tmp_path, before)
    assert (
        check_resume(check, manifest, {**PLAN, "dtype": "bfloat16"}, allow_mismatch=False) is False
    )


def test_the_manifest_plan_wins_over_the_adapter_config(tmp_path: Path) -> None:
    # make_checkpoint's adapter_config.json says r=4; the manifest recorded the plan it ran under
    check, manifest = recorded(tmp_path, {**PLAN, "lora_r": 8})
    assert check_resume(check, manifest, {**PLAN, "lora_r": 8}, allow_mismatch=False) is False


def test_without_a_recorded_plan_the_adapter_config_names_a_changed_lora_r(tmp_path: Path) -> None:
    check, manifest = recorded(tmp_path, {}, max_steps=20)
    manifest.mark("checkpoint-10", "valid")  # an entry, but no plan in it
    with pytest.raises(RunRefused) as refused:
        check_resume(check, manifest, {**PLAN, "lora_r": 8}, allow_mismatch=False)
    assert "different plan: lora_r: 4 -> 8. Resuming" in str(refused.value)


def test_without_a_manifest_the_trainer_state_gives_max_steps(tmp_path: Path) -> None:
    check, manifest = recorded(tmp_path, {}, max_steps=20)
    assert check_resume(check, manifest, {**PLAN, "lora_r": 4}, allow_mismatch=False) is False
    with pytest.raises(RunRefused) as refused:
        check_resume(check, manifest, {**PLAN, "max_steps": 30}, allow_mismatch=False)
    assert "different plan: max_steps: 20 -> 30. Resuming" in str(refused.value)


def test_without_a_manifest_an_epoch_based_plan_does_not_compare_max_steps(
    tmp_path: Path,
) -> None:
    # Trainer wrote the max_steps it computed from the epochs; the plan has none to compare
    check, manifest = recorded(tmp_path, {}, max_steps=180)
    for none in (-1, None):
        assert (
            check_resume(check, manifest, {**PLAN, "max_steps": none}, allow_mismatch=False)
            is False
        )
    with pytest.raises(RunRefused) as refused:
        check_resume(check, manifest, {**PLAN, "max_steps": 0}, allow_mismatch=False)
    assert "max_steps: 180 -> 0" in str(refused.value)


def test_without_a_manifest_the_trainer_state_gives_the_global_batch(tmp_path: Path) -> None:
    # Trainer's train_batch_size is the per-device batch times the processes
    check, manifest = recorded(tmp_path, {}, max_steps=20, train_batch_size=8)
    two = {**PLAN, "world_size": 2}  # 4 x 2 = 8: the same job
    assert check_resume(check, manifest, two, allow_mismatch=False) is False
    one = {**PLAN, "world_size": 1}  # 4 x 1 = 4
    with pytest.raises(RunRefused) as refused:
        check_resume(check, manifest, one, allow_mismatch=False)
    assert "different plan: train_batch_size: 8 -> 4. Resuming" in str(refused.value)
    none = {**PLAN, "world_size": 0}  # no world size known counts as one process: 4
    with pytest.raises(RunRefused):
        check_resume(check, manifest, none, allow_mismatch=False)


def test_without_a_manifest_a_matching_or_unrecorded_batch_passes(tmp_path: Path) -> None:
    check, manifest = recorded(tmp_path, {}, max_steps=20, train_batch_size=4)
    assert check_resume(check, manifest, dict(PLAN), allow_mismatch=False) is False
    check, manifest = recorded(tmp_path / "b", {}, max_steps=20)  # no train_batch_size saved
    assert check_resume(check, manifest, dict(PLAN), allow_mismatch=False) is False


# -- adapter_plan --------------------------------------------------------------------------------


def adapter_config(tmp_path: Path, config: Any) -> Path:
    (tmp_path / "adapter_config.json").write_text(json.dumps(config))
    return tmp_path


def test_adapter_plan_reads_r_alpha_and_sorted_targets(tmp_path: Path) -> None:
    config = {"r": 8, "lora_alpha": 16, "target_modules": ["v_proj", "q_proj"], "peft_type": "LORA"}
    assert adapter_plan(adapter_config(tmp_path, config)) == {
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_targets": ["q_proj", "v_proj"],
    }
    assert adapter_plan(adapter_config(tmp_path, {"lora_alpha": 16.5})) == {"lora_alpha": 16.5}
    assert adapter_plan(adapter_config(tmp_path, {"target_modules": [2, "q"]})) == {
        "lora_targets": ["2", "q"]
    }


def test_adapter_plan_skips_values_of_another_type(tmp_path: Path) -> None:
    config = {"r": "8", "lora_alpha": "16", "target_modules": "all-linear"}
    assert adapter_plan(adapter_config(tmp_path, config)) == {}
    assert adapter_plan(adapter_config(tmp_path, {"r": 8.0})) == {}


def test_adapter_plan_of_a_missing_or_damaged_config_is_empty(tmp_path: Path) -> None:
    assert adapter_plan(tmp_path) == {}  # no adapter_config.json (a full fine-tune)
    (tmp_path / "adapter_config.json").write_text("{not json")
    assert adapter_plan(tmp_path) == {}
    assert adapter_plan(adapter_config(tmp_path, ["r", 8])) == {}
    (tmp_path / "adapter_config.json").unlink()
    (tmp_path / "adapter_config.json").mkdir()  # unreadable as a file: OSError
    assert adapter_plan(tmp_path) == {}


# -- finished ------------------------------------------------------------------------------------


def at_step(tmp_path: Path, step: int, **state: Any) -> CheckpointCheck:
    folder = tmp_path / f"checkpoint-{step}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step, **state}))
    return CheckpointCheck(path=folder, step=step)


def test_finished_at_the_planned_max_steps(tmp_path: Path) -> None:
    # the state's own max_steps (50) is ignored when the plan states one
    assert finished(at_step(tmp_path, 9, max_steps=50), 10, False) is False
    assert finished(at_step(tmp_path, 10, max_steps=50), 10, False) is True
    assert finished(at_step(tmp_path, 11, max_steps=50), 10, False) is True
    assert finished(at_step(tmp_path, 1, max_steps=50), 1, False) is True
    assert finished(at_step(tmp_path, 10, max_steps=50), 10, True) is True  # changed or not


def test_an_epoch_based_plan_ends_at_the_checkpoints_own_max_steps(tmp_path: Path) -> None:
    for planned in (None, 0, -1):  # no max_steps in the plan: Trainer's count from the epochs
        assert finished(at_step(tmp_path, 7, max_steps=8), planned, False) is False
        assert finished(at_step(tmp_path, 8, max_steps=8), planned, False) is True
        assert finished(at_step(tmp_path, 9, max_steps=8), planned, False) is True


def test_an_epoch_based_plan_changed_under_allow_mismatch_is_for_trainer_to_end(
    tmp_path: Path,
) -> None:
    assert finished(at_step(tmp_path, 8, max_steps=8), None, True) is False


def test_a_state_without_max_steps_is_never_finished(tmp_path: Path) -> None:
    assert finished(at_step(tmp_path, 5), None, False) is False
    assert finished(at_step(tmp_path, 5, max_steps=None), None, False) is False
    assert finished(at_step(tmp_path, 5, max_steps=0), -1, False) is False


# -- the JSON files are UTF-8 whatever the locale ----------------------------------------------


@pytest.fixture
def ascii_locale() -> Iterator[None]:
    """LC_CTYPE=C without UTF-8 mode: what ``open()`` without an encoding would decode with."""
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, before)


def test_non_ascii_paths_in_a_checkpoint_are_read_under_any_locale(
    tmp_path: Path, ascii_locale: None
) -> None:
    folder = tmp_path / "checkpoint-8"
    folder.mkdir()
    config = {"r": 8, "base_model_name_or_path": "/données/mistral"}
    (folder / "adapter_config.json").write_bytes(json.dumps(config, ensure_ascii=False).encode())
    state = {"global_step": 8, "max_steps": 8, "best_model_checkpoint": "/données/checkpoint-4"}
    (folder / "trainer_state.json").write_bytes(json.dumps(state, ensure_ascii=False).encode())
    assert adapter_plan(folder) == {"lora_r": 8}
    check = CheckpointCheck(path=folder, step=8)
    assert finished(check, None, False) is True
    plan = {**PLAN, "max_steps": 8, "lora_r": 8}
    assert check_resume(check, Manifest(tmp_path), plan, allow_mismatch=False) is False
