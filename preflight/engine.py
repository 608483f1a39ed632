"""Run the rule catalog over a plan: every rule, all findings, positions filled in, silencing applied.

A rule that needs a fact the plan lacks is reported once, as an info, naming what would let it
run. A rule that raises becomes an error finding (PF900) instead of a traceback: a bug in one
rule never hides the others.
"""

from __future__ import annotations

from collections.abc import Iterable

from .findings import Finding, Severity
from .plan import FACT_HINTS, Plan
from .rules import Rule, all_rules

CRASH_RULE = "PF900"


def run_rules(plan: Plan, rules: Iterable[type[Rule]] | None = None) -> list[Finding]:
    """All findings of ``rules`` (default: the whole catalog) for ``plan``."""
    findings: list[Finding] = []
    not_audited: list[str] = []
    no_memory: list[Rule] = []
    for cls in rules if rules is not None else all_rules():
        rule = cls()
        try:
            if not rule.applies(plan):
                continue
        except Exception as exc:  # same as a crash in check(): reported, never hiding the rest
            findings.append(_crashed(cls, exc))
            continue
        missing = [fact for fact in cls.requires if not plan.has(fact)]
        if missing == ["aws"]:
            not_audited.append(cls.id)  # the audit was not asked for: say so once, below
            continue
        if missing == ["memory"] and plan.memory_note:
            no_memory.append(rule)  # one line for every memory rule, below
            continue
        if missing:
            findings.append(_not_checkable(rule, missing, plan))
            continue
        try:
            produced = list(rule.check(plan))
        except Exception as exc:  # a rule bug must not hide the other rules' findings
            produced = [_crashed(cls, exc)]
        findings.extend(produced)
    if not_audited:
        findings.append(_not_audited(not_audited))
    if no_memory:
        findings.append(_memory_not_checked(no_memory, plan))
    located = [_locate(f, plan) for f in findings]
    return _silence(located, plan)


def _crashed(cls: type[Rule], exc: Exception) -> Finding:
    return Finding(
        rule=CRASH_RULE,
        severity=Severity.ERROR,
        field=None,
        message=f"rule {cls.id} failed: {type(exc).__name__}: {exc}",
        fix="Report this as a bug in preflight; the other rules still ran.",
    )


def _not_checkable(rule: Rule, missing: list[str], plan: Plan) -> Finding:
    hints = "; ".join(FACT_HINTS.get(m, m) for m in missing)
    why = {
        "memory": plan.memory_note,
        "cost": plan.cost_note,
    }
    reasons = [why[m] for m in missing if why.get(m)]
    reason = f" ({'; '.join(r for r in reasons if r)})" if reasons else ""
    return Finding(
        rule=rule.id,
        severity=Severity.INFO,
        field=None,
        message=f"not checked: {rule.title.rstrip('.')} (needs {', '.join(missing)}{reason})",
        fix=f"State {hints} to let this rule run.",
    )


def _memory_not_checked(rules: list[Rule], plan: Plan) -> Finding:
    """One info for every memory rule when memplan could not estimate (an unknown model, ...)."""
    ids = ", ".join(r.id for r in rules)
    note = plan.memory_note or ""
    why, _, fix = note.partition("; to fix: ")
    why = why.removeprefix("model.name: ")
    return Finding(
        rule=rules[0].id,
        severity=Severity.INFO,
        field="model.name" if note.startswith("model.name") else None,
        message=f"not checked: GPU memory ({ids}): {why}",
        fix=(fix[:1].upper() + fix[1:] + ".")
        if fix
        else "State model.name and compute.instance_type to let memplan estimate the step.",
    )


def _not_audited(rule_ids: list[str]) -> Finding:
    """One info for the whole AWS audit when it was not asked for, instead of one per rule."""
    span = rule_ids[0] if len(rule_ids) == 1 else f"{rule_ids[0]}-{rule_ids[-1]}"
    return Finding(
        rule=rule_ids[0],
        severity=Severity.INFO,
        field=None,
        message=f"not checked: the AWS account's quotas, IAM, buckets and image "
        f"({len(rule_ids)} rules, {span}; needs aws)",
        fix="Run `preflight check SPEC --aws` with AWS credentials before launch.",
    )


def _locate(finding: Finding, plan: Plan) -> Finding:
    line, cell = plan.locate(finding.field)
    return finding.model_copy(
        update={
            "file": finding.file or str(plan.loaded.file_of(finding.field)),
            "line": finding.line or line,
            "cell": finding.cell if finding.cell is not None else cell,
        }
    )


def _silence(findings: list[Finding], plan: Plan) -> list[Finding]:
    """Mark findings silenced by ``ignore:`` entries (kept in the report, not counted)."""
    from .rules import get_rule

    out = []
    for f in findings:
        for entry in plan.spec.ignore:
            if entry.rule != f.rule or (entry.field and entry.field != f.field):
                continue
            cls = get_rule(f.rule)
            if cls is not None and not cls.silenceable:
                f = f.model_copy(update={"message": f.message + f" [{f.rule} cannot be silenced]"})
                break
            f = f.model_copy(update={"silenced_by": entry.reason})
            break
        out.append(f)
    return out
