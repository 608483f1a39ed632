"""Start the user's command with trainjob's hook in its environment, forward SIGTERM/SIGINT to
its whole process group, wait out the grace window, and pass its exit code through.

The child runs in a new session (its own process group); a forwarded signal goes to that group
and to every descendant (torchrun puts each rank in a session of its own), so each rank's Trainer
gets the SIGTERM itself and saves. Under torchrun/``accelerate launch`` the launcher itself is
spared: it would give the ranks only 30 s before killing them. If the command has not exited
``grace_seconds`` after the first forwarded signal, all of it is killed (what SageMaker does at
the end of its own window anyway).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

INJECT_DIR = Path(__file__).resolve().parents[1] / "inject"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds trainjob/


def child_env(
    options: dict[str, Any], report_dir: Path, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The child's environment: the hook first on PYTHONPATH, its options, the report folder.

    trainjob's own folder goes last on PYTHONPATH, so the hook can import it even when the
    command runs another interpreter of the same environment, and nothing of the user's is
    shadowed.
    """
    env = dict(os.environ if base is None else base)
    parts = [str(INJECT_DIR)]
    parts += [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(PACKAGE_ROOT) not in parts:
        parts.append(str(PACKAGE_ROOT))
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["TRAINJOB_EXEC_CONFIG"] = json.dumps(options)
    env["TRAINJOB_EXEC_REPORT_DIR"] = str(report_dir)
    return env


class Forwarder:
    """Forward SIGTERM/SIGINT to a process group; kill the group when the grace window ends."""

    def __init__(
        self, proc: subprocess.Popen[bytes], grace_seconds: float, *, spare_launcher: bool = False
    ) -> None:
        self.proc = proc
        self.grace_seconds = grace_seconds
        self.spare_launcher = spare_launcher
        self.first_signal: int | None = None
        self.killed = False
        self._previous: dict[int, Any] = {}
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Forwarder:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if self._timer is not None:
            self._timer.cancel()

    def _handle(self, signum: int, frame: Any) -> None:
        self._send(signum)
        if self.first_signal is None:
            self.first_signal = signum
            self._timer = threading.Timer(self.grace_seconds, self._kill)
            self._timer.daemon = True
            self._timer.start()

    def _send(self, signum: int) -> None:
        # torchrun starts each rank in a session of its own, so the group does not reach them:
        # they are found as the command's descendants.
        below = descendants(self.proc.pid)
        if self.spare_launcher and signum != signal.SIGKILL and below:
            # torchrun (and accelerate launch, which runs it) answers its own SIGTERM by giving
            # the ranks 30 s and then SIGKILL: the ranks get the signal, the launcher does not,
            # so they have the whole grace window; it exits when they do.
            targets = below
        else:
            targets = below
            try:
                os.killpg(self.proc.pid, signum)
            except ProcessLookupError:
                pass
        for pid in targets:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.killed = True
            self._send(signal.SIGKILL)


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (Linux ``/proc``; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out: list[int] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def run_child(
    argv: list[str],
    env: dict[str, str],
    *,
    grace_seconds: float,
    spare_launcher: bool = False,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> tuple[int, Forwarder]:
    """Run ``argv`` to the end; its exit code (128+N when a signal N ended it)."""
    proc = subprocess.Popen(argv, env=env, start_new_session=True, preexec_fn=_die_with_parent)
    with Forwarder(proc, grace_seconds, spare_launcher=spare_launcher) as forwarder:
        if on_start is not None:
            on_start(proc)
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:  # pragma: no cover - SIGINT is handled above
                continue
        # Ranks the launcher left behind (it died first) must not train on unseen.
        if forwarder.first_signal is not None:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and _group_alive(proc.pid):
                time.sleep(0.1)
    return (128 - code if code < 0 else code), forwarder


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM (and so saves) if ``trainjob exec`` itself is killed."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
