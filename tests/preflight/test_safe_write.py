"""No command replaces a file without --overwrite, writes through a symlink or onto its own input.

Each case runs the real command line in-process on real files and checks what is on disk after.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from preflight.cli import cli
from preflight.cli_costmodel import cli as costmodel_cli
from preflight.cli_support import run_cli
from preflight.safe_write import UnsafeWrite, write_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPEC = "training:\n  save_total_limt: 3\ncompute:\n  instance_type: ml.g5.xlarge\n"


def _run(group: object, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_cli(group, argv)  # type: ignore[arg-type]
    out = capsys.readouterr()
    return int(info.value.code or 0), out.err


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(SPEC)
    return path


def test_check_output_needs_overwrite(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    out.write_text("mine\n")
    code, err = _run(cli, ["check", str(spec), "--format", "json", "-o", str(out)], capsys)
    assert code == 2 and "already exists; pass --overwrite" in err
    assert out.read_text() == "mine\n"
    code, err = _run(
        cli, ["check", str(spec), "--format", "json", "-o", str(out), "--overwrite"], capsys
    )
    assert code == 1, err
    assert out.read_text().startswith("{")


def test_check_never_writes_onto_its_input(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for extra in ([], ["--overwrite"]):
        code, err = _run(cli, ["check", str(spec), "-o", str(spec), *extra], capsys)
        assert code == 2 and "is an input of this command" in err
        assert spec.read_text() == SPEC


def test_check_output_never_follows_a_symlink(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "report.json"
    link.symlink_to(victim)
    code, err = _run(cli, ["check", str(spec), "-o", str(link), "--overwrite"], capsys)
    assert code == 2 and "symbolic link" in err
    assert victim.read_text() == "precious\n" and link.is_symlink()


def test_check_output_never_follows_a_dangling_symlink(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "elsewhere" / "created.txt"
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "report.sarif"
    link.symlink_to(target)
    code, err = _run(cli, ["check", str(spec), "--format", "sarif", "-o", str(link)], capsys)
    assert code == 2 and "symbolic link" in err
    assert not target.exists()


def test_init_refuses_links_and_its_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "train.py"
    source.write_text(
        "from transformers import TrainingArguments\nTrainingArguments(output_dir='o')\n"
    )
    before = source.read_text()
    code, err = _run(cli, ["init", "--from", str(source), "-o", str(source), "--overwrite"], capsys)
    assert code == 2 and "is an input of this command" in err
    assert source.read_text() == before
    link = tmp_path / "job.yaml"
    link.symlink_to(tmp_path / "nowhere.yaml")
    code, err = _run(cli, ["init", "--from", str(source), "-o", str(link)], capsys)
    assert code == 2 and "symbolic link" in err
    assert not (tmp_path / "nowhere.yaml").exists()


def test_baseline_needs_overwrite_and_refuses_links(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "base.json"
    out.write_text("{}\n")
    code, err = _run(cli, ["baseline", str(spec), "-o", str(out)], capsys)
    assert code == 2 and "already exists; pass --overwrite" in err
    assert out.read_text() == "{}\n"
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "missing.json")
    code, err = _run(cli, ["baseline", str(spec), "-o", str(link), "--overwrite"], capsys)
    assert code == 2 and "symbolic link" in err
    assert not (tmp_path / "missing.json").exists()


def test_costmodel_plot_refuses_dangling_link_and_the_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "seed.yaml"
    spec.write_bytes((EXAMPLES / "seed-fixed.yaml").read_bytes())
    link = tmp_path / "plot.png"
    link.symlink_to(tmp_path / "created.png")
    argv = ["compare", str(spec), "--runs", "200", "--instances", "ml.g5.xlarge", "--plot"]
    code, err = _run(costmodel_cli, [*argv, str(link), "--overwrite"], capsys)
    assert code == 2 and "symbolic link" in err
    assert not (tmp_path / "created.png").exists()
    before = spec.read_bytes()
    code, err = _run(costmodel_cli, [*argv, str(spec), "--overwrite"], capsys)
    assert code == 2 and "is an input of this command" in err
    assert spec.read_bytes() == before


def test_write_text_replaces_atomically_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    write_text(path, "one")
    with pytest.raises(UnsafeWrite):
        write_text(path, "two")
    os.chmod(path, 0o600)
    write_text(path, "two", overwrite=True)
    assert path.read_text() == "two" and (path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left
