"""Phase 5 of a run, whatever happened before it: the final model and its backup, the list of
checkpoints, and this attempt appended to ``trainjob-run.json``."""

from __future__ import annotations

import json
import logging
import platform
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

from .atomic import TMP_SUFFIX, atomic_write_json, publish_folder
from .checkpoints import checkpoint_step, folder_bytes, human_bytes, list_checkpoints
from .diskerrors import disk_problem, first_line
from .errors import RunRefused
from .manifest import Manifest, keep_aside, sha256_file
from .runcontext import FINAL_MARKER, RECORD_NAME, RunContext, RunResult, now_utc

log = logging.getLogger("trainjob")


def finish(
    ctx: RunContext,
    outcome: str,
    trainer: Any,
    output_dir: Path,
    model_dir: Path | None,
    backup_dir: Path | None,
    manifest: Manifest,
    resumed_from: str | None,
    quarantined: list[str],
    tokenized: Any,
    tokenizer: Any,
    *,
    trained: bool,
    error: BaseException | None = None,
) -> RunResult:
    """The seed's ``finally``: save the final adapter twice, list checkpoints, keep a record."""
    state = trainer.state
    saved_to: Path | None = None
    is_main = state.is_world_process_zero
    failures: list[str] = []
    if trained and state.global_step > 0:
        for target in (model_dir, backup_dir):
            if target is None:
                continue
            try:
                if not is_main:
                    # every rank calls save_model (FSDP/DeepSpeed gather); it writes on rank 0
                    trainer.save_model(str(target / STAGING))
                    continue

                def write(staging: Path) -> None:
                    trainer.save_model(str(staging))
                    tokenizer.save_pretrained(str(staging))

                write_final_dir(target, write, step=state.global_step, outcome=outcome)
                log.info(
                    "final %s and tokenizer saved to %s (step %d)",
                    "adapter" if ctx.spec.lora else "model",
                    target,
                    state.global_step,
                )
                saved_to = saved_to or target
            except Exception as exc:
                failures.append(final_save_failure(target, exc, output_dir))
                log.error(failures[-1])  # a finished line: no arguments to format
    rows = list_checkpoint_rows(output_dir, manifest)
    result = RunResult(
        outcome=outcome,
        global_step=state.global_step,
        max_steps=state.max_steps,
        output_dir=output_dir,
        resumed_from=resumed_from,
        sigterm_checkpoint=f"checkpoint-{ctx.sigterm_step}"
        if ctx.sigterm_step is not None
        else None,
        checkpoints=rows,
        quarantined=quarantined,
        final_model_dir=saved_to,
        truncation=tokenized.report(),
        sigterm_save_seconds=ctx.sigterm_save_seconds,
    )
    result.final_save_failures = failures
    if is_main:
        try:
            record(ctx, result, error)
        except OSError as exc:
            log.error("could not write %s: %s", RECORD_NAME, first_line(exc))
    return result


def final_save_failure(target: Path, exc: BaseException, output_dir: Path) -> str:
    """One line for a final-model save that failed: the path, the reason, what is safe."""
    kind = disk_problem(exc)
    what = {"full": "disk full", "read-only": "not writable", None: type(exc).__name__}[kind]
    return (
        f"could not save the final model to {target} ({what}: {first_line(exc)}); it holds no "
        f"half-written copy that blocks a rerun, and the checkpoints in {output_dir} are intact: "
        "free space or fix permissions and run again (it resumes and writes the final model)"
    )


def list_checkpoint_rows(output_dir: Path, manifest: Manifest) -> list[dict[str, Any]]:
    rows = []
    log.info("=" * 72)
    log.info("SAVED CHECKPOINTS in %s:", output_dir)
    for path in list_checkpoints(output_dir):
        size = folder_bytes(path)
        entry = manifest.entry(path.name) or {}
        status = entry.get("status", "not recorded")
        rows.append({"name": path.name, "bytes": size, "status": status, "kind": entry.get("kind")})
        mark = "[OK]" if status == "valid" else "[??]"
        log.info("  %s %s (%s, %s)", mark, path.name, human_bytes(size), status)
    for path in sorted(output_dir.glob("quarantine-checkpoint-*")):
        log.info("  [--] %s (moved aside, kept)", path.name)
    log.info("Total checkpoints preserved: %d", len(rows))
    return rows


