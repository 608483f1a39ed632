"""A worker for the fault-injection suite: imports torch/transformers once, then forks one real
``trainjob run`` per attempt and kills it with a real signal at a chosen instant.

Why fork: a fresh interpreter spends seconds importing torch and transformers; 50+ kills and
their reruns would not fit the suite's 4-minute budget on two cores. A forked child is a real
process with its own memory and files; ``os.kill`` delivers real SIGKILL/SIGTERM/SIGINT.

The instants are file-write events, counted in the child by wrappers installed here (test
harness only, trainjob is not changed): every ``open`` for writing, ``os.replace``/``rename``,
``torch.save`` and safetensors ``save_file``. At event k the child kills itself, either before
the write or after writing half of its bytes (``mid``); a ``phase`` fault fires at the first
write of that phase instead of at a count. A ``time`` kill is sent by this worker after a random
delay instead. ``sigterm``/``sigint`` jobs deliver that signal at step k (the process must stop
cleanly, exit 0), optionally followed by a SIGKILL j events later (a kill during the SIGTERM
save).

    python kill_harness.py JOBS.json RESULTS.json
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

PHASES = (
    ("trainjob-assets", "asset cache"),
    ("final-model-backup", "backup"),
    ("final-model", "final save"),
    ("trainjob-manifest", "manifest"),
    ("trainjob-run.json", "run record"),
    ("checkpoint-", "checkpoint write"),
)


def phase_of(path: str) -> str:
    for needle, name in PHASES:
        if needle in path:
            return name
    return "other"


def tensor_hash(folder: Path) -> str | None:
    file = folder / "adapter_model.safetensors"
    if not file.is_file():
        return None
    from safetensors.numpy import load_file

    tensors = load_file(str(file))
    digest = hashlib.sha256()
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(tensors[key].tobytes())
    return digest.hexdigest()


class Events:
    """Counts write events in the child; fires the fault at one of them."""

    def __init__(self, root: str, fire_at: int | None, mid: bool, sig: int, log: Path | None):
        self.root = root
        self.n = 0
        self.fire_at = fire_at
        self.mid = mid
        self.sig = sig
        self.log = log
        self.trace: list[str] = []
        self.after_signal: int | None = None  # kill this many events after a SIGTERM
        self.fire_phase: str | None = None  # or fire at the first write of this phase

    def hit(self, path: str, data: bytes | None = None, fh: Any = None) -> None:
        if self.root not in path:
            return
        self.n += 1
        if self.log is not None:
            self.trace.append(phase_of(path))
        if (
            self.fire_phase is not None
            and self.fire_at is None
            and phase_of(path) == self.fire_phase
        ):
            self.fire_at = self.n
        if self.fire_at is not None and self.n == self.fire_at:
            if self.mid and data is not None and fh is not None:
                fh.write(data[: len(data) // 2])
                fh.flush()
            os.kill(os.getpid(), self.sig)
            time.sleep(0.05)  # SIGKILL does not return; a caught signal goes on from here


def install_hooks(events: Events) -> None:
    import safetensors.torch as st
    import torch

    real_open = builtins.open
    real_replace, real_rename = os.replace, os.rename

    class Watched:
        def __init__(self, fh: Any, path: str) -> None:
            self._fh, self._path = fh, path

        def write(self, data: Any) -> Any:
            raw = data.encode() if isinstance(data, str) else bytes(data)
            events.hit(
                self._path, raw, self._fh.buffer if hasattr(self._fh, "buffer") else self._fh
            )
            return self._fh.write(data)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._fh, name)

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *exc: Any) -> None:
            self._fh.close()

        def __iter__(self) -> Any:
            return iter(self._fh)

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(file, mode, *args, **kwargs)
        if isinstance(file, str | os.PathLike) and any(c in mode for c in "wax+"):
            return Watched(fh, os.fspath(file))
        return fh

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        events.hit(os.fspath(dst))
        real_replace(src, dst, *args, **kwargs)

    def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        events.hit(os.fspath(dst))
        real_rename(src, dst, *args, **kwargs)

    real_save = torch.save

    def save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(f, str | os.PathLike):
            import io

            buf = io.BytesIO()
            real_save(obj, buf, *args, **kwargs)
            data = buf.getvalue()
            with real_open(f, "wb") as fh:
                events.hit(os.fspath(f), data, fh)
                fh.write(data)
            return
        real_save(obj, f, *args, **kwargs)

    real_save_file = st.save_file

    def save_file(tensors: Any, filename: Any, *args: Any, **kwargs: Any) -> None:
        data = st.save(tensors, *args, **kwargs)
        with real_open(filename, "wb") as fh:
            events.hit(os.fspath(filename), data, fh)
            fh.write(data)

    import io

    builtins.open = open_
    io.open = open_  # pathlib's write_text/write_bytes
    os.replace, os.rename = replace, rename
    torch.save = save
    st.save_file = save_file
    del real_save_file


def drop_dac_override() -> None:
    """Drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from this process (capset(2)), so root's
    writes obey permission bits like anyone else's; files it owns stay readable."""
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    libc = ctypes.CDLL(None, use_errno=True)
    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    mask = ~((1 << 1) | (1 << 2)) & 0xFFFFFFFF  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    data[0].effective &= mask
    data[0].permitted &= mask
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def child(job: dict[str, Any], log_path: Path, trace_path: Path | None) -> None:
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    fault = job.get("fault") or {}
    if fault.get("drop_dac"):  # root that obeys file permissions: a 0555 folder gives EACCES
        drop_dac_override()
    from transformers import TrainerCallback

    from trainjob.run import RunOptions, run_and_report

    sig = {"kill": signal.SIGKILL, "sigterm": signal.SIGTERM, "sigint": signal.SIGINT}
    events = Events(
        job["out"],
        fault.get("event"),
        bool(fault.get("mid")),
        sig[fault.get("signal", "kill")],
        trace_path,
    )
    events.fire_phase = fault.get("phase")
    extra: list[Any] = []
    if fault.get("at_step"):

        class AtStep(TrainerCallback):  # type: ignore[misc]
            fired = False

            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                if not self.fired and state.global_step >= fault["at_step"]:
                    self.fired = True
                    if fault.get("kill_after") is not None:
                        events.fire_at = events.n + int(fault["kill_after"])
                        events.sig = signal.SIGKILL
                    os.kill(os.getpid(), sig[fault["step_signal"]])

        extra.append(AtStep())
    install_hooks(events)
    options = RunOptions(
        live=False,
        canary_steps=None,
        canary_minutes=None,
        watchdog_poll_seconds=0,
        threads=1,
        extra_callbacks=extra,
        **{k: Path(v) for k, v in job.get("paths", {}).items()},
    )
    try:
        rc = run_and_report(job["spec"], options)
    except BaseException:
        traceback.print_exc()
        rc = 99
    if trace_path is not None:
        trace_path.write_text(json.dumps(events.trace))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


