"""``trainjob rehearse``: the seed's "first 2 hours" in two minutes, before the paid run.

It runs the real pipeline of ``trainjob run`` (the spec's data, tokenising and truncation, the
LoRA targets, the checkpoint guard, the SIGTERM save, the resume) on a shallow copy of the model
built from its config, on this machine:

1. train for a few steps, saving every quarter of them (at least every 3 steps);
2. interrupt itself with a real SIGTERM halfway, between two saves, which must produce a valid checkpoint and a
   clean stop;
3. check that checkpoint's files against the sha256 in the manifest;
4. run again, which must resume from exactly that checkpoint and reach the last step with a
   continuous ``global_step``;
5. check the final adapter holds tensors for every LoRA target module;
6. report the SIGTERM save's time (signal to validated checkpoint) against SageMaker's 120 s;
7. run the same job uninterrupted and compare: the interrupted-and-resumed run must log the same
   loss at every step and end on the same adapter, bit for bit (on CPU).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import TrainjobError

log = logging.getLogger("trainjob")

#: Seconds SageMaker waits between SIGTERM and the kill (StopTrainingJob, MaxRuntime, spot).
GRACE_SECONDS = 120.0


@dataclass
class Rehearsal:
    """Each check of a rehearsal and whether it passed."""

    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, ok, detail))
        (log.info if ok else log.error)(
            "rehearse: [%s] %s %s", "OK" if ok else "FAIL", name, detail
        )
        return ok

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)


def _interrupter(at_step: int, wait_seconds: float = 0.0) -> Any:
    """A callback that sends this process a real SIGTERM at the end of ``at_step``; trainjob's
    SignalSave (which runs after it) saves that step's checkpoint and stops."""
    from transformers import TrainerCallback

    class SelfInterrupt(TrainerCallback):
        fired = False

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if not self.fired and state.global_step >= at_step:
                self.fired = True
                os.kill(os.getpid(), signal.SIGTERM)
                if wait_seconds:
                    time.sleep(wait_seconds)

    return SelfInterrupt()


