"""trainjob checkpoints: list and verify checkpoints in S3 (moto) and in a local output dir."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
from click.testing import CliRunner
from sm_checkpoints import checkpoint_files, put_checkpoint, write_checkpoint

from trainjob.cli_launch import checkpoints
from trainjob.manifest import Manifest
from trainjob.sagemaker.checkpoint_audit import audit_local, audit_s3

BUCKET = "ckpt-bucket"
PREFIX = "jobs/run1"


def _broken_variants(s3: object) -> None:
    good = checkpoint_files(300)
    put_checkpoint(
        s3,
        BUCKET,
        PREFIX,
        300,
        **{"adapter_model.safetensors": good["adapter_model.safetensors"][:-7]},
    )
    files = checkpoint_files(400)
    for name, body in files.items():
        if name != "trainer_state.json":
            s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/checkpoint-400/{name}", Body=body)  # type: ignore[attr-defined]
    put_checkpoint(s3, BUCKET, PREFIX, 500, **{"optimizer.pt": b"PK\x03\x04 cut short"})
    put_checkpoint(s3, BUCKET, PREFIX, 600, **{"trainer_state.json": b'{"global_step": 550}'})


def test_s3_audit_tells_valid_from_broken(aws: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    put_checkpoint(s3, BUCKET, PREFIX, 100)
    put_checkpoint(s3, BUCKET, PREFIX, 200)
    _broken_variants(s3)
    audit = audit_s3(s3, f"s3://{BUCKET}/{PREFIX}")
    by_name = {c.name: c for c in audit.checkpoints}
    assert [c.step for c in audit.checkpoints] == [100, 200, 300, 400, 500, 600]
    assert by_name["checkpoint-100"].valid and by_name["checkpoint-200"].valid
    assert any("truncated" in p for p in by_name["checkpoint-300"].problems)
    assert any("trainer_state.json missing" in p for p in by_name["checkpoint-400"].problems)
    assert any("optimizer.pt" in p for p in by_name["checkpoint-500"].problems)
    assert any("global_step 550" in p for p in by_name["checkpoint-600"].problems)
    assert audit.newest_valid is not None and audit.newest_valid.name == "checkpoint-200"
    assert by_name["checkpoint-100"].total_bytes == sum(
        len(b) for b in checkpoint_files(100).values()
    )


def test_cli_lists_s3_checkpoints_as_json_and_fails_on_broken(aws: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    put_checkpoint(s3, BUCKET, PREFIX, 100)
    result = CliRunner().invoke(checkpoints, [f"s3://{BUCKET}/{PREFIX}", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["present"] == 1 and data["valid"] == 1 and data["newest_valid"] == "checkpoint-100"
    _broken_variants(s3)
    result = CliRunner().invoke(checkpoints, [f"s3://{BUCKET}/{PREFIX}"])
    assert result.exit_code == 1
    assert "BROKEN" in result.stdout and "checkpoint-300" in result.stdout


def _manifested_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    manifest = Manifest(out)
    for step in (10, 20, 30):
        folder = write_checkpoint(out, step)
        manifest.record(folder, step=step, kind="periodic", plan={})
    manifest.save()
    return out


def test_local_manifest_catches_deleted_and_changed_checkpoints(tmp_path: Path) -> None:
    out = _manifested_dir(tmp_path)
    assert [c.valid for c in audit_local(out).checkpoints] == [True, True, True]
    # a rotation that said so is fine; one that did not is a lost checkpoint
    manifest = Manifest(out)
    manifest.mark("checkpoint-10", "rotated", "save_total_limit=2")
    manifest.save()
    shutil.rmtree(out / "checkpoint-10")
    shutil.rmtree(out / "checkpoint-20")
    # same size, other bytes: only a deep audit sees it
    cfg = out / "checkpoint-30" / "adapter_config.json"
    cfg.write_bytes(cfg.read_bytes().replace(b"4", b"5"))
    audit = audit_local(out)
    by_name = {c.name: c for c in audit.checkpoints}
    assert not by_name["checkpoint-10"].present and by_name["checkpoint-10"] not in audit.broken
    assert by_name["checkpoint-20"] in audit.broken
    assert by_name["checkpoint-30"].valid
    deep = {c.name: c for c in audit_local(out, deep=True).checkpoints}
    assert any("sha256" in p for p in deep["checkpoint-30"].problems)
    result = CliRunner().invoke(checkpoints, [str(out)])
    assert result.exit_code == 1
    assert "GONE" in result.stdout


def test_s3_audit_reads_the_synced_manifest(aws: str, tmp_path: Path) -> None:
    out = _manifested_dir(tmp_path)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for file in out.rglob("*"):
        if file.is_file() and "checkpoint-20" not in file.parts:
            key = f"{PREFIX}/{file.relative_to(out).as_posix()}"
            s3.put_object(Bucket=BUCKET, Key=key, Body=file.read_bytes())
    audit = audit_s3(s3, f"s3://{BUCKET}/{PREFIX}")
    assert audit.manifest_found
    assert [c.name for c in audit.broken] == ["checkpoint-20"]
    assert [c.name for c in audit.present] == ["checkpoint-10", "checkpoint-30"]


def test_missing_local_dir_is_unusable(tmp_path: Path) -> None:
    result = CliRunner().invoke(checkpoints, [str(tmp_path / "nope")])
    assert result.exit_code == 2


def _safetensors(header: dict[str, object], data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data


def test_s3_audit_checks_safetensors_headers_as_a_local_checkpoint(aws: str) -> None:
    """A header whose dtype and shape need more bytes than its offsets hold, or one with a
    malformed entry, is unusable in S3 as it is on disk (the safetensors library refuses both),
    even though its last offset matches the object's size."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    short = _safetensors(
        {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 12]}}, b"\0" * 12
    )
    malformed = _safetensors({"w": {"dtype": "F32", "shape": [1], "data_offsets": None}}, b"\0" * 4)
    put_checkpoint(s3, BUCKET, PREFIX, 100, **{"adapter_model.safetensors": short})
    put_checkpoint(s3, BUCKET, PREFIX, 200, **{"adapter_model.safetensors": malformed})
    by_name = {c.name: c for c in audit_s3(s3, f"s3://{BUCKET}/{PREFIX}").checkpoints}
    assert by_name["checkpoint-100"].problems == [
        "adapter_model.safetensors: tensor 'w' holds 12 bytes, its F32 shape [2, 3] needs 24"
    ]
    assert by_name["checkpoint-200"].problems == [
        "adapter_model.safetensors: tensor 'w' has no valid dtype, shape and data_offsets"
    ]
