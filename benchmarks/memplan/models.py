"""Model resolution speed: cold analytic ``memplan estimate`` for catalog models (no torch), and
the meta-device build of a model outside the catalog.

Each run is a fresh process, imports included, as a user sees it. Goals (issue 15): a catalog
model's estimate under 1 s; a meta-device build of a non-catalog model under 10 s on this
2-core machine. Also recorded: whether torch was imported on the catalog path (it must not be).

    .venv/bin/python benchmarks/memplan/models.py   # writes models.json and models.md
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
RUNS = 3
CATALOG = ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-30B-A3B", "google/gemma-2-9b-it"]
# Full-size configs without the precomputed inventory: memplan must build them on the meta device.
NON_CATALOG = ["qwen3-8b.json", "mixtral-8x7b-v0.1.json", "llama-3.3-70b-instruct.json"]

SPEC = """\
model:
  name: {model}
  dtype: bfloat16
lora:
  r: 16
  target_modules: [q_proj, v_proj]
data:
  max_length: 2048
training:
  per_device_train_batch_size: 1
  gradient_checkpointing: true
  bf16: true
compute:
  provider: sagemaker
  instance_type: ml.g6e.xlarge
"""

ESTIMATE = """\
import sys
from preflight.cli_memplan import cli
try:
    cli.main(["estimate", sys.argv[1], "--format", "json", "--offline"], standalone_mode=False)
except SystemExit:
    pass
print("TORCH_IMPORTED", "torch" in sys.modules, file=sys.stderr)
"""

BUILD = """\
import sys, time
t = time.perf_counter()
from memplan import load_architecture
arch = load_architecture(sys.argv[1])
print("INVENTORY", arch.inventory_path, len(arch.inventory.modules), file=sys.stderr)
"""


def timed(args: list[str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MEMPLAN_OFFLINE": "1"}
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{args}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return wall, cpu, done.stderr


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in CATALOG:
            spec = Path(tmp) / f"{model.replace('/', '_')}.yaml"
            spec.write_text(SPEC.format(model=model))
            runs = [timed([sys.executable, "-c", ESTIMATE, str(spec)]) for _ in range(RUNS)]
            torch_seen = any("TORCH_IMPORTED True" in r[2] for r in runs)
            rows.append(
                {
                    "what": f"memplan estimate, catalog model {model}",
                    "runs": RUNS,
                    "median_wall_s": round(statistics.median(r[0] for r in runs), 3),
                    "max_wall_s": round(max(r[0] for r in runs), 3),
                    "median_cpu_s": round(statistics.median(r[1] for r in runs), 3),
                    "torch_imported": torch_seen,
                    "goal_s": 1.0,
                }
            )
        for name in NON_CATALOG:
            cfg = json.loads((ROOT / "scripts" / "model_configs" / name).read_text())
            folder = Path(tmp) / name.removesuffix(".json")
            folder.mkdir()
            cfg.pop("_name", None)
            (folder / "config.json").write_text(json.dumps(cfg))
            runs = [timed([sys.executable, "-c", BUILD, str(folder)]) for _ in range(RUNS)]
            rows.append(
                {
                    "what": f"meta-device build (local dir, {name.removesuffix('.json')})",
                    "runs": RUNS,
                    "median_wall_s": round(statistics.median(r[0] for r in runs), 3),
                    "max_wall_s": round(max(r[0] for r in runs), 3),
                    "median_cpu_s": round(statistics.median(r[1] for r in runs), 3),
                    "torch_imported": True,
                    "goal_s": 10.0,
                }
            )
    info = machine()
    (HERE / "models.json").write_text(json.dumps({"machine": info, "rows": rows}, indent=2) + "\n")
    lines = [
        "# Model resolution speed",
        "",
        "`benchmarks/memplan/models.py`: each run a fresh process, imports included. Machine: "
        + ", ".join(f"{k} {v}" for k, v in info.items())
        + ". The machine is shared, so wall time can be inflated; CPU time is the command's own.",
        "",
        "| what | runs | median wall s | max wall s | median CPU s | torch imported | goal s |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['what']} | {r['runs']} | {r['median_wall_s']} | {r['max_wall_s']} | "
            f"{r['median_cpu_s']} | {'yes' if r['torch_imported'] else 'no'} | {r['goal_s']} |"
        )
    (HERE / "models.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
