"""Credentials are never echoed: not by preflight, memplan or costmodel messages about a spec, not
in trainjob launch's printed request, and a credential in the job's Environment is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from preflight.cli import cli as preflight_cli
from preflight.cli_costmodel import cli as costmodel_cli
from preflight.cli_memplan import cli as memplan_cli
from preflight.cli_support import run_cli
from preflight.redact import is_secret_key, looks_like_secret, redact_data, shown_value

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOKEN = "hf_QwErTyUiOpAsDfGhJkLzXcVbNm0123"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # the documented example key id of the AWS docs


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing here may reach AWS: an endpoint nobody listens on, and no credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")


def _spec(tmp_path: Path, line: str) -> Path:
    text = (EXAMPLES / "seed-fixed.yaml").read_text()
    path = tmp_path / "job.yaml"
    path.write_text(text.replace("training:\n", f"training:\n  {line}\n", 1))
    return path


def _run(group: object, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_cli(group, argv)  # type: ignore[arg-type]
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out + out.err


@pytest.mark.parametrize(
    "line", [f"hub_token: [{TOKEN}]", f"hub_token: {{token: {TOKEN}}}", "hub_token: 12345"]
)
def test_wrong_typed_token_is_not_echoed(
    line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, line)
    for group, argv in (
        (preflight_cli, ["check", str(spec), "--format", "json"]),
        (memplan_cli, ["estimate", str(spec), "--format", "json"]),
        (costmodel_cli, ["compare", str(spec), "--runs", "200", "--format", "json"]),
    ):
        code, text = _run(group, argv, capsys)
        assert code == 2, text
        assert "training.hub_token" in text and "hidden" in text
        assert TOKEN not in text and "12345" not in text


def test_token_in_spec_is_pf509_and_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, f"hub_token: {TOKEN}")
    for fmt in ("json", "sarif", "markdown", "rich"):
        code, text = _run(preflight_cli, ["check", str(spec), "--format", fmt], capsys)
        assert code == 1 and "PF509" in text and TOKEN not in text, fmt


def test_launch_refuses_credentials_in_the_environment_and_hides_them(tmp_path: Path) -> None:
    from trainjob.cli_launch import launch

    spec = tmp_path / "job.yaml"
    spec.write_bytes((EXAMPLES / "seed-fixed.yaml").read_bytes())
    runner = CliRunner()
    for pair in (f"HF_TOKEN={TOKEN}", "AWS_SECRET_ACCESS_KEY=abc/def+ghi", f"X={AWS_KEY}"):
        result = runner.invoke(launch, [str(spec), "--dry-run", "--no-aws", "--env", pair])
        assert result.exit_code == 2, result.output
        assert "Secrets Manager" in result.output and "execution role" in result.output
        assert pair.split("=", 1)[1] not in result.output
    argv = [str(spec), "--dry-run", "--no-aws", "--allow-secret-env", "--env", f"HF_TOKEN={TOKEN}"]
    argv += ["--env", f"PLAIN={AWS_KEY}", "--env", "EPOCHS=3"]
    result = runner.invoke(launch, argv)
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output and AWS_KEY not in result.output
    request = json.loads(result.stdout)
    env = request["Environment"]
    assert env["HF_TOKEN"] == "<hidden>" and env["PLAIN"] == "<hidden>" and env["EPOCHS"] == "3"


def test_secret_names_and_shapes() -> None:
    for key in ("hub_token", "HF_TOKEN", "AWS_SECRET_ACCESS_KEY", "training.hub_token", "api_key"):
        assert is_secret_key(key), key
    for key in ("avg_tokens", "pad_token", "max_new_tokens", "tokenizer_name", "num_examples"):
        assert not is_secret_key(key), key
    assert looks_like_secret([TOKEN]) and looks_like_secret({"a": AWS_KEY})
    assert not looks_like_secret("hf_loss") and not looks_like_secret("AKIA")
    assert TOKEN not in shown_value("run_name", TOKEN) and shown_value("x", 3) == "3"
    assert redact_data({"Env": {"HF_TOKEN": "abc"}, "Tags": [f"t {TOKEN}"]}) == {
        "Env": {"HF_TOKEN": "<hidden>"},
        "Tags": ["t <hidden>"],
    }
