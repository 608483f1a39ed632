"""The whole findings of one PF2xx rule on a spec fragment, for test_saving_messages.py and
test_saving_bounds.py.

Unlike ``rule_case_harness.rule_findings`` this fails on a crash: the engine turns an exception
in a rule into a PF900 finding ("rule PF204 failed: TypeError ...") so the other rules still
run, and a test that only looks at the rule's own findings would read a crash as silence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rule_case_harness import fired, make_plan

from preflight.engine import CRASH_RULE, run_rules
from preflight.plan import Plan
from preflight.rules import get_rule

Found = tuple[str | None, str, str, str]
"""(key, severity, message, fix) of one finding."""


def plan_of(
    fragment: dict[str, Any],
    folder: Path,
    facts: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    **kw: Any,
) -> Plan:
    """The plan of ``fragment`` with stated facts (none by default: no cost model, no memplan).

    ``values`` replaces training values after loading: a reader of a ``.py`` script records
    what the script passes (``save_total_limit=True``, ``hub_strategy=HubStrategy.END``,
    ``save_steps=None``) without the spec loader's type checks.
    """
    plan = make_plan(fragment, folder, facts=facts if facts is not None else {}, **kw)
    plan.spec.training.values.update(values or {})
    return plan


def outcome(rule: str, plan: Plan) -> list[Found]:
    """Every real finding of ``rule`` (and of the rules covering it, as in a full check)."""
    cls = get_rule(rule)
    assert cls is not None, rule
    covering = [c for c in (get_rule(r) for r in cls.covered_by) if c is not None]
    got = run_rules(plan, [cls, *covering])
    assert [f.message for f in got if f.rule == CRASH_RULE] == []
    return [
        (f.field, f.severity.value, f.message, f.fix)
        for f in fired([f for f in got if f.rule == rule])
    ]


def findings(rule: str, fragment: dict[str, Any], folder: Path, **kw: Any) -> list[Found]:
    return outcome(rule, plan_of(fragment, folder, **kw))


def messages(rule: str, fragment: dict[str, Any], folder: Path, **kw: Any) -> list[str]:
    return [m for _, _, m, _ in findings(rule, fragment, folder, **kw)]
