"""Kill rate per module of the last `make mutation` run, read from mutmut's own result files.

mutmut 3 keeps one ``<module>.py.meta`` JSON per mutated file under ``mutants/`` with the exit
code of each mutant's test run. Writes ``benchmarks/mutation/kill_rates.md`` (the table that
results.md quotes) and the survivors' names to ``benchmarks/mutation/survivors.txt``.
"""

from __future__ import annotations

import json
import platform
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# mutmut 3.8 exit-code meaning (mutmut/stats.py status_by_exit_code)
KILLED = {1, 3, 37, -11, -9}  # tests failed, the type checker caught it, or it crashed
SURVIVED = {0}
TIMEOUT = {-24, 24, 36, 152, 255}
NO_TESTS = {5, 33}


def main(argv: list[str]) -> int:
    """``summarize.py [ROOT]``: ROOT holds the ``mutants/`` of a run (default: the repo); the
    table is written next to this script only for the repo's own run."""
    root = Path(argv[0]).resolve() if argv else ROOT
    rows = []
    survivors: list[str] = []
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        counts = Counter()
        for name, code in codes.items():
            if code is None:
                counts["not run"] += 1
            elif code in KILLED:
                counts["killed"] += 1
            elif code in SURVIVED:
                counts["survived"] += 1
                survivors.append(name)
            elif code in TIMEOUT:
                counts["timeout"] += 1
            elif code in NO_TESTS:
                counts["no tests"] += 1
            else:
                counts[f"exit {code}"] += 1
        module = meta.relative_to(root / "mutants").as_posix().removesuffix(".meta")
        judged = counts["killed"] + counts["survived"] + counts["timeout"] + counts["no tests"]
        rate = (counts["killed"] + counts["timeout"]) / judged if judged else 0.0
        rows.append((module, len(codes), counts, rate))
    if not rows:
        print("no mutmut results under mutants/: run `make mutation` first", file=sys.stderr)
        return 1
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Mutation kill rates ({when})",
        "",
        f"mutmut 3.8.1, Python {platform.python_version()}, {platform.machine()}. Killed counts "
        "timeouts (the mutant hung the tests) as killed; 'no tests' mutants (code no selected "
        "test reaches) count as not killed.",
        "",
        "| Module | Mutants | Killed | Survived | No tests | Timeout | Not run | Kill rate |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for module, total, c, rate in rows:
        lines.append(
            f"| {module} | {total} | {c['killed']} | {c['survived']} | {c['no tests']} | "
            f"{c['timeout']} | {c['not run']} | {rate:.1%} |"
        )
    every: Counter[str] = Counter()
    for _, _, c, _ in rows:
        every.update(c)
    judged = every["killed"] + every["survived"] + every["timeout"] + every["no tests"]
    overall = (every["killed"] + every["timeout"]) / judged if judged else 0.0
    lines.append(
        f"| **all** | {sum(total for _, total, _, _ in rows)} | {every['killed']} | "
        f"{every['survived']} | {every['no tests']} | {every['timeout']} | {every['not run']} | "
        f"{overall:.1%} |"
    )
    print("\n".join(lines))
    if root == ROOT:
        (HERE / "kill_rates.md").write_text("\n".join(lines) + "\n")
        (HERE / "survivors.txt").write_text("\n".join(sorted(survivors)) + "\n")
    else:
        print("\n".join(sorted(survivors)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
