"""A small IAM identity-policy evaluator, for when the IAM policy simulator cannot be used.

It follows the documented evaluation logic for identity-based policies of one account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny wins, otherwise any Allow allows, otherwise the request is implicitly denied.
Action and NotAction, Resource and NotResource, and the ``*`` / ``?`` wildcards are understood
(actions case-insensitively, resources case-sensitively). Conditions are not evaluated: an Allow
that has one counts as allowed but is marked ``conditional``, a Deny that has one is not applied
but is reported in the same way. Service control policies, permission boundaries, session
policies and resource-based policies are outside its view; the audit says so when it uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

Decision = Literal["allowed", "explicitDeny", "implicitDeny"]


@dataclass(frozen=True)
class NamedPolicy:
    """A policy document with the name it is known by (for messages)."""

    name: str
    document: dict[str, Any]


@dataclass
class Evaluation:
    decision: Decision
    conditional: bool = False
    matched: list[str] = field(default_factory=list)
    """``policy-name#statement-index`` (or Sid) of the statements that decided."""


@lru_cache(maxsize=1024)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(pattern: str, value: str, *, ignore_case: bool) -> bool:
    """IAM wildcard match of a whole string: ``*`` any run of characters, ``?`` one character."""
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The Statement list of a policy document (a single statement object is allowed too)."""
    stmt = document.get("Statement", [])
    if isinstance(stmt, dict):
        return [stmt]
    return [s for s in stmt if isinstance(s, dict)]


def statement_applies(stmt: dict[str, Any], action: str, resource: str) -> bool:
    """Whether a statement's action and resource elements cover this request."""
    if "Action" in stmt:
        if not any(matches(p, action, ignore_case=True) for p in _as_list(stmt["Action"])):
            return False
    elif "NotAction" in stmt:
        if any(matches(p, action, ignore_case=True) for p in _as_list(stmt["NotAction"])):
            return False
    else:
        return False
    if "Resource" in stmt:
        return any(matches(p, resource, ignore_case=False) for p in _as_list(stmt["Resource"]))
    if "NotResource" in stmt:
        return not any(
            matches(p, resource, ignore_case=False) for p in _as_list(stmt["NotResource"])
        )
    return False


def evaluate(policies: Iterable[NamedPolicy], action: str, resource: str) -> Evaluation:
    """Decide one request against identity policies: explicit deny > allow > implicit deny."""
    allows: list[tuple[str, bool]] = []
    denies: list[tuple[str, bool]] = []
    for policy in policies:
        for i, stmt in enumerate(statements(policy.document)):
            if not statement_applies(stmt, action, resource):
                continue
            label = f"{policy.name}#{stmt.get('Sid') or i}"
            conditional = bool(stmt.get("Condition"))
            effect = str(stmt.get("Effect", "")).capitalize()
            if effect == "Deny":
                denies.append((label, conditional))
            elif effect == "Allow":
                allows.append((label, conditional))
    hard_denies = [label for label, cond in denies if not cond]
    if hard_denies:
        return Evaluation("explicitDeny", matched=hard_denies)
    unconditional = [label for label, cond in allows if not cond]
    if unconditional:
        return Evaluation("allowed", conditional=bool(denies), matched=unconditional)
    if allows:
        return Evaluation("allowed", conditional=True, matched=[label for label, _ in allows])
    return Evaluation("implicitDeny", conditional=bool(denies), matched=[])


def broad_grants(policy: NamedPolicy) -> list[str]:
    """What makes a policy over-broad for a training role, one phrase per finding.

    Flags Allow statements with ``Action: "*"`` (administrator access), S3 actions on
    ``Resource: "*"`` (every bucket in the account), and ``iam:PassRole`` on ``Resource: "*"``
    (the role could hand any role, including admin ones, to a service it creates).
    """
    out: list[str] = []
    for i, stmt in enumerate(statements(policy.document)):
        if str(stmt.get("Effect", "")).capitalize() != "Allow" or stmt.get("Condition"):
            continue
        label = stmt.get("Sid") or f"statement {i}"
        actions = _as_list(stmt.get("Action"))
        resources = _as_list(stmt.get("Resource"))
        every_resource = "*" in resources or "NotResource" in stmt
        if "NotAction" in stmt or any(a in {"*", "*:*"} for a in actions):
            what = "NotAction" if "NotAction" in stmt else 'Action "*"'
            out.append(f"{label}: Allow {what} (administrator access)")
            continue
        if every_resource and any(_covers(a, ("s3:GetObject", "s3:PutObject")) for a in actions):
            out.append(f'{label}: S3 access on Resource "*" (every bucket of the account)')
        if every_resource and any(_covers(a, ("iam:PassRole",)) for a in actions):
            out.append(f'{label}: iam:PassRole on Resource "*" (can pass any role)')
    return out


def _covers(pattern: str, actions: Sequence[str]) -> bool:
    return any(matches(pattern, a, ignore_case=True) for a in actions)
