"""Runs the real ``trainjob.run`` in a subprocess with one injected fault, for the fault tests.

The faults are injected here, in the test harness, not in trainjob: ``torch.save`` (how Trainer
writes ``optimizer.pt``) is wrapped so that for one checkpoint it writes half the bytes and then
either hangs (so the test can SIGKILL the process mid-write) or raises ENOSPC, as a full disk
does. Signals are real, sent by the test from outside.

    python fault_driver.py SPEC [--step-sleep S] [--hang-in-save N --marker PATH] [--enospc-in-save N]
"""

from __future__ import annotations

import argparse
import errno
import io
import os
import sys
import time
from pathlib import Path
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec")
    parser.add_argument("--step-sleep", type=float, default=0.0)
    parser.add_argument("--hang-in-save", type=int)
    parser.add_argument("--enospc-in-save", type=int)
    parser.add_argument("--marker")
    parser.add_argument("--sagemaker", action="store_true")
    opts = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    fault_step = opts.hang_in_save or opts.enospc_in_save
    if fault_step:
        real_save = torch.save

        def faulty_save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
            target = str(f)
            if f"checkpoint-{fault_step}" in target and target.endswith("optimizer.pt"):
                buffer = io.BytesIO()
                real_save(obj, buffer, *args, **kwargs)
                data = buffer.getvalue()
                with open(target, "wb") as fh:
                    fh.write(data[: len(data) // 2])
                    fh.flush()
                    os.fsync(fh.fileno())
                if opts.hang_in_save:
                    Path(opts.marker).write_text("writing", encoding="utf-8")
                    time.sleep(600)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target)
            real_save(obj, f, *args, **kwargs)

        torch.save = faulty_save

    from transformers import TrainerCallback

    from trainjob.run import RunOptions, main_from_sagemaker_env, run_and_report

    class Slow(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            time.sleep(opts.step_sleep)

    extra = [Slow()] if opts.step_sleep else []
    common: dict[str, Any] = {
        "extra_callbacks": extra,
        "canary_steps": None,
        "canary_minutes": None,
        "threads": 1,
    }
    if opts.sagemaker:
        return main_from_sagemaker_env(opts.spec, **common)
    return run_and_report(opts.spec, RunOptions(live=False, **common))


if __name__ == "__main__":
    sys.exit(main())
