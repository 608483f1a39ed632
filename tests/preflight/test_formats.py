"""One test per output format of ``preflight check``, on a spec with known findings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from preflight.findings import Severity
from preflight.pipeline import check
from preflight.render import Format, render
from preflight.report import Report

SPEC = """\
name: formats
model:
  name: mistralai/Mistral-7B-v0.1
training:
  output_dir: /opt/ml/checkpoints
  save_total_limt: 5
  save_safetensors: true
"""


@pytest.fixture
def report(tmp_path: Path) -> Report:
    path = tmp_path / "job.yaml"
    path.write_text(SPEC)
    return check(path)


def by_rule(report: Report) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in report.findings:
        out.setdefault(f.rule, []).append(f)
    return out


def test_pipeline_reports_argument_findings_with_lines(report: Report) -> None:
    rules = by_rule(report)
    [unknown] = rules["PF502"]
    assert (unknown.field, unknown.line) == ("training.save_total_limt", 6)
    assert "save_total_limit" in unknown.message
    [removed] = rules["PF501"]
    assert (removed.field, removed.line) == ("training.save_safetensors", 7)
    assert report.errors >= 2


def test_json_has_design_shape(report: Report) -> None:
    doc = json.loads(render(report, Format.JSON))
    assert set(doc) >= {"spec", "findings", "memory", "cost", "summary"}
    assert set(doc["summary"]) == {"errors", "warnings", "infos"}
    first = doc["findings"][0]
    assert {"rule", "severity", "field", "message", "fix"} <= set(first)
    assert doc["summary"]["errors"] == sum(1 for f in doc["findings"] if f["severity"] == "error")
    # Worst first.
    ranks = [Severity(f["severity"]).rank for f in doc["findings"]]
    assert ranks == sorted(ranks, reverse=True)


def test_sarif_points_at_spec_lines(report: Report) -> None:
    doc = json.loads(render(report, Format.SARIF))
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = {r["ruleId"]: r for r in run["results"]}
    assert results["PF502"]["level"] == "error"
    region = results["PF502"]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 6
    assert rule_ids[results["PF502"]["ruleIndex"]] == "PF502"
    assert run["tool"]["driver"]["rules"][results["PF502"]["ruleIndex"]]["helpUri"].startswith(
        "https://"
    )
    assert results["PF502"]["partialFingerprints"]


def test_junit_failures_follow_fail_on(report: Report) -> None:
    strict = ET.fromstring(render(report, Format.JUNIT, fail_on=Severity.INFO).split("\n", 1)[1])
    loose = ET.fromstring(render(report, Format.JUNIT, fail_on=Severity.ERROR).split("\n", 1)[1])
    assert int(strict.get("failures", "0")) == len(report.active())
    assert int(loose.get("failures", "0")) == report.errors
    names = [c.get("name") for c in loose.iter("testcase")]
    assert "PF502 training.save_total_limt" in names


def test_markdown_table(report: Report) -> None:
    text = render(report, Format.MARKDOWN)
    assert text.startswith("## preflight:")
    assert "fails" in text.splitlines()[0]
    assert "| ❌ | `PF502` |" in text
    assert "save_total_limit" in text


def test_rich_text(report: Report) -> None:
    text = render(report, Format.RICH)
    assert "NOT READY TO LAUNCH" in text
    assert "PF502" in text and "training.save_total_limt" in text


def test_clean_report_renders_everywhere() -> None:
    empty = Report(spec="x.yaml", files=["x.yaml"])
    for fmt in Format:
        assert render(empty, fmt)
    assert "ready to launch" in render(empty, Format.RICH)
    assert json.loads(render(empty, Format.SARIF))["runs"][0]["results"] == []


def test_rich_collapses_skipped_files_and_long_note_lists() -> None:
    notes = [f"skipped junk{i}.json: not a training config" for i in range(30)]
    notes += [f"a.py: value {i} could not be resolved" for i in range(12)]
    text = render(Report(spec=".", files=["a.py"], notes=notes), Format.RICH)
    assert "skipped 30 files that are not training configs" in text
    assert "junk3.json" not in text
    assert "value 7 could not be resolved" in text and "value 8 could" not in text
    assert "4 more notes" in text
    assert json.loads(render(Report(spec=".", notes=notes), Format.JSON))["notes"] == notes


def test_not_checked_cost_rules_name_the_missing_keys(tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text("model: {name: mistral-7b}\ncompute: {instance_type: ml.g5.xlarge}\n")
    [summary] = [f for f in check(spec).findings if f.message.startswith("not checked:")]
    assert summary.rule == "PF901" and "PF302" in (summary.rules or [])
    assert "data.num_examples" in summary.message and "data.avg_tokens" in summary.message
