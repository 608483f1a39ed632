"""List and verify a job's checkpoints where they survive: the S3 prefix, or a local output dir.

This is the seed's "list all checkpoints at end", available at any time during the run. For S3
nothing is downloaded whole by default: a checkpoint is judged by the object listing, its
``trainer_state.json`` (small; its ``global_step`` must match the folder name, it is written last),
the header of each ``.safetensors`` file (a ranged GET: the file must be exactly as long as the
header promises), the end of ``optimizer.pt`` / ``scheduler.pt`` (a torch.save zip ends with an
end-of-central-directory record), and the local runner's ``trainjob-manifest.json`` when it was
synced too (sizes per file; with ``deep=True`` the sha256 of every file). A local dir is judged by
the run side's own ``trainjob.checkpoints.validate_checkpoint`` plus the same manifest comparison.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..checkpoints import safetensors_header_problem
from .s3uri import S3Uri

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
MANIFEST_NAME = "trainjob-manifest.json"
SENTINEL = "checkpoint-is-incomplete.txt"
STATE_FILE = "trainer_state.json"
WEIGHT_FILES = (
    "adapter_model.safetensors",
    "adapter_model.bin",
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
)
ZIP_FILES = ("optimizer.pt", "scheduler.pt")
_EOCD = b"PK\x05\x06"  # zip end-of-central-directory signature
_EOCD_TAIL = 22 + 65535  # the record is 22 bytes plus a comment of at most 64 KiB


@dataclass
class CheckpointStatus:
    """One checkpoint: where, how big, when, and whether a resume could use it."""

    name: str
    step: int
    files: dict[str, int] = field(default_factory=dict)
    last_modified: datetime | None = None
    problems: list[str] = field(default_factory=list)
    manifest_status: str | None = None
    present: bool = True

    @property
    def valid(self) -> bool:
        return self.present and not self.problems

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "step": self.step,
            "present": self.present,
            "valid": self.valid,
            "files": len(self.files),
            "bytes": self.total_bytes,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "manifest_status": self.manifest_status,
            "problems": self.problems,
        }


@dataclass
class Audit:
    """Every checkpoint under one location, oldest step first."""

    location: str
    checkpoints: list[CheckpointStatus]
    manifest_found: bool
    other_entries: list[str] = field(default_factory=list)

    @property
    def present(self) -> list[CheckpointStatus]:
        return [c for c in self.checkpoints if c.present]

    @property
    def newest_valid(self) -> CheckpointStatus | None:
        valid = [c for c in self.checkpoints if c.valid]
        return valid[-1] if valid else None

    @property
    def broken(self) -> list[CheckpointStatus]:
        """Present but unusable, or recorded as valid in the manifest and now gone."""
        return [
            c
            for c in self.checkpoints
            if (c.present and c.problems) or (not c.present and c.manifest_status == "valid")
        ]

    def to_json(self) -> dict[str, Any]:
        newest = self.newest_valid
        return {
            "location": self.location,
            "manifest": self.manifest_found,
            "checkpoints": [c.to_json() for c in self.checkpoints],
            "present": len(self.present),
            "valid": sum(1 for c in self.checkpoints if c.valid),
            "broken": len(self.broken),
            "newest_valid": newest.name if newest else None,
            "other_entries": self.other_entries,
        }


def checkpoint_step(name: str) -> int | None:
    match = CHECKPOINT_RE.match(name)
    return int(match.group(1)) if match else None


# -- S3 ------------------------------------------------------------------------------------------


def list_s3_objects(s3: Any, uri: str) -> list[dict[str, Any]]:
    """Every object under an s3:// prefix (Key relative to the prefix, Size, LastModified)."""
    loc = S3Uri.parse(uri)
    out: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=loc.bucket, Prefix=loc.prefix):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(loc.prefix) :]
            if rel:
                out.append({"Key": rel, "Size": obj["Size"], "LastModified": obj["LastModified"]})
    return out


