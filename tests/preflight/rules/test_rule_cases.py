"""Every rule fires and stays silent where its case file says (tests/preflight/rule_cases/*.yaml).

Case file shape::

    rule: PF101
    cases:
      - name: seed output dir
        spec: {training: {output_dir: /opt/ml/output/data}, ...}
        findings:                    # exactly these, in this order
          - {field: training.output_dir, severity: error, message: "substring"}
      - name: synced
        spec: {...}
        pass: true                   # no finding of this rule, and the rule could run
    # optional per case: plan: {cost: {...}, memory: {...}} replaces the computed facts;
    # stated: [dotted keys] makes the source partial (as a .py reader would);
    # dirs: [paths] are created next to the spec first; override: {section.field: value} is
    # set after loading; notes/lines imitate a reader's record of a value it could not evaluate;
    # not_checked: true expects only the engine's "not checked" info.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rule_case_harness import CASES_DIR, CATALOG_MODULES, load_yaml, make_plan, rule_findings

from preflight.rules import all_rules


def _case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("PF*.yaml"))


def _cases() -> list[Any]:
    out = []
    for path in _case_files():
        doc = load_yaml(path.read_text())
        for case in doc["cases"]:
            out.append(pytest.param(doc["rule"], case, id=f"{doc['rule']}-{case['name']}"))
    return out


@pytest.mark.parametrize(("rule_id", "case"), _cases())
def test_rule_case(
    rule_id: str, case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths (PF104, PF208) resolve only inside the case
    plan = make_plan(
        case["spec"] or {},
        tmp_path,
        facts=case.get("plan"),
        stated=case.get("stated"),
        dirs=case.get("dirs"),
        override=case.get("override"),
        notes=case.get("notes"),
        lines=case.get("lines"),
    )
    got = rule_findings(rule_id, plan)
    if case.get("not_checked"):
        assert [f.severity.value for f in got] == ["info"], got
        assert got[0].message.startswith("not checked:"), got[0].message
        return
    if case.get("pass"):
        assert got == [], f"{rule_id} should stay silent, got: {[f.message for f in got]}"
        return
    want = case["findings"]
    assert len(got) == len(want), f"{rule_id}: expected {len(want)}, got {got}"
    for g, w in zip(got, want, strict=True):
        assert g.field == w.get("field"), g
        assert g.severity.value == w.get("severity", g.severity.value), g
        assert w.get("message", "") in g.message, g.message
        assert g.line is not None or g.field is None or w.get("line") is None
        if "line" in w:
            assert g.line == w["line"], g


def test_every_rule_has_cases_that_fire_and_pass() -> None:
    """A rule without a firing and a silent case is not done."""
    have: dict[str, set[str]] = {}
    for path in _case_files():
        doc = load_yaml(path.read_text())
        assert path.stem == doc["rule"], f"{path.name} holds cases of {doc['rule']}"
        kinds = have.setdefault(doc["rule"], set())
        for case in doc["cases"]:
            kinds.add("pass" if case.get("pass") else "fire")
    missing = {
        cls.id: sorted({"fire", "pass"} - have.get(cls.id, set()))
        for cls in all_rules()
        if cls.__module__ in CATALOG_MODULES
    }
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"rules lacking cases: {missing}"
