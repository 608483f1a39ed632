"""The machine a benchmark ran on (lscpu's first lines, Python and library versions)."""

from __future__ import annotations

import platform
import subprocess


def machine() -> dict[str, str]:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        lscpu = ""
    keep = ("Architecture", "CPU(s)", "Model name", "Thread(s) per core", "Core(s) per socket")
    info = {"python": platform.python_version()}
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in keep:
            info[key.strip()] = value.strip()
    try:
        with open("/proc/loadavg") as fh:
            info["load average at end (1/5/15 min)"] = " ".join(fh.read().split()[:3])
    except OSError:
        pass
    return info