def group_checkpoints(
    objects: list[dict[str, Any]],
) -> tuple[dict[str, CheckpointStatus], list[str]]:
    """Objects grouped into ``checkpoint-N`` folders; other top-level names are returned apart."""
    found: dict[str, CheckpointStatus] = {}
    other: set[str] = set()
    for obj in objects:
        top, _, rest = obj["Key"].partition("/")
        step = checkpoint_step(top)
        if step is None or not rest:
            other.add(top)
            continue
        status = found.setdefault(top, CheckpointStatus(name=top, step=step))
        status.files[rest] = int(obj["Size"])
        modified = obj.get("LastModified")
        if modified is not None and (
            status.last_modified is None or modified > status.last_modified
        ):
            status.last_modified = modified
    return found, sorted(other)


class _S3Reader:
    """Ranged reads of one checkpoint prefix."""

    def __init__(self, s3: Any, loc: S3Uri) -> None:
        self.s3 = s3
        self.loc = loc

    def key(self, rel: str) -> str:
        return self.loc.prefix + rel

    def read(self, rel: str, byte_range: str | None = None) -> bytes:
        kwargs: dict[str, Any] = {"Bucket": self.loc.bucket, "Key": self.key(rel)}
        if byte_range:
            kwargs["Range"] = byte_range
        body: bytes = self.s3.get_object(**kwargs)["Body"].read()
        return body

    def sha256(self, rel: str) -> str:
        digest = hashlib.sha256()
        body = self.s3.get_object(Bucket=self.loc.bucket, Key=self.key(rel))["Body"]
        for chunk in iter(lambda: body.read(1 << 20), b""):
            digest.update(chunk)
        return digest.hexdigest()


def verify_s3_checkpoint(
    reader: _S3Reader, status: CheckpointStatus, *, require_optimizer: bool = True
) -> None:
    """Fill ``status.problems`` from the listing and a few small reads.

    ``require_optimizer`` is False only for ``save_only_model=True`` runs, whose checkpoints hold
    no optimizer state by design.
    """
    files = status.files
    prefix = f"{status.name}/"
    problems = status.problems
    if SENTINEL in files:
        problems.append("incomplete save (checkpoint-is-incomplete.txt present)")
    if STATE_FILE not in files:
        problems.append("trainer_state.json missing (save did not finish)")
    else:
        try:
            state = json.loads(reader.read(prefix + STATE_FILE))
            saved = state.get("global_step") if isinstance(state, dict) else None
            if saved != status.step:
                problems.append(
                    f"global_step {saved} in trainer_state.json, folder says {status.step}"
                )
        except ValueError as exc:
            problems.append(f"trainer_state.json does not parse ({str(exc)[:60]})")
    weights = [name for name in WEIGHT_FILES if name in files]
    if not weights:
        problems.append("no model weights (adapter_model.safetensors or model.safetensors)")
    for name in weights:
        if name.endswith(".safetensors"):
            error = _safetensors_problem(reader, prefix + name, files[name])
            if error:
                problems.append(f"{name}: {error}")
        elif files[name] == 0:
            problems.append(f"{name} is empty")
    if "adapter_model.safetensors" in files and "adapter_config.json" not in files:
        problems.append("adapter_config.json missing")
    for name in ZIP_FILES:
        if name not in files:
            if require_optimizer:
                problems.append(f"{name} missing")
        elif not _zip_complete(reader, prefix + name, files[name]):
            problems.append(f"{name} is truncated (no zip end record)")


def _safetensors_problem(reader: _S3Reader, rel: str, size: int) -> str | None:
    if size < 8:
        return "truncated (no header)"
    (header_len,) = struct.unpack("<Q", reader.read(rel, "bytes=0-7"))
    if header_len > size - 8:
        return "truncated (header longer than file)"
    try:
        header = json.loads(reader.read(rel, f"bytes=8-{8 + header_len - 1}"))
    except ValueError:
        return "header does not parse"
    # The same checks as a local checkpoint (offsets, dtype sizes, the end of the file).
    return safetensors_header_problem(header, header_len, size)


def _zip_complete(reader: _S3Reader, rel: str, size: int) -> bool:
    """The end record is the last 22 bytes unless the archive has a comment (torch.save writes
    none), so read those first and the 64 KiB tail only when they are not it."""
    if size < 22:
        return False
    if reader.read(rel, f"bytes={size - 22}-{size - 1}").startswith(_EOCD):
        return True
    start = max(0, size - _EOCD_TAIL)
    return _EOCD in reader.read(rel, f"bytes={start}-{size - 1}")


