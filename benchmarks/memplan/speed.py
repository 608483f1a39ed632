"""Speed: cold ``memplan estimate`` (analytic) and ``--trace`` of the seed's setting.

Each run is a fresh process (``.venv/bin/memplan``), so imports are included, as a user sees
them. Goals: analytic under 1 s, the seed's trace under 15 s on this 2-core machine.

    .venv/bin/python benchmarks/memplan/speed.py   # writes speed.json and speed.md
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine

HERE = Path(__file__).parent
MEMPLAN = Path(sys.executable).parent / "memplan"

SEED_FINAL = """\
name: seed-final
model:
  name: mistralai/Mistral-7B-v0.1
  dtype: float16
lora:
  r: 16
  alpha: 32
  dropout: 0.05
  target_modules: [q_proj, v_proj]
data:
  max_length: 256
training:
  output_dir: /opt/ml/checkpoints
  per_device_train_batch_size: 1
  gradient_accumulation_steps: 16
  gradient_checkpointing: true
  fp16: true
compute:
  provider: sagemaker
  instance_type: ml.g5.xlarge
"""


def timed(args: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + system of the child) of each run.

    CPU time is reported too because this 2-core machine is shared: when other jobs run, wall
    time grows with the load while CPU time stays what the command itself needs.
    """
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{args}: exit {done.returncode}\n{done.stderr}")
    return wall, cpu


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "seed-final.yaml"
        spec.write_text(SEED_FINAL)
        cases = {
            "estimate (analytic, rich)": ([str(MEMPLAN), "estimate", str(spec)], 7),
            "estimate --format json": (
                [str(MEMPLAN), "estimate", str(spec), "--format", "json"],
                7,
            ),
            "estimate --suggest": ([str(MEMPLAN), "estimate", str(spec), "--suggest"], 5),
            "estimate --trace (seed)": ([str(MEMPLAN), "estimate", str(spec), "--trace"], 3),
        }
        results = {}
        for name, (args, runs) in cases.items():
            wall, cpu = timed(args, runs)
            results[name] = {
                "runs": runs,
                "median_s": round(statistics.median(wall), 3),
                "max_s": round(max(wall), 3),
                "median_cpu_s": round(statistics.median(cpu), 3),
            }
            print(name, results[name], flush=True)
    goals = {"estimate (analytic, rich)": 1.0, "estimate --trace (seed)": 15.0}
    out = {"machine": machine(), "results": results, "goals_s": goals}
    (HERE / "speed.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [
        "# memplan speed (fresh process per run, imports included)",
        "",
        "| command | runs | median wall s | max wall s | median CPU s | goal |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        goal = f"< {goals[name]:g} s" if name in goals else ""
        lines.append(
            f"| {name} | {r['runs']} | {r['median_s']:.2f} | {r['max_s']:.2f} | "
            f"{r['median_cpu_s']:.2f} | {goal} |"
        )
    lines += ["", "Machine: " + ", ".join(f"{k}: {v}" for k, v in machine().items()), ""]
    (HERE / "speed.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
