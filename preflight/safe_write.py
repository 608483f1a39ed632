"""Every file a command writes goes through here, so none of them can destroy what a user owns.

Three refusals, with the same words in every command:

- an existing file is replaced only with ``--overwrite``;
- a symbolic link is never written through, dangling or not, even with ``--overwrite`` (it
  may point at a file the user never named: ``~/.bashrc``, another job's spec);
- a command never writes its output onto one of its own inputs
  (``preflight check job.yaml -o job.yaml`` would replace the spec with its report).

The write itself creates the file with ``O_EXCL | O_NOFOLLOW`` (so a file or link that appears
between the check and the write is not clobbered), or, with ``--overwrite``, writes a temporary
file beside it and renames it over the old one, so a failed write leaves the old file whole.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

OVERWRITE_FLAG = "--overwrite"


class UnsafeWrite(Exception):
    """Writing this path would replace, follow a link or clobber an input: the message says which."""


def exists_message(path: Path) -> str:
    return f"{path} already exists; pass {OVERWRITE_FLAG} to replace it, or choose another path"


def check_target(path: Path, *, overwrite: bool = False, inputs: Iterable[Path] = ()) -> None:
    """Raise UnsafeWrite when ``path`` must not be written; return when it may."""
    if path.is_symlink():
        target = os.readlink(path)
        raise UnsafeWrite(
            f"{path} is a symbolic link (to {target}); refusing to write through it, even with "
            f"{OVERWRITE_FLAG}: remove the link or choose another path"
        )
    for source in inputs:
        if _same_file(path, source):
            raise UnsafeWrite(
                f"{path} is an input of this command ({source}); refusing to write the output "
                "onto it: choose another path"
            )
    if path.exists():
        if path.is_dir():
            raise UnsafeWrite(f"{path} is a directory; choose a file path")
        if not overwrite:
            raise UnsafeWrite(exists_message(path))


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.abspath(a) == os.path.abspath(b)


def write_bytes(
    path: Path, data: bytes, *, overwrite: bool = False, inputs: Iterable[Path] = ()
) -> None:
    """Write ``data`` to ``path`` after :func:`check_target`; raise UnsafeWrite or OSError."""
    path = Path(path)
    check_target(path, overwrite=overwrite, inputs=inputs)
    if not path.exists():
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags, 0o644)
        except FileExistsError:
            raise UnsafeWrite(exists_message(path)) from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        check_target(path, overwrite=overwrite, inputs=inputs)  # nothing swapped in meanwhile
        os.replace(tmp, path)  # replaces the name, never follows a link
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_text(
    path: Path, text: str, *, overwrite: bool = False, inputs: Iterable[Path] = ()
) -> None:
    """UTF-8 text version of :func:`write_bytes`."""
    write_bytes(path, text.encode("utf-8"), overwrite=overwrite, inputs=inputs)
