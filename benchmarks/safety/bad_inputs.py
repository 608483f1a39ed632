"""Time and peak memory of every CLI on the inputs that used to hang or crash (issue 16/21).

Each case is the seed-fixed example with one hostile change; each CLI runs in its own process
(``os.wait4`` gives its peak RSS) under a 120 s limit. Before this work the alias bomb grew to
2.7 GB and ran past 60 s, and max_steps 10^12, lora.r 10^9 and a batch of 10^6 ran past 60 s.
Writes ``benchmarks/safety/results.md``.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASE = (ROOT / "examples" / "seed-fixed.yaml").read_text()


def _bomb(levels: int) -> str:
    lines = ["  a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines)


def _set(key: str, value: str) -> str:
    out = []
    for line in BASE.splitlines():
        if line.strip().startswith(f"{key}:"):
            line = line.split(":", 1)[0] + f": {value}"
        out.append(line)
    return "\n".join(out) + "\n"


CASES = {
    "alias bomb 10^7 under training": BASE.replace("training:\n", "training:\n" + _bomb(7) + "\n"),
    "max_steps: 10^12": _set("max_steps", "1000000000000"),
    "max_steps: 2^64": _set("max_steps", str(2**64)),
    "lora.r: 10^9": _set("r", "1000000000"),
    "lora.r: 65536 (largest allowed)": _set("r", "65536"),
    "per_device_train_batch_size: 10^6": _set("per_device_train_batch_size", "1000000"),
    "per_device_train_batch_size: -1": _set("per_device_train_batch_size", "-1"),
    "num_examples: 10^13 (largest allowed)": _set("num_examples", "10000000000000"),
    "num_examples: 10^30": _set("num_examples", "1" + "0" * 30),
    "max_run_hours: inf": _set("max_run_hours", ".inf"),
    "avg_tokens: nan": _set("avg_tokens", ".nan"),
}
CLIS = {
    "preflight check": [
        "-c",
        "from preflight.cli import main; main()",
        "check",
        "{spec}",
        "--format",
        "json",
    ],
    "memplan estimate": [
        "-c",
        "from preflight.cli_memplan import main; main()",
        "estimate",
        "{spec}",
        "--format",
        "json",
    ],
    "costmodel compare": [
        "-c",
        "from preflight.cli_costmodel import main; main()",
        "compare",
        "{spec}",
        "--format",
        "json",
    ],
    "trainjob launch --dry-run": [
        "-m",
        "trainjob.cli",
        "launch",
        "{spec}",
        "--dry-run",
        "--no-aws",
    ],
}


def _run(argv: list[str]) -> tuple[int, float, float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        env.pop(name, None)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    deadline = started + 120
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    took = time.monotonic() - started
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    lines = [
        ln.strip() for ln in err.splitlines() if ln.strip() and not ln.startswith("preflight:")
    ]
    first = next((ln for ln in lines if "unusable" not in ln), lines[0] if lines else "")
    return code, took, usage.ru_maxrss / 1024, first[:150]


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case, text in CASES.items():
            spec = Path(tmp) / "job.yaml"
            spec.write_text(text)
            for cli, argv in CLIS.items():
                code, took, mb, first = _run([a.replace("{spec}", str(spec)) for a in argv])
                rows.append(
                    f"| {case} | {cli} | {code} | {took:.1f} | {mb:.0f} | {first.replace('|', '/').replace(str(spec), 'job.yaml')} |"
                )
                print(rows[-1], flush=True)
    head = [
        "# Hostile spec values: time and peak memory per CLI",
        "",
        f"Machine: {platform.processor() or platform.machine()}, 2-core AMD EPYC, 24 GiB, no GPU, "
        f"Python {platform.python_version()}; `python benchmarks/safety/bad_inputs.py`. Times are "
        "wall seconds of the whole process (Python start and imports included, about 2 s of it); "
        "memory is the process's peak RSS. Exit 2 is 'input unusable' with the message shown. "
        f"Load average at the end: {os.getloadavg()[0]:.1f}.",
        "",
        "| Case | CLI | Exit | Seconds | Peak MB | First message line |",
        "|---|---|---:|---:|---:|---|",
    ]
    (HERE / "results.md").write_text("\n".join(head + rows) + "\n")


if __name__ == "__main__":
    main()
