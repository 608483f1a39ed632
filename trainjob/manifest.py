"""The checkpoint manifest: every checkpoint a run wrote, with file sizes, sha256 and the plan it
was trained under.

It lives next to the checkpoints (``trainjob-manifest.json`` in ``output_dir``), so on SageMaker
it is synced to S3 with them and comes back after a spot restart; a resume compares the job it is
about to run with the plan recorded for the checkpoint it resumes from. It is rewritten
atomically (temp file, fsync, ``os.replace``) so a kill mid-write leaves the previous version.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

MANIFEST_NAME = "trainjob-manifest.json"


def sha256_file(path: Path) -> str:
    """sha256 of a file, read in chunks (``hashlib.file_digest``): a 70 GB checkpoint is never
    held in memory."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, hashlib.sha256).hexdigest()


def describe_files(folder: Path) -> dict[str, dict[str, Any]]:
    """Relative path -> {bytes, sha256} for every file under ``folder``."""
    out: dict[str, dict[str, Any]] = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        out[file.relative_to(folder).as_posix()] = {
            "bytes": file.stat().st_size,
            "sha256": sha256_file(file),
        }
    return out


class Manifest:
    """Read-modify-write view of ``trainjob-manifest.json``."""

    def __init__(self, output_dir: Path) -> None:
        self.path = output_dir / MANIFEST_NAME
        self.data: dict[str, Any] = {"version": 1, "checkpoints": {}, "events": []}
        # Where a damaged manifest found at start was moved, if one was.
        self.damaged: Path | None = None
        if self.path.is_file():
            loaded = _read_manifest(self.path)
            if loaded is None:
                # A damaged manifest (torn, or JSON of another shape) is kept aside, never
                # overwritten by the next save.
                self.damaged = keep_aside(self.path)
            else:
                loaded.setdefault("events", [])
                self.data = loaded

    @property
    def checkpoints(self) -> dict[str, dict[str, Any]]:
        return self.data["checkpoints"]  # type: ignore[no-any-return]

    def entry(self, name: str) -> dict[str, Any] | None:
        return self.checkpoints.get(name)

    def record(self, folder: Path, *, step: int, kind: str, plan: dict[str, Any]) -> dict[str, Any]:
        """Record a validated checkpoint with its files' sizes and hashes."""
        files = describe_files(folder)
        entry = {
            "step": step,
            "kind": kind,
            "status": "valid",
            "files": files,
            "total_bytes": sum(f["bytes"] for f in files.values()),
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "plan": plan,
        }
        self.checkpoints[folder.name] = entry
        return entry

    def mark(self, name: str, status: str, detail: str = "") -> None:
        """Change a checkpoint's status (rotated, quarantined) and keep why."""
        entry = self.checkpoints.setdefault(name, {})
        entry["status"] = status
        if detail:
            entry["detail"] = detail

    def event(self, text: str) -> None:
        self.data["events"].append(
            {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "text": text}
        )

    def save(self) -> None:
        from .atomic import atomic_write_json

        atomic_write_json(self.path, self.data, indent=1, sort_keys=True)


def _read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest's content, or None when it does not parse or is not a manifest's shape."""
    try:
        loaded = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if isinstance(loaded, dict) and isinstance(loaded.get("checkpoints"), dict):
        return loaded
    return None


def keep_aside(path: Path) -> Path:
    """Rename ``path`` to ``<name>.damaged-<unix time>``, with a counter when that name is taken
    (two damaged manifests in one second must not overwrite each other)."""
    base = f"{path.name}.damaged-{int(time.time())}"
    target = path.with_name(base)
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{base}-{n}")
    path.rename(target)
    return target
