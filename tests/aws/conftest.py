"""Fixtures of the AWS audit tests (the moto server itself comes from tests/conftest.py).

The root conftest skips items whose ``keywords`` contain "aws" (meant for the real-AWS marker);
pytest also puts parent directory names into ``keywords``, so every test in this ``tests/aws``
folder would be skipped. Until the root hook asks ``item.get_closest_marker("aws")``, the hook
below removes that skip again from items that do not carry the marker.
"""

from __future__ import annotations

import pytest

REAL_AWS_SKIP = "needs real AWS credentials"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/aws/" not in item.nodeid or item.get_closest_marker("aws") is not None:
            continue
        item.own_markers = [
            m
            for m in item.own_markers
            if not (m.name == "skip" and REAL_AWS_SKIP in str(m.kwargs.get("reason", "")))
        ]


@pytest.fixture(autouse=True)
def _fast_aws_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """One attempt per call: moto's HTTP 500 for the policy simulator is not worth retrying here
    (the retry path itself is botocore's; the audit's fallback is what these tests check)."""
    monkeypatch.setenv("PREFLIGHT_AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("PREFLIGHT_AWS_TIMEOUT", "5")
