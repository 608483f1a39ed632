"""Fixtures of the AWS audit tests (the moto server itself comes from tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_aws_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """One attempt per call: moto's HTTP 500 for the policy simulator is not worth retrying here
    (the retry path itself is botocore's; the audit's fallback is what these tests check)."""
    monkeypatch.setenv("PREFLIGHT_AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("PREFLIGHT_AWS_TIMEOUT", "5")
