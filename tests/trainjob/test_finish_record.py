"""Phase 5 of a run without training: ``finish()`` with a small duck-typed trainer whose
``save_model`` writes real files, a RunContext built from a real spec, and the record, the
checkpoint list and the failure line read back from disk and from the ``trainjob`` log."""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import re
import time
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from trainjob_helpers import make_checkpoint, write_spec

from preflight.spec import load_spec
from trainjob.checkpoints import human_bytes
from trainjob.data import Tokenized
from trainjob.finish import (
    RECORDED_DISTS,
    _versions,
    check_final_dir,
    final_is_complete,
    final_save_failure,
    finish,
    list_checkpoint_rows,
    record,
)
from trainjob.gate import GateResult
from trainjob.manifest import Manifest
from trainjob.runcontext import RunContext, RunOptions, RunResult
from trainjob.sm_env import SageMakerEnv

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TORCH_FULL = (
    "PytorchStreamWriter failed writing file data/0: file write failed"  # torch.save, full disk
)


class Trainer:
    """The part of transformers.Trainer that finish() uses: ``state`` and ``save_model``.

    ``save_model`` writes an adapter the way Trainer does (it creates the folder), only under
    ``root``, and raises ``fail`` for the folders named in ``fail_in``."""

    def __init__(
        self,
        root: Path,
        step: int,
        max_steps: int = 8,
        *,
        main: bool = True,
        fail: BaseException | None = None,
        fail_in: tuple[Path, ...] = (),
    ) -> None:
        self.root = root
        self.state = SimpleNamespace(
            global_step=step, max_steps=max_steps, is_world_process_zero=main
        )
        self.saved: list[str] = []
        self.fail = fail
        self.fail_in = fail_in
        self.main = main

    def save_model(self, output_dir: str) -> None:
        self.saved.append(output_dir)
        path = Path(output_dir)
        assert path.is_absolute() and self.root in path.parents, output_dir
        if self.fail is not None and path.parent in self.fail_in:
            raise self.fail
        if not self.main:
            return  # Trainer writes on rank 0 only
        path.mkdir(parents=True, exist_ok=True)
        (path / "adapter_model.safetensors").write_bytes(
            b"weights of step %d" % self.state.global_step
        )
        (path / "adapter_config.json").write_text('{"r": 4}')


class Tokenizer:
    def save_pretrained(self, output_dir: str) -> None:
        (Path(output_dir) / "tokenizer.json").write_text('{"model": {}}')


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_spec(write_spec(tmp_path_factory.mktemp("spec")))


