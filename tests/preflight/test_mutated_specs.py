"""A property-based fuzz of the example specs through every command line of the toolkit.

Each mutant takes an example spec and draws hostile values (0, negatives, NaN, inf, 10^30, 2^64,
wrong types, unicode, empty and huge text, token-shaped text) into one to three of its numeric
and text fields, or makes it an alias bomb, or damages its bytes (tabs, duplicates, truncation,
garbage). It is then run, in-process, through one of: ``preflight check``, ``memplan estimate``,
``costmodel compare``, ``trainjob launch --dry-run`` (no AWS credentials, endpoint on a closed
127.0.0.1 port) and trainjob's gate (the preflight run every ``trainjob run`` starts with).

Every run must end in exit 0, 1 or 2 with no traceback and no "internal error", within 5 s,
without growing the process by 500 MB, and without echoing a token it was given.
"""

from __future__ import annotations

import io
import math
import os
import resource
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from preflight.cli import cli as preflight_cli
from preflight.cli_costmodel import cli as costmodel_cli
from preflight.cli_memplan import cli as memplan_cli
from preflight.cli_support import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE_FILES = ["seed-broken.yaml", "seed-fixed.yaml", "tiny-local.yaml"]
TOKEN = "hf_FuzzFuzzFuzzFuzzFuzzFuzz0123"
SECONDS = 5.0
GROWTH_MB = 500
MUTANTS = int(os.environ.get("PREFLIGHT_FUZZ_MUTANTS", "500"))  # more for a deeper run

HOSTILE: list[Any] = [
    0,
    -1,
    -(10**6),
    1,
    10**6,
    10**9,
    10**12,
    10**30,
    2**64,
    -(2**64),
    0.0,
    -0.5,
    1e-300,
    1e308,
    math.inf,
    -math.inf,
    math.nan,
    True,
    None,
    "",
    "abc",
    "ünïcødé ☃ 𝔘 \u202e",
    "x" * 5000,
    TOKEN,
    [TOKEN],
    [],
    [1, 2],
    {"a": 1},
    {},
]
#: Numeric training keys the examples do not all state, so every range gets drawn into.
EXTRA_TRAINING_KEYS = [
    "max_steps",
    "num_train_epochs",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "save_steps",
    "logging_steps",
    "warmup_steps",
    "learning_rate",
    "save_total_limit",
    "hub_token",
]


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load((EXAMPLES / name).read_text())
    return data


BASES = {name: _load(name) for name in BASE_FILES}


def _leaves(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, (*prefix, index))
    else:
        yield prefix


def _paths(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    paths = list(_leaves(data))
    paths += [("training", key) for key in EXTRA_TRAINING_KEYS]
    return sorted(set(paths), key=str)


PATHS = {name: _paths(data) for name, data in BASES.items()}


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _dump(data: Any) -> str:
    buf = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.width = 10_000
    yaml.dump(data, buf)
    return buf.getvalue()


def _alias_bomb(levels: int) -> str:
    lines = ["  a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"  a{i}: &a{i} [{refs}]")
    return "\n".join(lines)


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, bytes]:
    import copy

    name = draw(st.sampled_from(BASE_FILES))
    data = copy.deepcopy(BASES[name])
    kind = draw(st.sampled_from(["values"] * 6 + ["bomb", "bytes"]))
    if kind == "bomb":
        text = _dump(data).replace("training:\n", "training:\n" + _alias_bomb(7) + "\n", 1)
        return name, text.encode()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS[name]))
        value = draw(st.sampled_from(HOSTILE))
        _set(data, path, copy.deepcopy(value))
    raw = _dump(data).encode()
    if kind == "bytes":
        lines = raw.split(b"\n")
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["tab", "duplicate", "truncate", "garbage", "delete"]))
        if op == "tab":
            lines[i] = b"\t" + lines[i].lstrip(b" ")
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "truncate":
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))]
        elif op == "garbage":
            lines[i] += draw(st.binary(min_size=1, max_size=6))
        elif len(lines) > 1:
            del lines[i]
        raw = b"\n".join(lines)
    return name, raw


class _TooSlow(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def _alarm(signum: int, frame: object) -> None:
        raise _TooSlow(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _run_group(group: Any, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_cli(group, argv)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out + out.err


def _launch(path: Path) -> tuple[int, str]:
    from trainjob.cli_launch import launch

    result = CliRunner().invoke(launch, [str(path), "--dry-run", "--no-aws"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _gate(path: Path) -> tuple[int, str]:
    """What ``trainjob run`` does before training: load the spec, then the preflight gate."""
    from preflight.spec import SpecError, load_spec
    from trainjob.errors import TrainjobError
    from trainjob.gate import run_gate

    try:
        run_gate(load_spec(path), force=False, reason=None)
    except SpecError as err:
        return 2, str(err)
    except TrainjobError as err:  # RunRefused is one: the gate found errors
        return 1, str(err)
    return 0, ""


COMMANDS = ["check", "memplan", "costmodel", "launch", "gate"]


def _command(which: str, path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    if which == "check":
        return _run_group(preflight_cli, ["check", str(path), "--format", "json"], capsys)
    if which == "memplan":
        return _run_group(memplan_cli, ["estimate", str(path), "--format", "json"], capsys)
    if which == "costmodel":
        argv = ["compare", str(path), "--runs", "2000", "--format", "json"]
        return _run_group(costmodel_cli, argv, capsys)
    if which == "launch":
        return _launch(path)
    return _gate(path)


@pytest.fixture(scope="module")
def rss_start() -> float:
    return _rss_mb()


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@settings(
    max_examples=MUTANTS,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutant=mutants(), which=st.sampled_from(COMMANDS))
def test_mutant_never_crashes_hangs_or_leaks(
    mutant: tuple[str, bytes],
    which: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rss_start: float,
) -> None:
    base, data = mutant
    path = tmp_path / "mutant.yaml"
    path.write_bytes(data)
    (tmp_path / "data").mkdir(exist_ok=True)  # tiny-local's relative data paths stay inside
    started = time.monotonic()
    with _time_limit(SECONDS):
        code, text = _command(which, path, capsys)
    took = time.monotonic() - started
    assert took < SECONDS, f"{which} on a mutant of {base} took {took:.1f} s"
    assert code in (0, 1, 2), text[-2000:]
    assert "Traceback" not in text, text[-2000:]
    assert "internal error" not in text, text[-2000:]
    assert TOKEN not in text, f"{which} echoed a token"
    grown = _rss_mb() - rss_start
    assert grown < GROWTH_MB, f"process grew {grown:.0f} MB (peak) on a mutant of {base}"
    if code == 2 and which in ("check", "memplan", "costmodel", "gate"):
        assert str(path) in text or "error" in text