def audit_s3(s3: Any, uri: str, *, deep: bool = False, require_optimizer: bool = True) -> Audit:
    """Audit the checkpoints under an s3:// prefix (the job's ``CheckpointConfig.S3Uri``)."""
    loc = S3Uri.parse(uri)
    objects = list_s3_objects(s3, uri)
    found, other = group_checkpoints(objects)
    reader = _S3Reader(s3, loc)
    for status in found.values():
        verify_s3_checkpoint(reader, status, require_optimizer=require_optimizer)
    manifest: dict[str, Any] | None = None
    if MANIFEST_NAME in other:
        try:
            manifest = json.loads(reader.read(MANIFEST_NAME))
        except ValueError:
            other.append(f"{MANIFEST_NAME} (does not parse)")
    checkpoints = _merge_manifest(found, manifest, deep=deep, sha256=reader.sha256)
    return Audit(
        str(loc), checkpoints, manifest is not None, [o for o in other if o != MANIFEST_NAME]
    )


# -- local ---------------------------------------------------------------------------------------


def audit_local(folder: Path, *, deep: bool = False, require_optimizer: bool = True) -> Audit:
    """Audit ``checkpoint-N`` folders in a local output dir (the run side's validation)."""
    from trainjob.checkpoints import validate_checkpoint
    from trainjob.manifest import sha256_file

    found: dict[str, CheckpointStatus] = {}
    other: list[str] = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        step = checkpoint_step(path.name)
        if step is None or not path.is_dir():
            if path.name != MANIFEST_NAME:
                other.append(path.name)
            continue
        files = {
            f.relative_to(path).as_posix(): f.stat().st_size for f in path.rglob("*") if f.is_file()
        }
        mtimes = [f.stat().st_mtime for f in path.rglob("*") if f.is_file()]
        check = validate_checkpoint(path, require_optimizer=require_optimizer)
        status = CheckpointStatus(
            name=path.name,
            step=step,
            files=files,
            last_modified=_utc(max(mtimes)) if mtimes else None,
            problems=list(check.problems),
        )
        found[path.name] = status
    manifest: dict[str, Any] | None = None
    manifest_path = folder / MANIFEST_NAME
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except ValueError:
            other.append(f"{MANIFEST_NAME} (does not parse)")
    checkpoints = _merge_manifest(
        found, manifest, deep=deep, sha256=lambda rel: sha256_file(folder / rel)
    )
    return Audit(str(folder), checkpoints, manifest is not None, other)


def _utc(timestamp: float) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(timestamp, tz=UTC)


# -- the manifest --------------------------------------------------------------------------------


def _merge_manifest(
    found: dict[str, CheckpointStatus],
    manifest: dict[str, Any] | None,
    *,
    deep: bool,
    sha256: Any,
) -> list[CheckpointStatus]:
    """Compare what is there with what the runner recorded (sizes, and hashes when ``deep``)."""
    recorded = manifest.get("checkpoints", {}) if isinstance(manifest, dict) else {}
    if not isinstance(recorded, dict):
        recorded = {}
    for name, entry in recorded.items():
        step = checkpoint_step(name)
        if step is None or not isinstance(entry, dict):
            continue
        status = found.get(name)
        entry_status = str(entry.get("status", "valid"))
        if status is None:
            gone = CheckpointStatus(
                name=name, step=step, present=False, manifest_status=entry_status
            )
            if entry_status == "valid":
                gone.problems.append("recorded valid in the manifest, missing here (deleted?)")
            found[name] = gone
            continue
        status.manifest_status = entry_status
        for rel, info in (entry.get("files") or {}).items():
            if not isinstance(info, dict):
                continue
            size = status.files.get(rel)
            if size is None:
                status.problems.append(f"{rel} recorded in the manifest, missing here")
            elif info.get("bytes") is not None and size != info["bytes"]:
                status.problems.append(f"{rel}: {size} bytes here, {info['bytes']} recorded")
            elif deep and info.get("sha256") and sha256(f"{name}/{rel}") != info["sha256"]:
                status.problems.append(f"{rel}: sha256 differs from the manifest")
    return sorted(found.values(), key=lambda c: c.step)
