"""100 mutated specs (deleted keys, wrong types, garbage bytes, tabs, duplicate keys, truncation)
must each end in exit 0, 1 or 2 with a message, and never in a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.cli import cli
from preflight.cli_support import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASES = [
    (EXAMPLES / "seed-broken.yaml").read_bytes(),
    (EXAMPLES / "seed-fixed.yaml").read_bytes(),
]
WRONG_VALUES = [b"abc", b"[1, 2]", b"{a: 1}", b"-5", b"true", b"null", b"1e999", b"''", b"0", b"~"]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    lines = _lines(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(["delete", "retype", "garbage", "tab", "duplicate", "truncate", "swap"])
        )
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "retype" and b":" in lines[i]:
            key = lines[i].split(b":", 1)[0]
            lines[i] = key + b": " + draw(st.sampled_from(WRONG_VALUES))
        elif op == "garbage":
            lines[i] = lines[i] + draw(st.binary(min_size=1, max_size=8))
        elif op == "tab":
            lines[i] = b"\t" + lines[i].lstrip(b" ")
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "truncate":
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))]
        elif op == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return b"\n".join(lines)


@settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated())
def test_mutated_spec_never_tracebacks(
    data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mutant.yaml"
    path.write_bytes(data)
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_cli(cli, ["check", str(path), "--format", "json"])
    out = capsys.readouterr()
    assert info.value.code in (0, 1, 2)
    assert "Traceback" not in out.out + out.err
    assert "internal error" not in out.err
    if info.value.code == 2:
        assert str(path) in out.err  # the message names the file (and the line where known)
    else:
        assert "preflight:" in out.err and out.out.startswith("{")
