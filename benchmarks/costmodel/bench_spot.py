"""Benchmark the spot model: Monte Carlo speed and closed-form vs Monte Carlo agreement.

Goals (issue 4): 100,000 simulated runs in under 0.5 s; the closed form and the Monte Carlo
mean within 1% over a grid of cases.  Writes ``results.json`` and ``results.md`` next to this
file with the machine they ran on.  Run: ``.venv/bin/python benchmarks/costmodel/bench_spot.py``.
"""

from __future__ import annotations

import itertools
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

from costmodel import SpotParams, optimal_checkpoint_interval, simulate, spot_expectation

HERE = Path(__file__).resolve().parent
RUNS = 100_000


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return "\n".join(out.splitlines()[:10])
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()


def speed() -> list[dict[str, object]]:
    cases = [
        ("seed job: 168 h, MTBF 41 h, save 1 min, restart 30 min", 168.0, 41.0, 1 / 60, 0.5),
        ("seed data volume: 334 h, MTBF 41 h", 334.0, 41.0, 1 / 60, 0.5),
        ("1,350 h (seed padded), MTBF 41 h", 1350.0, 41.0, 1 / 60, 0.5),
        ("full fine-tune: 100 h, MTBF 10 h, save 12 min", 100.0, 10.0, 0.2, 0.5),
    ]
    rows = []
    for label, w, m, c, r in cases:
        p = SpotParams(m, c, r)
        tau = optimal_checkpoint_interval(m, c).exact_hours
        simulate(w, tau, p, runs=RUNS, seed=0)  # warm-up
        times = []
        for i in range(7):
            t0 = time.perf_counter()
            sim = simulate(w, tau, p, runs=RUNS, seed=i)
            times.append(time.perf_counter() - t0)
        rows.append(
            {
                "case": label,
                "runs": RUNS,
                "median_s": round(statistics.median(times), 4),
                "max_s": round(max(times), 4),
                "mean_interruptions": round(float(sim.interruptions.mean()), 2),
                "max_interruptions": int(sim.interruptions.max()),
            }
        )
    return rows


def agreement() -> dict[str, object]:
    works = [10.0, 100.0, 500.0]
    mtbfs = [5.0, 20.0, 41.0, 200.0]
    ckpts = [0.0, 1 / 60, 0.25]
    # (unbilled capacity wait, billed restore) in hours; issue 19 split the restart in two.
    restarts = [(0.0, 0.0), (0.5, 0.0), (2.0, 0.0), (0.5, 0.1), (2.0, 0.25)]
    interval_factors = [0.3, 1.0, 3.0]  # x the optimum
    rows = []
    for i, (w, m, c, r, f) in enumerate(
        itertools.product(works, mtbfs, ckpts, restarts, interval_factors)
    ):
        opt = optimal_checkpoint_interval(m, c).exact_hours if c > 0 else 1.0
        tau = min(max(opt * f, 0.05), w)
        p = SpotParams(m, c, r[0], r[1])
        exp = spot_expectation(w, tau, p)
        sim = simulate(w, tau, p, runs=RUNS, seed=1000 + i)
        rel = abs(sim.mean_hours() - exp.expected_hours) / exp.expected_hours
        rel_b = abs(sim.mean_billed_hours() - exp.expected_billed_hours) / exp.expected_billed_hours
        rows.append(
            {
                "work_h": w,
                "mtbf_h": m,
                "checkpoint_h": round(c, 4),
                "restart_h": r[0],
                "billed_restart_h": r[1],
                "interval_h": round(tau, 4),
                "closed_form_h": round(exp.expected_hours, 4),
                "monte_carlo_h": round(sim.mean_hours(), 4),
                "rel_err_hours": rel,
                "rel_err_billed": rel_b,
            }
        )
    errs = np.array([max(r["rel_err_hours"], r["rel_err_billed"]) for r in rows])
    return {
        "cases": len(rows),
        "runs_per_case": RUNS,
        "max_rel_err": float(errs.max()),
        "mean_rel_err": float(errs.mean()),
        "within_1pct": int((errs < 0.01).sum()),
        "rows": rows,
    }


def main() -> None:
    sp = speed()
    ag = agreement()
    result = {
        "machine": machine(),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "speed": sp,
        "agreement": {k: v for k, v in ag.items() if k != "rows"},
        "agreement_rows": ag["rows"],
    }
    (HERE / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# costmodel spot benchmark",
        "",
        f"Machine (`lscpu | head`), Python {result['python']}, numpy {result['numpy']}:",
        "",
        "```",
        str(result["machine"]),
        "```",
        "",
        f"## Monte Carlo speed ({RUNS:,} runs, median of 7; goal < 0.5 s)",
        "",
        "| case | median s | max s | mean interruptions | max interruptions |",
        "|---|---|---|---|---|",
    ]
    for r in sp:
        lines.append(
            f"| {r['case']} | {r['median_s']} | {r['max_s']} | {r['mean_interruptions']} "
            f"| {r['max_interruptions']} |"
        )
    a = result["agreement"]
    assert isinstance(a, dict)
    lines += [
        "",
        "## Closed form vs Monte Carlo (goal: within 1%)",
        "",
        f"Grid: work {{10, 100, 500}} h x MTBF {{5, 20, 41, 200}} h x checkpoint {{0, 1, 15}} min x "
        f"restart (unbilled wait, billed restore) {{(0, 0), (0.5, 0), (2, 0), (0.5, 0.1), "
        f"(2, 0.25)}} h x interval {{0.3, 1, 3}} x optimum = {a['cases']} cases, "
        f"{RUNS:,} runs each. Error = max of the relative errors of mean wall hours and mean "
        "billed hours.",
        "",
        f"- max relative error: {a['max_rel_err']:.4%}",
        f"- mean relative error: {a['mean_rel_err']:.4%}",
        f"- cases within 1%: {a['within_1pct']} of {a['cases']}",
        "",
        "Per-case rows are in results.json.",
        "",
    ]
    (HERE / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
