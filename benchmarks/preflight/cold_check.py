"""Cold-process wall time of ``preflight check EXAMPLE --format json`` (the analytic path).

Each run is a fresh Python process, as a user or CI step runs it. Writes cold_check.json and
cold_check.md beside this script. Usage:  .venv/bin/python benchmarks/preflight/cold_check.py
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RUNS = 9
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_once(example: Path) -> tuple[float, int]:
    exe = Path(sys.executable).with_name("preflight")
    start = time.perf_counter()
    done = subprocess.run(
        [str(exe), "check", str(example), "--format", "json"],
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - start, done.returncode


def main() -> None:
    rows = []
    for example in EXAMPLES:
        time_once(example)  # warm the OS file cache; the Python process is still cold each run
        samples, codes = zip(*(time_once(example) for _ in range(RUNS)), strict=True)
        rows.append(
            {
                "example": example.relative_to(ROOT).as_posix(),
                "median_s": round(statistics.median(samples), 3),
                "min_s": round(min(samples), 3),
                "max_s": round(max(samples), 3),
                "exit_codes": sorted(set(codes)),
                "runs": RUNS,
            }
        )
    result = {
        "benchmark": "cold preflight check --format json",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": {"cpu": cpu_name(), "cores": _cores(), "python": platform.python_version()},
        "goal_s": 1.0,
        "results": rows,
    }
    (HERE / "cold_check.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"Cold `preflight check EXAMPLE --format json`, median of {RUNS} fresh processes, "
        f"{result['machine']['cpu']} ({result['machine']['cores']} cores), {result['date']}.",
        "",
        "| example | median s | min s | max s | exit |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        codes = ",".join(str(c) for c in r["exit_codes"])
        lines.append(
            f"| {r['example']} | {r['median_s']} | {r['min_s']} | {r['max_s']} | {codes} |"
        )
    (HERE / "cold_check.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _cores() -> int:
    import os

    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)
    )


if __name__ == "__main__":
    main()
