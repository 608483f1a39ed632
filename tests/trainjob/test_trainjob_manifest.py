"""The manifest: sizes and sha256 per file, atomic rewrite, damaged files kept aside."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from trainjob.manifest import MANIFEST_NAME, Manifest


def test_record_holds_sizes_and_hashes_and_survives_reload(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint-3"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.bin").write_bytes(b"abc")
    (folder / "sub" / "b.txt").write_bytes(b"hello world")
    m = Manifest(tmp_path)
    entry = m.record(folder, step=3, kind="canary", plan={"max_steps": 9})
    m.save()
    assert entry["files"]["a.bin"] == {"bytes": 3, "sha256": hashlib.sha256(b"abc").hexdigest()}
    assert entry["files"]["sub/b.txt"]["bytes"] == 11
    assert entry["total_bytes"] == 14
    again = Manifest(tmp_path).entry("checkpoint-3")
    assert again is not None and again["kind"] == "canary" and again["plan"] == {"max_steps": 9}
    assert not list(tmp_path.glob(".*.tmp"))


def test_damaged_manifest_is_moved_aside_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text("{half")
    m = Manifest(tmp_path)
    assert m.checkpoints == {}
    kept = list(tmp_path.glob(f"{MANIFEST_NAME}.damaged-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{half"


def test_mark_keeps_the_reason(tmp_path: Path) -> None:
    m = Manifest(tmp_path)
    m.mark("checkpoint-1", "rotated", "save_total_limit=2")
    m.save()
    data = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert data["checkpoints"]["checkpoint-1"] == {
        "status": "rotated",
        "detail": "save_total_limit=2",
    }
