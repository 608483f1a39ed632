"""When the audit cannot run: unreachable endpoint, no credentials, boto3 missing.

Each case must be one clear PF600 warning (never a crash, never a silent pass), and fast.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aws_helpers import write_spec

from preflight.findings import Severity
from preflight.pipeline import check


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def only_pf6(report: object) -> list:
    return [f for f in report.findings if f.rule.startswith("PF6")]  # type: ignore[attr-defined]


def test_unreachable_endpoint_is_one_clear_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("PREFLIGHT_AWS_TIMEOUT", "1")
    monkeypatch.setenv("PREFLIGHT_AWS_MAX_ATTEMPTS", "1")
    start = time.monotonic()
    report = check(write_spec(tmp_path), aws=True)
    elapsed = time.monotonic() - start
    (finding,) = only_pf6(report)
    assert finding.rule == "PF600" and finding.severity is Severity.WARNING
    assert "AWS audit not run" in finding.message and "unreachable" in finding.message
    assert "quotas, IAM and buckets are unchecked" in finding.message
    assert elapsed < 10  # one refused connection, no retries


def test_missing_credentials_is_one_clear_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    report = check(write_spec(tmp_path), aws=True)
    (finding,) = only_pf6(report)
    assert finding.rule == "PF600" and finding.severity is Severity.WARNING
    assert "no AWS credentials found" in finding.message
    assert report.failing(Severity.WARNING)
    assert not [f for f in report.failing(Severity.ERROR) if f.rule.startswith("PF6")]


def test_boto3_missing_is_one_clear_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # makes `import boto3` raise ImportError
    report = check(write_spec(tmp_path), aws=True)
    (finding,) = only_pf6(report)
    assert finding.severity is Severity.WARNING
    assert "boto3 is not installed" in finding.message and "pip install" in finding.message


def test_without_aws_flag_the_rules_are_silent_and_one_note_says_so(tmp_path: Path) -> None:
    report = check(write_spec(tmp_path), aws=False)
    assert only_pf6(report) == []  # not a finding per rule, not a "not checked" line either
    [note] = [n for n in report.notes if "AWS account was not audited" in n]
    assert "--aws" in note


def test_importing_the_audit_does_not_import_boto3() -> None:
    code = (
        "import sys, preflight.aws, preflight.aws.audit, preflight.rules.aws; "
        "print('boto3' in sys.modules, 'botocore' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
