"""How much of a checkpoint `trainjob checkpoints s3://...` downloads to verify it, and how long.

Starts moto in server mode on 127.0.0.1, uploads checkpoints whose weights and optimizer files
grow from 1 MiB to 64 MiB, and counts the bytes of every GetObject response during a default
audit and a --deep audit. Writes results.json and results.md next to this file.

    .venv/bin/python benchmarks/trainjob-launch/s3_audit_reads.py
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save as save_safetensors

HERE = Path(__file__).resolve().parent
SIZES_MIB = (1, 4, 16, 64)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _zip(nbytes: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data/0", os.urandom(nbytes))
    return buf.getvalue()


def _checkpoint(step: int, mib: int) -> dict[str, bytes]:
    n = mib * 1024 * 1024 // 4
    weights = save_safetensors({"w": np.random.default_rng(step).random(n, dtype=np.float32)})
    return {
        "adapter_model.safetensors": weights,
        "adapter_config.json": b'{"r": 16}',
        "trainer_state.json": json.dumps({"global_step": step}).encode(),
        "optimizer.pt": _zip(2 * mib * 1024 * 1024),
        "scheduler.pt": _zip(1024),
    }


def main() -> None:
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    os.environ.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        import boto3

        from trainjob.sagemaker.checkpoint_audit import audit_s3

        s3 = boto3.client("s3")
        read = {"bytes": 0, "calls": 0}

        def count(**kwargs: Any) -> None:
            parsed = kwargs.get("parsed") or {}
            read["bytes"] += int(parsed.get("ContentLength", 0))
            read["calls"] += 1

        s3.meta.events.register("after-call.s3.GetObject", count)
        rows = []
        for mib in SIZES_MIB:
            bucket = f"bench-{mib}"
            s3.create_bucket(Bucket=bucket)
            files = _checkpoint(100, mib)
            for name, body in files.items():
                s3.put_object(Bucket=bucket, Key=f"ck/checkpoint-100/{name}", Body=body)
            total = sum(len(b) for b in files.values())
            manifest = {
                "version": 1,
                "checkpoints": {
                    "checkpoint-100": {
                        "step": 100,
                        "status": "valid",
                        "files": {
                            n: {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                            for n, b in files.items()
                        },
                    }
                },
            }
            s3.put_object(
                Bucket=bucket, Key="ck/trainjob-manifest.json", Body=json.dumps(manifest).encode()
            )
            for deep in (False, True):
                read.update(bytes=0, calls=0)
                t0 = time.perf_counter()
                audit = audit_s3(s3, f"s3://{bucket}/ck", deep=deep)
                elapsed = time.perf_counter() - t0
                assert audit.checkpoints[0].valid, audit.checkpoints[0].problems
                rows.append(
                    {
                        "checkpoint_bytes": total,
                        "deep": deep,
                        "bytes_read": read["bytes"],
                        "get_object_calls": read["calls"],
                        "fraction_read": round(read["bytes"] / total, 6),
                        "seconds": round(elapsed, 3),
                    }
                )
    finally:
        server.terminate()
        server.wait(timeout=10)
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()[:12]
    result = {
        "what": "bytes downloaded by trainjob checkpoints s3:// (moto server on loopback)",
        "machine": {"platform": platform.platform(), "lscpu": lscpu},
        "rows": rows,
    }
    (HERE / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# trainjob checkpoints s3://: bytes read to verify one checkpoint",
        "",
        "moto server on 127.0.0.1; one LoRA-shaped checkpoint (safetensors weights, optimizer.pt",
        "twice their size) and the run's manifest; `s3_audit_reads.py`. Default mode reads the",
        "listing, trainer_state.json, the manifest, the safetensors header and the zip end",
        "records; deep mode also hashes every file. Machine: " + platform.platform(),
        "",
        "| checkpoint size | mode | bytes read | GetObject calls | fraction | seconds |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['checkpoint_bytes'] / 2**20:.1f} MiB | {'deep' if r['deep'] else 'default'} | "
            f"{r['bytes_read']:,} | {r['get_object_calls']} | {r['fraction_read']:.6f} | "
            f"{r['seconds']} |"
        )
    lines += ["", "```", *lscpu, "```", ""]
    (HERE / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
