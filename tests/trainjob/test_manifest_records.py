"""What the manifest records for each checkpoint, on real files: the fields a resume and the S3
audit read back, the file format on disk, and damaged manifests kept aside, never overwritten."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from trainjob.manifest import MANIFEST_NAME, Manifest, describe_files, sha256_file

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def assert_utc_stamp(text: str, before: float, after: float) -> None:
    """``text`` is an ISO UTC second between ``before`` and ``after`` (wall clock)."""
    assert STAMP.match(text), text
    at = calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    assert int(before) <= at <= after, (text, before, after)


def on_disk(root: Path) -> dict[str, Any]:
    return json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_a_new_manifest_is_written_only_on_save(tmp_path: Path) -> None:
    m = Manifest(tmp_path)
    assert m.damaged is None and not (tmp_path / MANIFEST_NAME).exists()
    m.save()
    assert on_disk(tmp_path) == {"version": 1, "checkpoints": {}, "events": []}


def test_a_record_holds_every_file_with_its_size_and_hash(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint-40"
    (folder / "sub").mkdir(parents=True)
    big = bytes(range(256)) * (10 * 1024 + 3)  # 2.5 MiB and a bit: hashed in several chunks
    (folder / "optimizer.pt").write_bytes(big)
    (folder / "sub" / "b.json").write_bytes(b"{}")
    (folder / "empty.txt").write_bytes(b"")
    m = Manifest(tmp_path)
    before = time.time()
    stored = m.record(folder, step=40, kind="periodic", plan={"max_steps": 80, "lora_r": 8})
    after = time.time()
    entry = dict(stored)
    stamp = entry.pop("recorded_at")
    assert_utc_stamp(stamp, before, after)
    files = {
        "empty.txt": {"bytes": 0, "sha256": hashlib.sha256(b"").hexdigest()},
        "optimizer.pt": {"bytes": len(big), "sha256": hashlib.sha256(big).hexdigest()},
        "sub/b.json": {"bytes": 2, "sha256": hashlib.sha256(b"{}").hexdigest()},
    }
    assert entry == {
        "step": 40,
        "kind": "periodic",
        "status": "valid",
        "files": files,
        "total_bytes": len(big) + 2,
        "plan": {"max_steps": 80, "lora_r": 8},
    }
    assert list(entry["files"]) == sorted(files)  # sorted, folders themselves not listed
    assert m.entry("checkpoint-40") is stored and m.entry("checkpoint-41") is None
    m.save()
    saved = on_disk(tmp_path)["checkpoints"]["checkpoint-40"]
    assert saved == {**entry, "recorded_at": stamp}


def test_sha256_file_and_describe_files_agree_with_hashlib(tmp_path: Path) -> None:
    data = b"x" * ((1 << 20) + 1)  # one byte past the read size
    (tmp_path / "a").write_bytes(data)
    assert sha256_file(tmp_path / "a") == hashlib.sha256(data).hexdigest()
    assert describe_files(tmp_path) == {
        "a": {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    }


def test_the_file_is_sorted_and_indented_so_saves_diff_cleanly(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        root.mkdir()
    a = Manifest(one)
    a.mark("checkpoint-1", "rotated", "limit")
    a.mark("checkpoint-2", "quarantined")
    b = Manifest(two)
    b.mark("checkpoint-2", "quarantined")
    b.mark("checkpoint-1", "rotated", "limit")
    a.save()
    b.save()
    text = (one / MANIFEST_NAME).read_text(encoding="utf-8")
    # the same content written in another order is byte for byte the same file
    assert text == (two / MANIFEST_NAME).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1] == ' "checkpoints": {'  # one key a line, indent 1
    assert lines.index(' "events": [],') < lines.index(' "version": 1')


def test_events_are_stamped_and_kept_across_reloads(tmp_path: Path) -> None:
    m = Manifest(tmp_path)
    before = time.time()
    m.event("resumed from checkpoint-10")
    after = time.time()
    m.save()
    (event,) = on_disk(tmp_path)["events"]
    assert set(event) == {"at", "text"} and event["text"] == "resumed from checkpoint-10"
    assert_utc_stamp(event["at"], before, after)
    again = Manifest(tmp_path)
    again.event("second")
    assert [e["text"] for e in again.data["events"]] == ["resumed from checkpoint-10", "second"]


def test_a_manifest_from_before_events_gets_an_event_list(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text('{"version": 1, "checkpoints": {"checkpoint-2": {}}}')
    m = Manifest(tmp_path)
    assert m.damaged is None and m.entry("checkpoint-2") == {}
    m.event("upgraded")
    m.save()
    data = on_disk(tmp_path)
    assert data["checkpoints"] == {"checkpoint-2": {}}
    assert [e["text"] for e in data["events"]] == ["upgraded"]


def test_mark_changes_status_and_keeps_what_was_recorded(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint-3"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"abc")
    m = Manifest(tmp_path)
    recorded = dict(m.record(folder, step=3, kind="periodic", plan={}))
    m.mark("checkpoint-3", "rotated", "save_total_limit=2")
    assert m.entry("checkpoint-3") == {
        **recorded,
        "status": "rotated",
        "detail": "save_total_limit=2",
    }
    m.mark("checkpoint-3", "quarantined")  # no new detail: the old one is kept
    assert m.entry("checkpoint-3") == {
        **recorded,
        "status": "quarantined",
        "detail": "save_total_limit=2",
    }
    m.mark("checkpoint-9", "invalid")  # never recorded: the status alone
    assert m.entry("checkpoint-9") == {"status": "invalid"}


@pytest.mark.parametrize(
    "text",
    [
        '{"version": 1, "checkpoints": {"checkpoint-1": ',  # torn by a kill
        "",
        "[1, 2]",  # JSON of another shape: not ours to overwrite either
        '{"version": 1, "checkpoints": []}',
        '{"version": 1}',
        "\udcff",
    ],
)
def test_a_damaged_manifest_is_kept_aside_under_a_dated_name(tmp_path: Path, text: str) -> None:
    raw = text.encode("utf-8", "surrogateescape")  # the last case is a byte that is not UTF-8
    (tmp_path / MANIFEST_NAME).write_bytes(raw)
    before = time.time()
    m = Manifest(tmp_path)
    after = time.time()
    assert m.damaged is not None and m.damaged.parent == tmp_path
    match = re.fullmatch(re.escape(MANIFEST_NAME) + r"\.damaged-(\d+)", m.damaged.name)
    assert match and int(before) <= int(match.group(1)) <= after
    assert m.damaged.read_bytes() == raw
    assert not (tmp_path / MANIFEST_NAME).exists()
    assert m.data == {"version": 1, "checkpoints": {}, "events": []}
    m.save()
    assert m.damaged.read_bytes() == raw  # the save wrote a new file, not over the old one


def test_damaged_manifests_of_one_second_are_all_kept(tmp_path: Path) -> None:
    now = int(time.time())
    # the damaged name of this second (and of the next few, should the clock tick) is taken
    earlier = [tmp_path / f"{MANIFEST_NAME}.damaged-{t}" for t in range(now, now + 5)]
    for path in earlier:
        path.write_text("earlier")
    (tmp_path / MANIFEST_NAME).write_text("{torn")
    moved = Manifest(tmp_path).damaged
    assert moved is not None and moved.read_text() == "{torn"
    match = re.fullmatch(re.escape(MANIFEST_NAME) + r"\.damaged-(\d+)-2", moved.name)
    assert match and now <= int(match.group(1)) < now + 5, moved.name
    assert all(path.read_text() == "earlier" for path in earlier)


def test_stamps_are_utc_on_a_machine_in_another_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "XYZ+05")  # five hours behind UTC, no daylight saving
    time.tzset()
    try:
        assert time.localtime().tm_hour != time.gmtime().tm_hour
        folder = tmp_path / "checkpoint-1"
        folder.mkdir()
        m = Manifest(tmp_path)
        before = time.time()
        entry = m.record(folder, step=1, kind="periodic", plan={})
        m.event("x")
        after = time.time()
        assert_utc_stamp(entry["recorded_at"], before, after)
        assert_utc_stamp(m.data["events"][0]["at"], before, after)
    finally:
        monkeypatch.undo()
        time.tzset()