@pytest.fixture(scope="module")
def loaded_full(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A full fine-tune: the same spec without a ``lora`` section."""
    folder = tmp_path_factory.mktemp("full")
    spec = json.loads(write_spec(folder).read_text())
    del spec["lora"]
    path = folder / "full.yaml"
    path.write_text(json.dumps(spec))
    return load_spec(path)


def lines(records: list[logging.LogRecord], level: int | None = None) -> list[str]:
    return [r.getMessage() for r in records if level is None or r.levelno == level]


def tokenized() -> Tokenized:
    return Tokenized(examples=[{"input_ids": [1, 2]}] * 4, truncated=1, max_length=2, tokens=8)


def run_finish(
    ctx: RunContext, trainer: Trainer, out: Path, dirs: tuple[Path | None, Path | None], **kw: Any
) -> RunResult:
    return finish(
        ctx, kw.pop("outcome", "completed"), trainer, out, dirs[0], dirs[1], Manifest(out),
        kw.pop("resumed_from", None), kw.pop("quarantined", []), tokenized(), Tokenizer(),
        trained=kw.pop("trained", True), **kw,
    )  # fmt: skip


def attempts(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "trainjob-run.json").read_text())["attempts"]  # type: ignore[no-any-return]


def test_final_model_and_backup_written_and_the_attempt_recorded(
    tmp_path: Path, loaded: Any, logged: list[logging.LogRecord]
) -> None:
    out, model, backup = tmp_path / "out", tmp_path / "model", tmp_path / "backup"
    out.mkdir()
    ctx = RunContext(loaded, RunOptions(), None, None)
    trainer = Trainer(tmp_path, 6)
    result = run_finish(ctx, trainer, out, (model, backup), outcome="stopped")
    assert trainer.saved == [str(model / ".trainjob-staging"), str(backup / ".trainjob-staging")]
    for target in (model, backup):
        assert sorted(p.name for p in target.iterdir()) == [
            "adapter_config.json",
            "adapter_model.safetensors",
            "tokenizer.json",
            "trainjob-final.json",
        ]
        assert (target / "adapter_model.safetensors").read_bytes() == b"weights of step 6"
        assert final_is_complete(target, 6)
        assert json.loads((target / "trainjob-final.json").read_text())["outcome"] == "stopped"
    assert result.final_model_dir == model  # the first folder saved, not the backup
    assert result.final_save_failures == []
    assert (result.outcome, result.global_step, result.max_steps) == ("stopped", 6, 8)
    assert result.output_dir == out
    assert result.truncation == tokenized().report()
    assert result.sigterm_checkpoint is None and result.sigterm_save_seconds is None
    assert lines(logged)[:2] == [
        f"final adapter and tokenizer saved to {model} (step 6)",
        f"final adapter and tokenizer saved to {backup} (step 6)",
    ]
    (only,) = attempts(out)
    assert only["final_model_dir"] == str(model)
    assert only["outcome"] == "stopped"


def test_a_full_fine_tune_is_logged_as_a_model(
    tmp_path: Path, loaded_full: Any, logged: list[logging.LogRecord]
) -> None:
    out, model = tmp_path / "out", tmp_path / "model"
    out.mkdir()
    ctx = RunContext(loaded_full, RunOptions(), None, None)
    result = run_finish(ctx, Trainer(tmp_path, 1), out, (model, None))
    assert lines(logged)[0] == f"final model and tokenizer saved to {model} (step 1)"
    assert result.final_model_dir == model
    assert final_is_complete(model, 1)


def test_no_model_dir_still_writes_the_backup(tmp_path: Path, loaded: Any) -> None:
    out, backup = tmp_path / "out", tmp_path / "backup"
    out.mkdir()
    ctx = RunContext(loaded, RunOptions(), None, None)
    result = run_finish(ctx, Trainer(tmp_path, 3), out, (None, backup))
    assert result.final_model_dir == backup
    assert final_is_complete(backup, 3)


@pytest.mark.parametrize(("step", "trained"), [(0, True), (5, False)])
def test_nothing_trained_saves_no_final_model(
    tmp_path: Path, loaded: Any, step: int, trained: bool
) -> None:
    out, model = tmp_path / "out", tmp_path / "model"
    out.mkdir()
    ctx = RunContext(loaded, RunOptions(), None, None)
    trainer = Trainer(tmp_path, step)
    result = run_finish(ctx, trainer, out, (model, None), trained=trained)
    assert trainer.saved == [] and not model.exists()
    assert result.final_model_dir is None
    assert attempts(out)[0]["final_model_dir"] is None  # the attempt is recorded all the same


def test_other_ranks_join_the_save_but_write_nothing_and_keep_no_record(
    tmp_path: Path, loaded: Any
) -> None:
    out, model, backup = tmp_path / "out", tmp_path / "model", tmp_path / "backup"
    out.mkdir()
    ctx = RunContext(loaded, RunOptions(), None, None)
    trainer = Trainer(tmp_path, 6, main=False)
    result = run_finish(ctx, trainer, out, (model, backup))
    # save_model gathers across ranks (FSDP/DeepSpeed): every rank calls it, for both folders
    assert trainer.saved == [str(model / ".trainjob-staging"), str(backup / ".trainjob-staging")]
    assert not model.exists() and not backup.exists()
    assert result.final_model_dir is None
    assert not (out / "trainjob-run.json").exists()


def test_a_failed_final_save_is_reported_and_the_backup_still_written(
    tmp_path: Path, loaded: Any, logged: list[logging.LogRecord]
) -> None:
    out, model, backup = tmp_path / "out", tmp_path / "model", tmp_path / "backup"
    out.mkdir()
    ctx = RunContext(loaded, RunOptions(), None, None)
    trainer = Trainer(tmp_path, 6, fail=RuntimeError(TORCH_FULL), fail_in=(model,))
    result = run_finish(ctx, trainer, out, (model, backup))
    expected = final_save_failure(model, RuntimeError(TORCH_FULL), out)
    assert result.final_save_failures == [expected]
    assert lines(logged, logging.ERROR) == [expected]
    assert result.final_model_dir == backup
    assert final_is_complete(backup, 6)
    assert not final_is_complete(model, 6)
    check_final_dir(model)  # what the failure line promises: nothing that blocks a rerun
    assert attempts(out)[0]["final_model_dir"] == str(backup)


def test_failure_lines_name_the_folder_the_reason_and_what_is_safe(tmp_path: Path) -> None:
    tail = (
        "; it holds no half-written copy that blocks a rerun, and the checkpoints in "
        f"{tmp_path / 'out'} are intact: free space or fix permissions and run again (it "
        "resumes and writes the final model)"
    )
    model = tmp_path / "model"
    assert final_save_failure(model, RuntimeError(TORCH_FULL + "\nmore"), tmp_path / "out") == (
        f"could not save the final model to {model} (disk full: {TORCH_FULL})" + tail
    )
    denied = PermissionError(13, "Permission denied")
    assert final_save_failure(model, denied, tmp_path / "out") == (
        f"could not save the final model to {model} (not writable: [Errno 13] Permission denied)"
        + tail
    )
    assert final_save_failure(model, ValueError("bad\nworse"), tmp_path / "out") == (
        f"could not save the final model to {model} (ValueError: bad)" + tail
    )


def test_the_record_holds_every_field_of_the_attempt(tmp_path: Path, loaded: Any) -> None:
    out = tmp_path / "out"
    out.mkdir()
    gate = GateResult(errors=1, warnings=2, report_sha256="ab" * 32, forced=True, reason="why")
    sm = SageMakerEnv(checkpoint_dir=out, model_dir=tmp_path / "m", output_data_dir=tmp_path / "o")
    ctx = RunContext(loaded, RunOptions(sagemaker=sm), gate, None)
    ctx.sigterm_step, ctx.sigterm_save_seconds = 6, 1.5
    saved = make_checkpoint(out, 6)
    manifest = Manifest(out)
    manifest.record(saved, step=6, kind="sigterm", plan={})
    manifest.save()  # finish() reads the manifest the run kept on disk
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result = run_finish(
        ctx, Trainer(tmp_path, 6), out, (None, None), outcome="failed", resumed_from="checkpoint-4",
        quarantined=["quarantine-checkpoint-5-x"], error=RuntimeError("boom\nsecond line"),
    )  # fmt: skip
    after = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    assert result.sigterm_checkpoint == "checkpoint-6"
    assert result.sigterm_save_seconds == 1.5
    spec = Path(loaded.path)
    (attempt,) = attempts(out)
    assert before <= attempt.pop("finished_at") <= after  # ISO-8601 UTC sorts as text
    assert attempt == {
        "started_at": ctx.started_at,
        "spec": str(spec),
        "spec_sha256": hashlib.sha256(spec.read_bytes()).hexdigest(),
        "gate": gate.to_json(),
        "outcome": "failed",
        "error": "RuntimeError: boom",
        "global_step": 6,
        "max_steps": 8,
        "resumed_from": "checkpoint-4",
        "sigterm_checkpoint": "checkpoint-6",
        "sigterm_save_seconds": 1.5,
        "quarantined": ["quarantine-checkpoint-5-x"],
        "checkpoints": [
            {
                "name": "checkpoint-6",
                "bytes": sum(f.stat().st_size for f in saved.iterdir()),
                "status": "valid",
                "kind": "sigterm",
            }
        ],
        "final_model_dir": None,
        "truncation": tokenized().report(),
        "sagemaker": True,
        "versions": _versions(),
    }
    text = (out / "trainjob-run.json").read_text()
    assert text == json.dumps(json.loads(text), indent=1)  # kept readable: one key a line


def test_record_appends_and_keeps_a_damaged_record_aside(tmp_path: Path, loaded: Any) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ctx = RunContext(loaded, RunOptions(), None, None)
    run_finish(ctx, Trainer(tmp_path, 2), out, (None, None))
    run_finish(ctx, Trainer(tmp_path, 4), out, (None, None))
    assert list(json.loads((out / "trainjob-run.json").read_text())) == ["attempts"]
    first, second = attempts(out)
    assert (first["global_step"], second["global_step"]) == (2, 4)
    assert first["gate"] == {"skipped": True} and first["sagemaker"] is False
    assert first["error"] is None and STAMP.match(first["finished_at"])

    (out / "trainjob-run.json").write_text('{"attempts": [{"outc')  # a torn hand edit
    t0 = int(time.time())
    run_finish(ctx, Trainer(tmp_path, 5), out, (None, None))
    t1 = int(time.time())
    aside = [p for p in out.iterdir() if p.name.startswith("trainjob-run.json.damaged-")]
    assert len(aside) == 1 and aside[0].read_text() == '{"attempts": [{"outc'
    assert t0 <= int(aside[0].name.rsplit("-", 1)[1]) <= t1
    assert [a["global_step"] for a in attempts(out)] == [5]

    (out / "trainjob-run.json").write_text('{"note": "mine"}')  # valid JSON, no attempts yet
    run_finish(ctx, Trainer(tmp_path, 6), out, (None, None))
    data = json.loads((out / "trainjob-run.json").read_text())
    assert data["note"] == "mine" and [a["global_step"] for a in data["attempts"]] == [6]


def test_records_of_another_shape_and_two_damaged_in_one_second_are_all_kept(
    tmp_path: Path, loaded: Any
) -> None:
    """JSON that is not an object (a hand-written list) is kept aside like a torn file, and a
    second damaged record in the same second does not overwrite the first one kept aside."""
    out = tmp_path / "out"
    out.mkdir()
    ctx = RunContext(loaded, RunOptions(), None, None)
    bodies = ['[{"outcome": "mine"}]', '{"attempts": [{"outc']
    for step, body in enumerate(bodies, start=1):
        (out / "trainjob-run.json").write_text(body)
        run_finish(ctx, Trainer(tmp_path, step), out, (None, None))
        assert [a["global_step"] for a in attempts(out)] == [step]
    aside = [p for p in out.iterdir() if p.name.startswith("trainjob-run.json.damaged-")]
    assert sorted(p.read_text() for p in aside) == sorted(bodies)


def test_a_spec_gone_since_the_start_is_recorded_without_a_hash(
    tmp_path: Path, loaded: Any
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ctx = RunContext(loaded, RunOptions(), None, None)
    result = RunResult("completed", 1, 1, out, None, None, [], [], None)
    ctx.loaded = SimpleNamespace(path=str(tmp_path / "gone.yaml"))
    record(ctx, result, None)
    assert attempts(out)[0]["spec_sha256"] is None
    assert attempts(out)[0]["spec"] == str(tmp_path / "gone.yaml")


def test_a_record_that_cannot_be_written_is_logged_not_raised(
    tmp_path: Path, loaded: Any, logged: list[logging.LogRecord]
) -> None:
    out = tmp_path / "out"
    (out / "trainjob-run.json").mkdir(parents=True)  # a folder where the record goes
    ctx = RunContext(loaded, RunOptions(), None, None)
    result = run_finish(ctx, Trainer(tmp_path, 2), out, (None, None))
    assert result.global_step == 2
    (line,) = lines(logged, logging.ERROR)
    assert line.startswith("could not write trainjob-run.json: [Errno 21] Is a directory")


def test_checkpoint_rows_and_the_listing(tmp_path: Path, logged: list[logging.LogRecord]) -> None:
    out = tmp_path / "out"
    valid = make_checkpoint(out, 10)
    unknown = make_checkpoint(out, 2)
    (out / "quarantine-checkpoint-7-truncated").mkdir()
    (out / "quarantine-checkpoint-3-bad").mkdir()
    manifest = Manifest(out)
    manifest.record(valid, step=10, kind="periodic", plan={})
    size = {p.name: sum(f.stat().st_size for f in p.iterdir()) for p in (valid, unknown)}
    rows = list_checkpoint_rows(out, manifest)
    assert rows == [
        {"name": "checkpoint-2", "bytes": size["checkpoint-2"], "status": "not recorded", "kind": None},
        {"name": "checkpoint-10", "bytes": size["checkpoint-10"], "status": "valid", "kind": "periodic"},
    ]  # fmt: skip
    assert lines(logged) == [
        "=" * 72,
        f"SAVED CHECKPOINTS in {out}:",
        f"  [??] checkpoint-2 ({human_bytes(size['checkpoint-2'])}, not recorded)",
        f"  [OK] checkpoint-10 ({human_bytes(size['checkpoint-10'])}, valid)",
        "  [--] quarantine-checkpoint-3-bad (moved aside, kept)",
        "  [--] quarantine-checkpoint-7-truncated (moved aside, kept)",
        "Total checkpoints preserved: 2",
    ]


def test_versions_name_each_distribution_or_none() -> None:
    found = _versions()
    assert list(found) == ["python", *RECORDED_DISTS]
    assert found["python"] == platform.python_version()
    for dist in RECORDED_DISTS:
        assert found[dist] == metadata.version(dist)
    assert _versions(("no-such-distribution-xyz",)) == {
        "python": platform.python_version(),
        "no-such-distribution-xyz": None,
    }
