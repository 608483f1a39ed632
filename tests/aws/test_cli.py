"""The command lines: ``preflight quota request`` and ``preflight check --aws --redact``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_helpers import (
    ACCOUNT,
    QuotaSession,
    build_account,
    open_request,
    quota_stub,
    seed_quotas,
    write_spec,
)
from click.testing import CliRunner

from preflight.aws.cli import file_requests
from preflight.cli import cli
from preflight.spec import load_spec

REQUEST = "request_service_quota_increase"


def requested(code: str, value: float) -> dict[str, object]:
    """RequestServiceQuotaIncrease response shape (Service Quotas API reference, RequestedQuota:
    https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_RequestedServiceQuotaChange.html)."""
    return {
        "RequestedQuota": {
            "Id": "req-0123456789",
            "ServiceCode": "sagemaker",
            "QuotaCode": code,
            "DesiredValue": value,
            "Status": "PENDING",
        }
    }


@pytest.mark.usefixtures("aws")
def test_request_files_the_runtime_increase_after_yes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_account(monkeypatch)
    compute = load_spec(write_spec(tmp_path)).spec.compute
    calls = quota_stub(seed_quotas(runtime_s=432000), history={"L-33A961FD": []})
    params = {"ServiceCode": "sagemaker", "QuotaCode": "L-33A961FD", "DesiredValue": 864000.0}
    calls.append((REQUEST, requested("L-33A961FD", 864000.0), params))
    session = QuotaSession({"service-quotas": calls})
    asked: list[int] = []
    code = file_requests(compute, session, confirm=lambda n: asked.append(n) or True)
    out = capsys.readouterr().out
    assert code == 0 and asked == [1]
    assert "--quota-code L-33A961FD --desired-value 864000 --region us-east-1" in out
    assert "filed: Longest run time for a training job -> 864000" in out and "PENDING" in out
    for stubber in session.stubbers:
        stubber.assert_no_pending_responses()


@pytest.mark.usefixtures("aws")
def test_request_files_nothing_when_declined(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_account(monkeypatch)
    compute = load_spec(write_spec(tmp_path)).spec.compute
    # No response queued for RequestServiceQuotaIncrease: a call would fail the Stubber.
    stub = quota_stub(seed_quotas(instances=0), history={"L-B6D80D9C": []})
    session = QuotaSession({"service-quotas": stub})
    code = file_requests(compute, session, confirm=lambda n: False)
    assert code == 1
    assert "Nothing was filed." in capsys.readouterr().out


@pytest.mark.usefixtures("aws")
def test_request_with_enough_quota_files_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_account(monkeypatch)
    compute = load_spec(write_spec(tmp_path)).spec.compute
    session = QuotaSession({"service-quotas": quota_stub(seed_quotas())})
    assert file_requests(compute, session, confirm=lambda n: pytest.fail("asked")) == 0
    assert "suffices" in capsys.readouterr().out


@pytest.mark.usefixtures("aws")
@pytest.mark.usefixtures("aws")
def test_request_already_open_is_not_filed_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_account(monkeypatch)
    compute = load_spec(write_spec(tmp_path)).spec.compute
    history = {"L-33A961FD": [open_request("L-33A961FD", 864000, "CASE_OPENED")]}
    session = QuotaSession(
        {"service-quotas": quota_stub(seed_quotas(runtime_s=432000), history=history)}
    )
    code = file_requests(compute, session, confirm=lambda n: pytest.fail("asked"))
    assert code == 1
    assert (
        "already requested: An increase to 864000 is already requested" in capsys.readouterr().out
    )


@pytest.mark.usefixtures("aws")
def test_quota_request_command_without_quota_api_exits_2(tmp_path: Path) -> None:
    """Plain moto cannot list sagemaker quotas: the command says so and files nothing."""
    result = CliRunner().invoke(cli, ["quota", "request", str(write_spec(tmp_path))])
    assert result.exit_code == 2
    assert "could not check the SageMaker Service Quotas" in result.output


@pytest.mark.usefixtures("aws")
def test_quota_request_prompt_defaults_to_no(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Through click: the confirmation prompt is shown, and an empty answer files nothing."""
    import preflight.aws.cli as quota_cli

    build_account(monkeypatch)
    stub = quota_stub(seed_quotas(runtime_s=432000), history={"L-33A961FD": []})
    session = QuotaSession({"service-quotas": stub})
    monkeypatch.setattr(quota_cli, "_session", lambda: session)
    result = CliRunner().invoke(cli, ["quota", "request", str(write_spec(tmp_path))], input="\n")
    assert "File 1 quota increase request(s) now? [y/N]" in result.output
    assert "Nothing was filed." in result.output
    assert result.exit_code == 1


def test_quota_request_refuses_a_local_job(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"provider": "local"})
    result = CliRunner().invoke(cli, ["quota", "request", str(spec), "--yes"])
    assert result.exit_code == 2
    assert "compute.provider is not sagemaker" in result.output


@pytest.mark.usefixtures("aws")
def test_check_aws_json_redacts_account_ids(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch)
    spec = write_spec(tmp_path, {"role_arn": f"arn:aws:iam::{ACCOUNT}:role/Nope"})
    args = ["check", str(spec), "--aws", "--format", "json"]
    plain = CliRunner().invoke(cli, args)
    assert ACCOUNT in plain.output
    result = CliRunner().invoke(cli, [*args, "--redact"])
    assert result.exit_code == 1  # PF604: the role does not exist
    assert ACCOUNT not in result.output
    body = json.loads(result.output[: result.output.rindex("}") + 1])
    assert any(
        f["rule"] == "PF604" and "arn:aws:iam::************:role/Nope" in f["message"]
        for f in body["findings"]
    )