def attempt(job: dict[str, Any], log_path: Path, trace: Path | None = None) -> int:
    pid = os.fork()
    if pid == 0:
        child(job, log_path, trace)
    fault = job.get("fault") or {}
    if fault.get("after_seconds") is not None:
        deadline = time.monotonic() + fault["after_seconds"]
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.005)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def names(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir()) if out.is_dir() else []


def run_case(job: dict[str, Any]) -> dict[str, Any]:
    """One fault and its reruns: what happened, for the test to judge."""
    work = Path(job["work"])
    work.mkdir(parents=True, exist_ok=True)
    out = Path(job["out"])
    if job.get("prepare_from"):
        shutil.copytree(job["prepare_from"], out)
        for name in job.get("remove", []):
            target = out / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        for op in job.get("corrupt", []):
            apply_corruption(out, op)
    result: dict[str, Any] = {"id": job["id"], "rcs": [], "logs": []}
    trace = work / "trace.json" if job.get("trace") else None
    first_log = work / "attempt-0.log"
    result["rcs"].append(attempt(job, first_log, trace))
    result["logs"].append(first_log.read_text(errors="replace"))
    if trace is not None and trace.is_file():
        result["trace"] = json.loads(trace.read_text())
    result["after_fault"] = names(out)
    for n in range(1, int(job.get("reruns", 1)) + 1):
        if job.get("before_rerun"):
            import subprocess

            subprocess.run(job["before_rerun"], check=True)
        log_path = work / f"attempt-{n}.log"
        rerun = {k: v for k, v in job.items() if k != "fault"}
        result["rcs"].append(attempt(rerun, log_path))
        result["logs"].append(log_path.read_text(errors="replace"))
    result["after_rerun"] = names(out)
    model_dir = Path(job.get("paths", {}).get("model_dir", out / "final-model"))
    result["final_hash"] = tensor_hash(model_dir)
    result["backup_hash"] = tensor_hash(
        Path(job.get("paths", {}).get("backup_dir", out / "final-model-backup"))
    )
    record = out / "trainjob-run.json"
    if record.is_file():
        result["attempts"] = json.loads(record.read_text())["attempts"]
    return result


def apply_corruption(out: Path, op: dict[str, Any]) -> None:
    file = out / op["file"]
    data = file.read_bytes()
    how = op["how"]
    if how == "flip":
        at = int(len(data) * op.get("at", 0.6))
        data = data[:at] + bytes(b ^ 0xFF for b in data[at : at + 8]) + data[at + 8 :]
    elif how == "truncate":
        data = data[: int(len(data) * op.get("keep", 0.5))]
    elif how == "replace":
        data = op["text"].encode()
    elif how == "torch":  # a loadable file of the wrong shape
        import io

        import torch

        buf = io.BytesIO()
        torch.save([1, 2, 3] if op["obj"] == "list" else {"python": 1}, buf)
        data = buf.getvalue()
    file.write_bytes(data)
    if op.get("unrecord"):
        manifest = out / "trainjob-manifest.json"
        doc = json.loads(manifest.read_text())
        doc["checkpoints"].pop(op["file"].split("/")[0], None)
        manifest.write_text(json.dumps(doc))


def main() -> int:
    import torch

    torch.set_num_threads(1)
    import transformers  # noqa: F401  (imported once, before forking)

    import trainjob.callbacks
    import trainjob.run  # noqa: F401

    jobs = json.loads(Path(sys.argv[1]).read_text())
    results = []
    for job in jobs:
        started = time.monotonic()
        try:
            found = run_case(job)
        except Exception:
            found = {"id": job["id"], "harness_error": traceback.format_exc()}
        found["seconds"] = round(time.monotonic() - started, 2)
        results.append(found)
        Path(sys.argv[2]).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
