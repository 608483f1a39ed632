"""The grace window and the price of a verified resume, measured on the tiny model.

- SIGTERM to validated checkpoint: a real SIGTERM at a step end of ``examples/tiny-local.yaml``
  (LoRA r=8, tiny-mistral), timed by trainjob's SignalSave (signal, end of step, Trainer's
  save, CheckpointGuard's validation and manifest sha256) and recorded in trainjob-run.json as
  ``sigterm_save_seconds``.
- Resume overhead: the deep verification a resume runs on the checkpoint it picks
  (``trainjob.verify.verify_checkpoint_files``: manifest sha256 plus torch.load of rng, optimizer
  and scheduler, safetensors load, trainer_state shape), and sha256 throughput, which is what it
  costs per GB on a full fine-tune's checkpoint.

    .venv/bin/python benchmarks/trainjob/bench_faults.py [--repeats 5]

Writes faults_results.json and faults_results.md next to this file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def sigterm_runs(work: Path, repeats: int) -> list[float]:
    import torch

    from trainjob.rehearse import _interrupter
    from trainjob.run import RunOptions, run_job

    torch.set_num_threads(1)
    out = []
    for i in range(repeats):
        result = run_job(
            REPO / "examples" / "tiny-local.yaml",
            RunOptions(
                gate=False,
                cost=False,
                live=False,
                output_dir=work / f"sig-{i}",
                canary_steps=None,
                canary_minutes=None,
                watchdog_poll_seconds=0,
                threads=1,
                extra_callbacks=[_interrupter(5 + 7 * i)],  # between the 20-step saves
            ),
        )
        assert result.outcome == "stopped" and result.sigterm_save_seconds is not None
        out.append(result.sigterm_save_seconds)
    return out


def verify_cost(work: Path, repeats: int) -> dict[str, Any]:
    from trainjob.checkpoints import folder_bytes, validate_checkpoint
    from trainjob.manifest import Manifest
    from trainjob.verify import verify_checkpoint_files

    folder = sorted((work / "sig-0").glob("checkpoint-*"))[0]
    manifest = Manifest(work / "sig-0")
    shallow, deep = [], []
    for _ in range(repeats * 4):
        started = time.perf_counter()
        assert validate_checkpoint(folder).valid
        shallow.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert verify_checkpoint_files(folder, manifest=manifest) == []
        deep.append(time.perf_counter() - started)
    block = os.urandom(64 << 20)
    rates = []
    for _ in range(3):
        started = time.perf_counter()
        hashlib.sha256(block).hexdigest()
        rates.append(len(block) / (time.perf_counter() - started) / 1e9)
    return {
        "checkpoint": folder.name,
        "checkpoint_bytes": folder_bytes(folder),
        "structural_check_ms": round(statistics.median(shallow) * 1000, 2),
        "deep_verify_ms": round(statistics.median(deep) * 1000, 2),
        "sha256_gb_per_s": round(statistics.median(rates), 2),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seconds = sigterm_runs(work, opts.repeats)
        verify = verify_cost(work, opts.repeats)
    load = os.getloadavg()[0]
    results = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{os.cpu_count()} cores; {_cpu_name()}; "
        f"Python {platform.python_version()}; load average {load:.1f} at the end",
        "sigterm_to_validated_checkpoint_s": [round(s, 3) for s in seconds],
        "sigterm_median_s": round(statistics.median(seconds), 3),
        **verify,
    }
    (HERE / "faults_results.json").write_text(json.dumps(results, indent=1) + "\n")
    full_70gb = 70e9 / (verify["sha256_gb_per_s"] * 1e9)
    md = f"""# trainjob grace window and resume cost (benchmarks/trainjob/bench_faults.py)

Measured {results["measured_at"]} on: {results["machine"]}.

| measurement | value |
|---|---|
| SIGTERM to validated checkpoint, tiny-local (LoRA r=8), median of {opts.repeats} | **{results["sigterm_median_s"]:.3f} s** (all: {", ".join(f"{s:.3f}" for s in results["sigterm_to_validated_checkpoint_s"])}) of SageMaker's 120 s |
| structural check of one checkpoint ({verify["checkpoint_bytes"] / 1024:.0f} KiB), median | {verify["structural_check_ms"]} ms |
| deep verification on resume (sha256 vs manifest, torch.load of rng/optimizer/scheduler, safetensors load, trainer_state shape), median | {verify["deep_verify_ms"]} ms, once per resume |
| sha256 throughput (the per-GB part of the deep check) | {verify["sha256_gb_per_s"]} GB/s: a 70 GB full fine-tune checkpoint would add about {full_70gb:.0f} s to its resume (reads not counted) |

The SIGTERM figure includes waiting for the step in progress to end (a tiny-model step is ~12 ms);
on a real job the step time and the checkpoint's bytes over the disk's write rate dominate, which is
what preflight's PF214 estimates before launch.
"""
    (HERE / "faults_results.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
