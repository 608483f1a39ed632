"""Container entry point of a job started by ``trainjob launch`` (shipped as trainjob_entry.py).

It runs ``trainjob run`` with SageMaker's conventions, through the run side's
``trainjob.run.main_from_sagemaker_env``: data from ``SM_CHANNEL_*``, checkpoints in the dir named
by ``/opt/ml/input/config/checkpointconfig.json`` (default ``/opt/ml/checkpoints``), which is
also where a spot restart finds the checkpoints SageMaker restored from S3 and resumes from, the
final model to ``SM_MODEL_DIR`` and a backup to ``SM_OUTPUT_DATA_DIR``.

The spec travels next to this script (``TRAINJOB_SPEC``, default ``job.yaml``). A launch that
overrode preflight (``--force --reason``) passes the reason in ``TRAINJOB_FORCE_REASON`` so the
in-container gate records it instead of refusing the job it was told to run. This file imports
nothing from trainjob at module level: it must start even where the package is only beside it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def entry_arguments(env: Mapping[str, str], script_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The spec path and the ``main_from_sagemaker_env`` overrides this container should use."""
    spec = Path(env.get("TRAINJOB_SPEC") or "job.yaml")
    if not spec.is_absolute():
        spec = script_dir / spec
    overrides: dict[str, Any] = {}
    reason = env.get("TRAINJOB_FORCE_REASON", "").strip()
    if reason:
        overrides["force"] = True
        overrides["reason"] = reason
    return spec, overrides


HEARTBEAT_SECONDS = 60.0


def start_heartbeat(interval: float = HEARTBEAT_SECONDS) -> threading.Event:
    """Print ``trainjob heartbeat elapsed_s=N`` every ``interval`` seconds until the event is set.

    The launch request's metric definitions turn this line into the ``trainjob:elapsed_seconds``
    metric, on which ``trainjob alarms`` sets its runtime-near-limit alarm (SageMaker publishes no
    elapsed-time metric of its own). It counts from this container's start, so after a spot
    restart it restarts too; ``trainjob watch`` reads the job's own training seconds instead.
    """
    stop = threading.Event()
    started = time.monotonic()

    def beat() -> None:
        while not stop.wait(interval):
            print(f"trainjob heartbeat elapsed_s={int(time.monotonic() - started)}", flush=True)

    threading.Thread(target=beat, name="trainjob-heartbeat", daemon=True).start()
    return stop


def main() -> int:
    script_dir = Path(__file__).resolve().parent
    if str(script_dir) not in sys.path:
        sys.path.insert(0, str(script_dir))
    spec, overrides = entry_arguments(os.environ, script_dir)
    if not spec.is_file():
        print(f"trainjob entry: the job spec {spec} is not in the source dir", file=sys.stderr)
        return 2
    try:
        from trainjob.run import main_from_sagemaker_env
    except ImportError as exc:
        print(f"trainjob entry: cannot import trainjob.run ({exc})", file=sys.stderr)
        return 2
    try:
        interval = float(os.environ.get("TRAINJOB_HEARTBEAT_SECONDS") or HEARTBEAT_SECONDS)
    except ValueError:
        interval = HEARTBEAT_SECONDS
    stop = start_heartbeat(max(interval, 0.1))
    try:
        return int(main_from_sagemaker_env(spec, **overrides))
    finally:
        stop.set()


if __name__ == "__main__":
    sys.exit(main())
