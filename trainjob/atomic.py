"""Writes a kill cannot leave half-made: a temporary sibling, fsync, rename, fsync of the folder.

A rename within one filesystem is atomic (POSIX ``rename(2)``), so a reader sees the old file or
the new one, never a mix. A folder that must stay where it is (SageMaker's ``SM_MODEL_DIR`` is
created by the platform) is filled file by file the same way, with a marker written *before* the
first file ("writing") and rewritten *after* the last ("complete", with every file's sha256):
whatever instant a kill picks, the folder either holds the marker and is trainjob's to rewrite,
or is exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

TMP_SUFFIX = ".trainjob-tmp"


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step; on failure the old file is untouched and the
    temporary sibling is removed (it is trainjob's own, half-written)."""
    tmp = path.with_name(f".{path.name}{TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())  # str.encode is UTF-8 whatever the locale


def atomic_write_json(path: Path, data: Any, **kwargs: Any) -> None:
    atomic_write_text(path, json.dumps(data, **kwargs))


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_folder(staging: Path, target: Path) -> None:
    """Move a finished folder into place: ``staging`` is renamed to ``target`` when ``target``
    does not exist; otherwise each file is fsynced and renamed into ``target`` (same fs)."""
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    for file in files:
        fsync_file(file)
    fsync_dir(staging)
    if not target.exists():
        os.replace(staging, target)
        fsync_dir(target.parent)
        return
    for file in files:
        dest = target / file.relative_to(staging)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(file, dest)
    fsync_dir(target)
    # Every file is published by now; a staging folder that cannot be removed is replaced by the
    # next staging_for, so a failure here must not read as a failed publish.
    shutil.rmtree(staging, ignore_errors=True)


def staging_for(target: Path) -> Path:
    """A fresh temporary sibling of ``target`` (same filesystem, so renames are atomic).

    A leftover of a killed attempt has the same name and is trainjob's own half-made copy: it is
    replaced, never read."""
    staging = target.with_name(f".{target.name}{TMP_SUFFIX}")
    if staging.exists():
        shutil.rmtree(staging)
    return staging
