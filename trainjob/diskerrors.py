"""Recognising a disk problem, whatever shape the library that hit it gave it.

A full disk reaches trainjob as ``OSError(ENOSPC)`` from plain writes, as a ``RuntimeError`` from
``torch.save`` (its zip writer reports "file write failed" or "PytorchStreamWriter failed"), or as
a ``SafetensorError`` from safetensors ("No space left on device (os error 28)"). A read-only
folder is ``EROFS`` or ``EACCES``/``EPERM``.
"""

from __future__ import annotations

import errno
from pathlib import Path

from .errors import TrainjobError

_FULL_TEXT = (
    "No space left on device",
    "os error 28",
    "file write failed",
    "PytorchStreamWriter failed writing",
    "unexpected pos",
)
_READONLY_TEXT = ("Read-only file system", "os error 30", "Permission denied", "os error 13")


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in out:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


def disk_problem(exc: BaseException) -> str | None:
    """``"full"``, ``"read-only"`` or None for an exception (or anything in its chain)."""
    for item in _chain(exc):
        if isinstance(item, OSError) and item.errno == errno.ENOSPC:
            return "full"
        if isinstance(item, OSError) and item.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "read-only"
        text = str(item)
        if any(t in text for t in _FULL_TEXT):
            return "full"
        if any(t in text for t in _READONLY_TEXT):
            return "read-only"
    return None


def is_disk_full(exc: BaseException) -> bool:
    return disk_problem(exc) == "full"


def first_line(exc: BaseException | None) -> str:
    text = str(exc) if exc is not None else ""
    return text.splitlines()[0] if text else type(exc).__name__


def disk_error(
    exc: BaseException, where: Path, *, started: bool, good: str | None = None
) -> TrainjobError:
    """The one line (exit 2) for a disk that is full or not writable: the path and what is safe."""
    kind = disk_problem(exc)
    what = {"full": "disk full", "read-only": "not writable (read-only or permission denied)"}
    safe = (
        f"the last valid checkpoint is {good or 'none'} and is intact; partial saves were moved "
        "aside, not deleted"
        if started
        else "nothing was trained and nothing half-written was left behind"
    )
    return TrainjobError(
        f"{what.get(kind or '', 'cannot write')}: {where}: {first_line(exc)}. {safe}. Free space "
        "or fix the folder's permissions (or choose another --output-dir), then run again: it "
        "resumes.",
        exit_code=2,
    )
