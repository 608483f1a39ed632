"""The slowest files to read in each benchmark repo: "no single file takes more than 1 s".

Reads every candidate file of the extracted snapshots (run_repos.py leaves them under the
scratch folder) the way a directory walk does, timing each, and writes the five slowest per
repo to file_times.json. Reading only: the rules' time is in results.json's whole-repo time.

    PYTHONPATH=. .venv/bin/python benchmarks/readers/time_files.py /tmp/bench
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from preflight.readers import _read_walked
from preflight.readers.walk import walk

HERE = Path(__file__).resolve().parent


def main() -> None:
    scratch = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bench")
    out = {}
    for root in sorted(p for p in scratch.iterdir() if p.is_dir()):
        files, _ = walk(root)
        times = []
        for file in files:
            start = time.perf_counter()
            try:
                _read_walked(file, None)
            except Exception as exc:  # a crash is a finding of this benchmark, not a stop
                times.append((0.0, f"{file.relative_to(root)} CRASH {type(exc).__name__}"))
                continue
            times.append((time.perf_counter() - start, str(file.relative_to(root))))
        times.sort(reverse=True)
        out[root.name.replace("+", "/")] = {
            "files": len(files),
            "slowest": [[round(t, 3), name] for t, name in times[:5]],
            "over_1s": sum(1 for t, _ in times if t > 1.0),
            "crashes": [name for t, name in times if "CRASH" in name],
        }
        print(root.name, out[root.name.replace("+", "/")]["slowest"][:2], flush=True)
    (HERE / "file_times.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