def rehearse(
    spec_path: str | Path,
    *,
    steps: int = 8,
    layers: int = 1,
    rows: int = 64,
    workdir: Path | None = None,
    threads: int | None = None,
) -> Rehearsal:
    """Run the rehearsal; returns every check with its verdict (raises only for unusable input)."""
    from preflight.spec import load_spec

    from .checkpoints import safetensors_problem, validate_checkpoint
    from .manifest import Manifest, sha256_file
    from .run import RunOptions, run_job

    loaded = load_spec(spec_path)
    spec = loaded.spec
    if spec.model is None:
        raise TrainjobError(f"{loaded.path}: model: required for trainjob rehearse")
    data = spec.data
    sample = (data.sample_path or data.train) if data else None
    if sample is None or "://" in sample:
        raise TrainjobError(
            f"{loaded.path}: data.sample_path: rehearse needs a local sample of the data "
            "(data.sample_path, or a local data.train)"
        )
    sample_path = (
        Path(sample) if Path(sample).is_absolute() else loaded.path.resolve().parent / sample
    )

    own_tmp = workdir is None
    root = Path(tempfile.mkdtemp(prefix="trainjob-rehearse-")) if workdir is None else workdir
    if workdir is not None and workdir.exists() and any(workdir.iterdir()):
        raise TrainjobError(
            f"{workdir}: --workdir must be empty or new (nothing there is replaced)"
        )
    out = root / "checkpoints"
    final = root / "final-model"
    save_every = max(steps // 4, 3)
    # Interrupt between two saves, so the SIGTERM save itself is exercised (not skipped), and
    # so the step that runs while it stops is no save step: the resume must start from it.
    interrupt_at = max(steps // 2, 2)
    while interrupt_at % save_every == 0 or (interrupt_at + 1) % save_every == 0:
        interrupt_at += 1
    if interrupt_at + 1 > steps:
        raise TrainjobError(
            f"--steps {steps}: too few to save, interrupt and resume; use 6 or more"
        )
    batch = int(spec.training.get("per_device_train_batch_size") or 8)
    overrides: dict[str, Any] = {
        "max_steps": steps,
        "save_strategy": "steps",
        "save_steps": save_every,
        "logging_steps": 1,
        "gradient_accumulation_steps": 1,
        "per_device_train_batch_size": min(batch, 4),
        "eval_strategy": "no",
        "load_best_model_at_end": False,
        "save_total_limit": None,
    }
    result = Rehearsal()
    base: dict[str, Any] = {
        "gate": False,
        "cost": False,  # it runs here, not on the instance the spec prices
        "output_dir": out,
        "model_dir": final,
        "backup_dir": root / "final-model-backup",
        "shallow_layers": layers,
        "data_limit": rows,
        "data_path": sample_path,
        "training_overrides": overrides,
        "canary_steps": None,
        "canary_minutes": None,
        "watchdog_poll_seconds": 0,
        "threads": threads,
        "live": False,
    }
    log.info(
        "rehearse: %d steps on a %d-layer copy of %s, %d rows of %s, in %s",
        steps,
        layers,
        spec.model.name,
        rows,
        sample_path,
        root,
    )
    try:
        first = run_job(
            loaded.path,
            RunOptions(**base, extra_callbacks=[_interrupter(interrupt_at)]),
        )
        result.add(
            "training runs and saves",
            bool(first.checkpoints),
            f"{len(first.checkpoints)} checkpoint(s) by step {first.global_step}; {first.truncation}",
        )
        stopped = first.outcome == "stopped" and first.sigterm_checkpoint is not None
        result.add(
            "SIGTERM saves a checkpoint and stops cleanly",
            stopped,
            f"outcome {first.outcome}, {first.sigterm_checkpoint or 'no SIGTERM checkpoint'}",
        )
        if not stopped:
            return result
        ckpt = out / str(first.sigterm_checkpoint)
        check = validate_checkpoint(ckpt)
        result.add("the SIGTERM checkpoint is valid", check.valid, "; ".join(check.problems))
        entry = Manifest(out).entry(ckpt.name) or {}
        files = entry.get("files", {})
        same = bool(files) and all(
            sha256_file(ckpt / name) == info["sha256"] for name, info in files.items()
        )
        result.add("its files match the manifest's sha256", same, f"{len(files)} files")

        second = run_job(loaded.path, RunOptions(**base))
        result.add(
            "resume starts from that checkpoint",
            second.resumed_from == ckpt.name,
            f"resumed from {second.resumed_from}",
        )
        state_file = out / f"checkpoint-{steps}" / "trainer_state.json"
        logged: list[int] = []
        if state_file.is_file():
            history = json.loads(state_file.read_text(encoding="utf-8"))["log_history"]
            logged = [e["step"] for e in history if "loss" in e]
        result.add(
            "global_step is continuous to max_steps",
            second.outcome == "completed" and logged == list(range(1, steps + 1)),
            f"reached {second.global_step}/{steps}; logged steps {_ranges(logged)}",
        )
        adapter = final / "adapter_model.safetensors"
        problem = safetensors_problem(adapter) if adapter.is_file() else "missing"
        targets = spec.lora.target_modules if spec.lora else []
        names = _tensor_names(adapter) if problem is None else []
        missing = [t for t in targets if t != "all-linear" and not any(t in n for n in names)]
        result.add(
            "final adapter saved with every LoRA target",
            problem is None and not missing,
            problem or (f"no tensors for {missing}" if missing else f"{len(names)} tensors"),
        )
        seconds = first.sigterm_save_seconds
        result.add(
            "the SIGTERM save fits SageMaker's 120 s window",
            seconds is not None and seconds < GRACE_SECONDS,
            f"{seconds:.2f} s from signal to validated checkpoint on this copy; it grows with the "
            "checkpoint's bytes (preflight PF214 estimates the full job's)"
            if seconds is not None
            else "not measured",
        )
        # The same job, never interrupted: the resumed run must repeat it exactly.
        plain = root / "uninterrupted"
        plain_base = {
            **base,
            "output_dir": plain / "checkpoints",
            "model_dir": plain / "final-model",
            "backup_dir": None,
        }
        reference = run_job(loaded.path, RunOptions(**plain_base))
        same, detail = compare_runs(
            out / f"checkpoint-{steps}", plain / "checkpoints" / f"checkpoint-{steps}",
            adapter, plain / "final-model" / "adapter_model.safetensors",
        )  # fmt: skip
        result.add(
            "interrupted-and-resumed equals uninterrupted",
            reference.outcome == "completed" and same,
            detail,
        )
    finally:
        if own_tmp:
            shutil.rmtree(root, ignore_errors=True)
    return result


def loss_trajectory(checkpoint: Path) -> list[tuple[int, float]]:
    """(step, loss) for every logged step, from a checkpoint's trainer_state.json."""
    state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    return [(e["step"], e["loss"]) for e in state.get("log_history", []) if "loss" in e]


def tensor_sha256(path: Path) -> str:
    """sha256 over every tensor's name and bytes (not the file: metadata may differ)."""
    import hashlib

    from safetensors.numpy import load_file

    tensors = load_file(str(path))
    digest = hashlib.sha256()
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(tensors[key].tobytes())
    return digest.hexdigest()


def compare_runs(
    resumed_ckpt: Path, plain_ckpt: Path, resumed_adapter: Path, plain_adapter: Path
) -> tuple[bool, str]:
    """Whether two runs logged the same losses at every step and ended on the same adapter."""
    try:
        a, b = loss_trajectory(resumed_ckpt), loss_trajectory(plain_ckpt)
        ha, hb = tensor_sha256(resumed_adapter), tensor_sha256(plain_adapter)
    except (OSError, ValueError, KeyError) as exc:
        return False, f"cannot compare: {exc}"
    if a != b:
        diff = next(
            (x, y) for x, y in zip(a + [(-1, 0.0)], b + [(-1, 0.0)], strict=False) if x != y
        )
        return False, f"loss trajectories differ from step {diff[0][0]}: {diff[0]} vs {diff[1]}"
    if ha != hb:
        return False, f"same losses over {len(a)} steps, but the final adapters differ"
    return True, f"losses identical at all {len(a)} steps; final adapter sha256 {ha[:12]} in both"


def _tensor_names(path: Path) -> list[str]:
    import struct

    with path.open("rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
    return [k for k in header if k != "__metadata__"]


def _ranges(steps: list[int]) -> str:
    if not steps:
        return "none"
    return f"{steps[0]}..{steps[-1]} ({len(steps)} entries)"


def rehearse_and_report(spec_path: str | Path, **kwargs: Any) -> int:
    """CLI wrapper: 0 when every check passed, 1 when one failed, 2 for unusable input."""
    from preflight.spec import SpecError

    from .logs import setup_console_logging

    setup_console_logging(live=False)
    started = time.monotonic()
    try:
        result = rehearse(spec_path, **kwargs)
    except SpecError as exc:
        for issue in exc.issues:
            log.error("%s", issue)
        return 2
    except TrainjobError as exc:
        log.error("%s", exc)
        return exc.exit_code
    took = time.monotonic() - started
    from rich.table import Table

    from .progress import console

    table = Table(title=f"trainjob rehearse {spec_path} ({took:.0f} s)")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail")
    for name, ok, detail in result.checks:
        table.add_row(name, "[green]pass" if ok else "[red]FAIL", detail)
    console().print(table)
    return 0 if result.passed else 1
