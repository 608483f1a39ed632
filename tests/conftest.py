"""Shared test fixtures.

``moto_server`` starts moto in server mode (its own process, on a free loopback port) once per
session; ``aws`` points boto3 at it through ``AWS_ENDPOINT_URL`` with throwaway credentials and
resets the emulator's state, so every test starts from an empty account. Tests that need real
AWS are marked ``aws`` and skipped unless PREFLIGHT_REAL_AWS=1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

REAL_AWS = os.environ.get("PREFLIGHT_REAL_AWS") == "1"
# memplan asks the hub for an unknown model's config.json when online; tests never do (the
# hub tests start their own local endpoint and lift this).
os.environ.setdefault("MEMPLAN_OFFLINE", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU; this machine has none")
    skip_aws = pytest.mark.skip(reason="needs real AWS credentials; set PREFLIGHT_REAL_AWS=1")
    has_gpu = _has_cuda()
    for item in items:
        # get_closest_marker, not ``in item.keywords``: keywords also hold folder names (tests/aws).
        if item.get_closest_marker("gpu") is not None and not has_gpu:
            item.add_marker(skip_gpu)
        if item.get_closest_marker("aws") is not None and not REAL_AWS:
            item.add_marker(skip_aws)


def _has_cuda() -> bool:
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
        return False
    return os.path.exists("/dev/nvidia0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """URL of a moto server started for this test session on 127.0.0.1."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """boto3 pointed at a freshly reset moto server, with fake credentials; yields the URL."""
    req = urllib.request.Request(moto_server + "/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield moto_server
