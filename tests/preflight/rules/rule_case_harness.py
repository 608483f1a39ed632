"""Run one rule on a spec fragment: the shared engine of the rule-case and doc-example tests.

A fragment is written to a real YAML file and goes through the real loader, plan and engine, so
line numbers, defaults and ``requires`` handling are the ones users get. A case may replace plan
facts (``cost``/``memory``) with stated numbers, so a rule's thresholds are tested against fixed
inputs rather than against whatever the cost model says this week.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from preflight.engine import CRASH_RULE, run_rules
from preflight.findings import Finding
from preflight.pipeline import build_plan
from preflight.plan import Plan
from preflight.rules import get_rule
from preflight.spec import load_spec

CASES_DIR = Path(__file__).resolve().parents[1] / "rule_cases"

#: Rule modules whose rules are tested here. Reader-specific rules (trl, sagemaker_sdk) need
#: reader facts a YAML spec cannot carry, and the AWS audit (PF6xx) needs an account: their
#: owners test them next to their readers and against moto.
CATALOG_MODULES = frozenset(
    f"preflight.rules.{m}"
    for m in ("arguments", "sync", "saving", "limits", "memory", "frameworks", "secrets")
)


def load_yaml(text: str) -> Any:
    return YAML(typ="safe").load(text)


def write_spec(fragment: dict[str, Any], folder: Path, name: str = "spec.yaml") -> Path:
    path = folder / name
    yaml = YAML()
    yaml.default_flow_style = False
    with path.open("w") as fh:
        yaml.dump(fragment, fh)
    return path


def make_plan(
    fragment: dict[str, Any],
    folder: Path,
    *,
    facts: dict[str, Any] | None = None,
    stated: list[str] | None = None,
    dirs: list[str] | None = None,
    override: dict[str, Any] | None = None,
    notes: list[str] | None = None,
    lines: dict[str, int] | None = None,
) -> Plan:
    """The plan of ``fragment`` written under ``folder`` (with ``dirs`` created there first).

    ``override`` sets ``section.field`` values after loading: combinations the spec loader
    refuses (exit 2) but a reader of a ``.py`` estimator can still produce. ``notes`` and
    ``lines`` imitate what a reader records for a value it could not evaluate.
    """
    for d in dirs or []:
        (folder / d).mkdir(parents=True, exist_ok=True)
    loaded = load_spec(write_spec(fragment, folder))
    if stated is not None:
        loaded.stated = set(stated)
    loaded.notes.extend(notes or [])
    loaded.lines.update(lines or {})
    for key, value in (override or {}).items():
        section, _, name = key.partition(".")
        setattr(getattr(loaded.spec, section), name, value)
    if facts is not None:
        return Plan(loaded, memory=facts.get("memory"), cost=facts.get("cost"))
    return build_plan(loaded)


def rule_findings(rule_id: str, plan: Plan) -> list[Finding]:
    """Findings of one rule only (the engine's 'not checked' info included).

    The rules that cover it (``covered_by``) run too, as in a full check, so that a case can
    show the rule staying quiet where another states the same root cause.
    """
    cls = get_rule(rule_id)
    assert cls is not None, f"{rule_id} is not registered"
    covering = [c for c in (get_rule(r) for r in cls.covered_by) if c is not None]
    findings = run_rules(plan, [cls, *covering])
    # The engine turns a rule that raises into a PF900 finding, so a crash would otherwise read
    # as "silent" and pass every case that expects the rule to stay quiet.
    crashes = [f for f in findings if f.rule == CRASH_RULE]
    assert not crashes, f"{rule_id} crashed: {crashes[0].message}"
    return [f for f in findings if f.rule == rule_id]


def fired(findings: list[Finding]) -> list[Finding]:
    """Real findings, without the engine's 'not checked: ...' infos."""
    return [f for f in findings if not f.message.startswith("not checked:")]
