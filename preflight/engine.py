"""Run the rule catalog over a plan: every rule, all findings, positions filled in, silencing applied.

What the engine decides for every rule, so that one screen shows what matters:

- A rule that needs a fact the plan lacks is not checked. When several are, ONE info (PF901)
  sums them up: which keys would let how many rules run (``Finding.rules`` lists them).
- AWS account rules are silent unless ``--aws`` gathered the account's facts; rules about
  SageMaker jobs (``Rule.sagemaker_only``) are silent on a job known to run elsewhere.
- A finding's severity is scaled by what it can lose on a run of this size
  (``Rule.consequence``, preflight/severity.py).
- A finding whose root cause another rule already states on the same key is dropped
  (``Rule.covered_by``).

A rule that raises becomes an error finding (PF900) instead of a traceback: a bug in one rule
never hides the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .findings import Finding, Severity
from .plan import FACT_HINTS, Plan
from .rules import Rule, all_rules
from .severity import run_size, scale

CRASH_RULE = "PF900"
NOT_CHECKED_RULE = "PF901"
"""The one info that sums up the rules a plan's facts did not let run."""


def known_not_sagemaker(plan: Plan) -> bool:
    """The job states where it runs, and it is not SageMaker."""
    compute = plan.spec.compute
    stated = plan.loaded.stated
    provider_stated = stated is None or "compute.provider" in stated
    return compute is not None and provider_stated and compute.provider != "sagemaker"


def run_rules(plan: Plan, rules: Iterable[type[Rule]] | None = None) -> list[Finding]:
    """All findings of ``rules`` (default: the whole catalog) for ``plan``."""
    findings: list[Finding] = []
    unchecked: list[tuple[Rule, list[str]]] = []
    local = known_not_sagemaker(plan)
    size = run_size(plan)
    for cls in rules if rules is not None else all_rules():
        rule = cls()
        if "aws" in cls.requires and not plan.has("aws"):
            continue  # the account audit was not asked for (--aws): silent
        if local and (cls.sagemaker_only or "sagemaker" in cls.requires):
            continue
        try:
            if not rule.applies(plan):
                continue
        except Exception as exc:  # same as a crash in check(): reported, never hiding the rest
            findings.append(_crashed(cls, exc))
            continue
        missing = [fact for fact in cls.requires if not plan.has(fact)]
        if missing:
            unchecked.append((rule, missing))
            continue
        try:
            produced = list(rule.check(plan))
        except Exception as exc:  # a rule bug must not hide the other rules' findings
            produced = [_crashed(cls, exc)]
        for f in produced:
            scaled = scale(f, cls.consequence if f.rule == cls.id else None, size)
            if scaled is not None:
                findings.append(scaled)
    findings = _drop_covered(findings)
    if len(unchecked) == 1:
        findings.append(_not_checkable(*unchecked[0], plan))
    elif unchecked:
        findings.append(_not_checked_summary(unchecked, plan))
    located = [_locate(f, plan) for f in findings]
    return _silence(located, plan)


def _drop_covered(findings: list[Finding]) -> list[Finding]:
    """One finding per root cause: drop a rule's finding when a covering rule fired on its key."""
    from .rules import get_rule

    fired = {(f.rule, f.field) for f in findings}
    out = []
    for f in findings:
        cls = get_rule(f.rule)
        covering = cls.covered_by if cls is not None else ()
        if any((other, f.field) in fired for other in covering):
            continue
        out.append(f)
    return out


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


_HINT_KEY = re.compile(r"--aws|[a-z_]+\.[a-z_]+")


def _known(plan: Plan, key: str) -> bool:
    """Whether the plan already has a value for dotted ``key`` (no need to ask for it)."""
    section, _, name = key.partition(".")
    value = getattr(getattr(plan.spec, section, None), name, None)
    return value is not None and value != []


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _not_checked_summary(unchecked: list[tuple[Rule, list[str]]], plan: Plan) -> Finding:
    """One info for every rule that could not run: which facts would let how many run."""
    why = {"memory": plan.memory_note, "cost": plan.cost_note}
    groups: dict[tuple[str, ...], list[str]] = {}
    for rule, missing in unchecked:
        groups.setdefault(tuple(missing), []).append(rule.id)
    parts = []
    for missing, ids in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        reasons = [r for r in (why.get(m) for m in missing) if r]
        reason = f"; {'; '.join(reasons)}" if reasons else ""
        verb = "needs" if len(ids) == 1 else "need"
        parts.append(f"{len(ids)} {verb} {' and '.join(missing)} ({', '.join(ids)}{reason})")
    hints: list[str] = []
    for missing in groups:
        for m in missing:
            required = re.sub(r"\([^)]*\)", "", FACT_HINTS.get(m, m))  # drop "(or ...)"
            for key in _HINT_KEY.findall(required) or [m]:
                if key not in hints and not _known(plan, key):
                    hints.append(key)
    hints = hints or [FACT_HINTS.get(m, m) for m in next(iter(groups))]
    ids = sorted(rule.id for rule, _ in unchecked)
    return Finding(
        rule=NOT_CHECKED_RULE,
        severity=Severity.INFO,
        field=None,
        message=f"not checked: {len(ids)} rules lack facts: " + "; ".join(parts),
        fix=f"State {_and(hints)} to let them run.",
        rules=ids,
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
