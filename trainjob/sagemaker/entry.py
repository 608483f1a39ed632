"""Container entry point of a job started by ``trainjob launch`` (shipped as trainjob_entry.py).

With ``TRAINJOB_ENTRY_POINT`` set (``trainjob launch --entry-point``), it runs the user's own
script under ``trainjob exec`` instead, checkpoints going to the synced dir.

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


def exec_argv(env: Mapping[str, str], script_dir: Path) -> list[str] | None:
    """``python ENTRY ARGS`` when the job ships the user's own script (``trainjob launch
    --entry-point``), else None (the built-in ``trainjob run``)."""
    entry = env.get("TRAINJOB_ENTRY_POINT")
    if not entry:
        return None
    import json

    args = json.loads(env.get("TRAINJOB_ENTRY_ARGS") or "[]")
    return [sys.executable, str(script_dir / entry), *[str(a) for a in args]]


def run_user_script(argv: list[str], env: Mapping[str, str]) -> int:
    """The user's script under ``trainjob exec``: checkpoints to the synced dir, gated again."""
    from trainjob.exec import ExecOptions, exec_command, summary_lines
    from trainjob.logs import setup_console_logging

    setup_console_logging(live=False)
    reason = env.get("TRAINJOB_FORCE_REASON", "").strip()
    options = ExecOptions(
        force=bool(reason),
        reason=reason or None,
        output_dir=Path(env.get("TRAINJOB_CHECKPOINT_DIR") or "/opt/ml/checkpoints"),
    )
    from preflight.spec import SpecError
    from trainjob.errors import TrainjobError

    try:
        result = exec_command(argv, options)
    except SpecError as exc:
        for issue in exc.issues:
            print(f"trainjob entry: {issue}", file=sys.stderr)
        return 2
    except TrainjobError as exc:
        print(f"trainjob entry: {exc}", file=sys.stderr)
        return exc.exit_code
    for line in summary_lines(result):
        print(line, file=sys.stderr, flush=True)
    return result.exit_code


def main() -> int:
    script_dir = Path(__file__).resolve().parent
    if str(script_dir) not in sys.path:
        sys.path.insert(0, str(script_dir))
    user_argv = exec_argv(os.environ, script_dir)
    if user_argv is not None:
        stop = start_heartbeat(HEARTBEAT_SECONDS)
        try:
            return run_user_script(user_argv, os.environ)
        finally:
            stop.set()
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
