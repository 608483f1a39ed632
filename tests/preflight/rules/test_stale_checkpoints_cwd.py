"""PF104 finds a leftover run whether output_dir is relative to the spec or to the launch dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from rule_case_harness import make_plan, rule_findings

SPEC = {"training": {"output_dir": "runs/demo"}, "compute": {"provider": "local"}}


def test_relative_to_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec_dir = tmp_path / "jobs"
    spec_dir.mkdir()
    (tmp_path / "runs" / "demo" / "checkpoint-40").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    found = rule_findings("PF104", make_plan(SPEC, spec_dir))
    assert [f.field for f in found] == ["training.output_dir"]
    assert "checkpoint-40" in found[0].message


def test_nothing_in_either_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec_dir = tmp_path / "jobs"
    spec_dir.mkdir()
    (tmp_path / "runs" / "demo").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert rule_findings("PF104", make_plan(SPEC, spec_dir)) == []