def record(ctx: RunContext, result: RunResult, error: BaseException | None) -> None:
    path = result.output_dir / RECORD_NAME
    data = _read_record(path) if path.is_file() else {}
    if data is None:  # torn, or JSON of another shape: kept aside, never lost
        keep_aside(path)
        data = {}
    spec_file = Path(ctx.loaded.path)
    data.setdefault("attempts", []).append(
        {
            "started_at": ctx.started_at,
            "finished_at": now_utc(),
            "spec": str(spec_file),
            "spec_sha256": _sha256_bytes(spec_file.read_bytes()) if spec_file.is_file() else None,
            "gate": ctx.gate.to_json() if ctx.gate is not None else {"skipped": True},
            "outcome": result.outcome,
            "error": f"{type(error).__name__}: {first_line(error)}" if error else None,
            "global_step": result.global_step,
            "max_steps": result.max_steps,
            "resumed_from": result.resumed_from,
            "sigterm_checkpoint": result.sigterm_checkpoint,
            "sigterm_save_seconds": result.sigterm_save_seconds,
            "quarantined": result.quarantined,
            "checkpoints": result.checkpoints,
            "final_model_dir": str(result.final_model_dir) if result.final_model_dir else None,
            "truncation": result.truncation,
            "sagemaker": ctx.sm is not None,
            "versions": _versions(),
        }
    )
    atomic_write_json(path, data, indent=1)


STAGING = ".trainjob-staging"


def _read_record(path: Path) -> dict[str, Any] | None:
    """The run record trainjob wrote (UTF-8 JSON, an object), or None when it is not one."""
    try:
        data = json.loads(path.read_bytes())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def write_final_dir(target: Path, write: Any, *, step: int, outcome: str) -> None:
    """Fill ``target`` so that a kill at any instant leaves a folder a rerun accepts.

    The marker ``trainjob-final.json`` says "writing" (atomically) before the first file and
    "complete", with every file's sha256, after the last; files are written into a staging
    subfolder by ``write(staging)`` and renamed into place one by one (same filesystem, so each
    rename is atomic). ``target`` itself is never renamed: ``SM_MODEL_DIR`` may be a mount point.
    """
    target.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        target / FINAL_MARKER, {"status": "writing", "global_step": step, "at": now_utc()}
    )
    staging = target / STAGING
    if staging.exists():
        shutil.rmtree(staging)  # a killed attempt's half-made copy: trainjob's own
    staging.mkdir()
    write(staging)
    publish_folder(staging, target)
    files = {
        p.name: sha256_file(p)
        for p in sorted(target.iterdir())
        if p.is_file() and p.name != FINAL_MARKER and not p.name.endswith(TMP_SUFFIX)
    }
    atomic_write_json(
        target / FINAL_MARKER,
        {
            "status": "complete",
            "global_step": step,
            "outcome": outcome,
            "at": now_utc(),
            "files": files,
        },
        indent=1,
    )


def final_is_complete(target: Path, step: int) -> bool:
    """True when ``target`` holds the complete final model of ``step`` (hashes checked)."""
    try:
        marker = json.loads((target / FINAL_MARKER).read_bytes())  # UTF-8 JSON, ours
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("status", "complete") != "complete":
        return False
    if marker.get("global_step") != step or not isinstance(marker.get("files"), dict):
        return False
    return all(
        (target / name).is_file() and sha256_file(target / name) == digest
        for name, digest in marker["files"].items()
    )


def copy_final(checkpoint: Path, targets: list[Path]) -> None:
    """Make sure the final dirs hold the finished checkpoint's adapter and tokenizer.

    A final dir that a kill left "writing", or whose files no longer match its marker, is
    rewritten from the checkpoint; a complete one of the same step is left alone."""
    step = checkpoint_step(checkpoint)
    if step is None:
        raise ValueError(f"{checkpoint} is not a checkpoint-<step> folder")
    for target in targets:
        if final_is_complete(target, step):
            continue

        def write(staging: Path) -> None:
            for file in checkpoint.iterdir():
                if file.is_file() and (
                    file.name.startswith(("adapter_", "tokenizer", "special_tokens"))
                    or file.name in ("config.json", "model.safetensors", "chat_template.jinja")
                ):
                    shutil.copy2(file, staging / file.name)

        write_final_dir(target, write, step=step, outcome="completed")
        log.info("final adapter copied from %s to %s", checkpoint.name, target)


def check_final_dir(path: Path) -> None:
    """Never overwrite a folder trainjob did not write: refuse before training, not after.

    A folder holding ``trainjob-final.json`` is trainjob's, whatever state a kill left it in
    (the marker is written, atomically, before the first file)."""
    if not path.is_dir() or (path / FINAL_MARKER).is_file():
        return
    # a kill while the marker itself was first written leaves only trainjob's temporary sibling
    foreign = [p for p in path.iterdir() if p.name != STAGING and not p.name.endswith(TMP_SUFFIX)]
    if foreign:
        raise RunRefused(
            f"{path} already holds files that trainjob did not write; the final model would "
            "overwrite them. Choose another --model-dir/--backup-dir or move them."
        )


def _sha256_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# the distributions whose versions decide whether a rerun reproduces this attempt
RECORDED_DISTS = ("preflight-toolkit", "torch", "transformers", "peft", "accelerate", "tokenizers")


def _versions(dists: tuple[str, ...] = RECORDED_DISTS) -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in dists:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out
