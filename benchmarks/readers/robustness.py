"""How the readers cope with code they were not written for, and how fast they read it.

Every .py/.yaml/.yml/.json/.ipynb file under the installed transformers, accelerate, peft and
sagemaker packages (thousands of files that are mostly not training configs), plus the test
corpus, goes through the same per-file path a directory walk uses. Counted: files, files read as
training configs, files skipped, crashes (any exception other than the SpecError the walk turns
into a note), and wall time. Writes benchmarks/readers/robustness.json.

    .venv/bin/python benchmarks/readers/robustness.py
"""

from __future__ import annotations

import importlib.util
import json
import platform
import subprocess
import time
from pathlib import Path

from preflight.readers import _read_walked

HERE = Path(__file__).resolve().parent
SUFFIXES = {".py", ".yaml", ".yml", ".json", ".ipynb"}


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def measure(root: Path) -> dict[str, object]:
    files = sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    read = skipped = 0
    crashes: list[str] = []
    start = time.perf_counter()
    for path in files:
        try:
            loaded, _why = _read_walked(path, None)
        except Exception as exc:  # counting crashes is the point
            crashes.append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        if loaded is None:
            skipped += 1
        else:
            read += 1
    seconds = time.perf_counter() - start
    return {
        "root": str(root),
        "files": len(files),
        "read_as_config": read,
        "skipped": skipped,
        "crashes": len(crashes),
        "crash_examples": crashes[:5],
        "seconds": round(seconds, 2),
        "ms_per_file": round(1000 * seconds / max(len(files), 1), 2),
    }


def main() -> None:
    roots = [_package_dir(n) for n in ("transformers", "accelerate", "peft", "sagemaker")]
    roots = [r for r in roots if r is not None]
    roots.append(HERE.parents[1] / "tests" / "readers" / "corpus")
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    results = {
        "machine": {
            "lscpu_head": lscpu.splitlines()[:10],
            "python": platform.python_version(),
        },
        "runs": [measure(root) for root in roots],
    }
    out = HERE / "robustness.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    for run in results["runs"]:
        print(
            f"{run['root']}: {run['files']} files, {run['read_as_config']} read, "
            f"{run['skipped']} skipped, {run['crashes']} crashes, {run['seconds']} s"
        )


if __name__ == "__main__":
    main()
