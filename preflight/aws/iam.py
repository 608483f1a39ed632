"""IAM: may the caller launch the job, does the role trust SageMaker, and may it do its work?

Each question is asked of the IAM policy simulator (``SimulatePrincipalPolicy`` with the exact
resource ARNs) when the caller is allowed to use it. When it is not (AccessDenied, or an
emulator without it), the principal's attached and inline policies are read and evaluated by
``policy_eval`` instead, and the facts record that this was done and why.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .facts import BroadStatement, PermissionCheck, PrincipalPermissions, RoleFacts, Unchecked
from .policy_eval import NamedPolicy, broad_grants, evaluate, matches, statements
from .session import Clients, describe_error, error_code, is_global

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
ASSUMED_ROLE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")


@dataclass(frozen=True)
class Question:
    """One permission a principal needs: actions on one resource ARN, and why."""

    purpose: str
    field: str
    actions: tuple[str, ...]
    resource: str
    grant: str = ""
    """The resource pattern a fix should allow (a prefix, where ``resource`` is one object)."""


def iam_principal(caller_arn: str) -> tuple[str, str] | None:
    """(kind, IAM ARN or name) for the caller: ("user", arn), ("role", role name) or None (root).

    An STS assumed-role ARN is mapped back to its role, whose policies are what count.
    """
    m = ASSUMED_ROLE.match(caller_arn)
    if m:
        return "role", m.group(3)
    if ":user/" in caller_arn:
        return "user", caller_arn.rsplit("/", 1)[1]
    return None


def _document(raw: Any) -> dict[str, Any]:
    """A policy document as boto3 returns it (dict) or as IAM stores it (URL-encoded JSON)."""
    if isinstance(raw, dict):
        return raw
    text = urllib.parse.unquote(str(raw))
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {}


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    out: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        out.extend(page.get(key, []))
    return out


def _managed(iam: Any, arn: str) -> NamedPolicy:
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    return NamedPolicy(policy["PolicyName"], _document(version["PolicyVersion"]["Document"]))


def role_policies(iam: Any, role_name: str) -> list[NamedPolicy]:
    """Inline and attached managed policies of a role."""
    out = [
        NamedPolicy(
            name,
            _document(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]),
        )
        for name in _pages(iam, "list_role_policies", "PolicyNames", RoleName=role_name)
    ]
    for att in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role_name):
        out.append(_managed(iam, att["PolicyArn"]))
    return out


def user_policies(iam: Any, user_name: str) -> list[NamedPolicy]:
    """Inline and attached policies of a user and of the groups it belongs to."""
    out = [
        NamedPolicy(
            name,
            _document(iam.get_user_policy(UserName=user_name, PolicyName=name)["PolicyDocument"]),
        )
        for name in _pages(iam, "list_user_policies", "PolicyNames", UserName=user_name)
    ]
    for att in _pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=user_name):
        out.append(_managed(iam, att["PolicyArn"]))
    for group in _pages(iam, "list_groups_for_user", "Groups", UserName=user_name):
        gname = group["GroupName"]
        for name in _pages(iam, "list_group_policies", "PolicyNames", GroupName=gname):
            doc = iam.get_group_policy(GroupName=gname, PolicyName=name)["PolicyDocument"]
            out.append(NamedPolicy(f"{gname}/{name}", _document(doc)))
        for att in _pages(iam, "list_attached_group_policies", "AttachedPolicies", GroupName=gname):
            out.append(_managed(iam, att["PolicyArn"]))
    return out


def simulate(iam: Any, principal_arn: str, questions: list[Question]) -> list[PermissionCheck]:
    """Ask the IAM policy simulator every question (raises if the simulator cannot be used)."""
    checks: list[PermissionCheck] = []
    for q in questions:
        kwargs: dict[str, Any] = {"PolicySourceArn": principal_arn, "ActionNames": list(q.actions)}
        if q.resource != "*":
            kwargs["ResourceArns"] = [q.resource]
        results: list[dict[str, Any]] = []
        while True:
            page = iam.simulate_principal_policy(**kwargs)
            results.extend(page.get("EvaluationResults", []))
            if not page.get("IsTruncated"):
                break
            kwargs["Marker"] = page["Marker"]
        for r in results:
            decision = str(r.get("EvalDecision", "implicitDeny"))
            if decision not in ("allowed", "explicitDeny", "implicitDeny"):
                decision = "implicitDeny"
            checks.append(
                PermissionCheck(
                    principal=principal_arn,
                    action=str(r.get("EvalActionName")),
                    resource=str(r.get("EvalResourceName") or q.resource),
                    purpose=q.purpose,
                    field=q.field,
                    grant=q.grant or q.resource,
                    decision=decision,  # type: ignore[arg-type]
                    conditional=bool(r.get("MissingContextValues")),
                )
            )
    return checks


def evaluate_locally(
    principal_arn: str, policies: list[NamedPolicy], questions: list[Question]
) -> list[PermissionCheck]:
    return [
        PermissionCheck(
            principal=principal_arn,
            action=action,
            resource=q.resource,
            purpose=q.purpose,
            field=q.field,
            grant=q.grant or q.resource,
            decision=(ev := evaluate(policies, action, q.resource)).decision,
            conditional=ev.conditional,
        )
        for q in questions
        for action in q.actions
    ]


def check_principal(
    clients: Clients,
    principal_arn: str,
    questions: list[Question],
    load_policies: Callable[[], list[NamedPolicy]],
    what: str,
) -> PrincipalPermissions:
    """Simulator first; on failure, local evaluation of the principal's own policies."""
    facts = PrincipalPermissions(principal=principal_arn)
    if not questions:
        return facts
    iam = clients.get("iam")
    try:
        facts.checks = simulate(iam, principal_arn, questions)
        facts.method = "simulator"
        return facts
    except Exception as exc:
        if is_global(exc):
            raise
        facts.why_local = describe_error(exc)
    try:
        policies = load_policies()
    except Exception as exc:
        if is_global(exc):
            raise
        facts.unchecked = Unchecked(
            f"the permissions of {what}",
            f"the policy simulator failed ({facts.why_local}) and its policies could not be read "
            f"({describe_error(exc)})",
        )
        return facts
    facts.method = "local"
    facts.policies_read = len(policies)
    facts.checks = evaluate_locally(principal_arn, policies, questions)
    return facts


def role_name_of(role_arn: str) -> str:
    """The role name of an IAM role ARN (the part after the last slash; paths are allowed)."""
    return role_arn.rsplit("/", 1)[-1]


def trust_principals(document: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether a trust policy lets SageMaker assume the role, and the services it names."""
    services: list[str] = []
    trusted = False
    for stmt in statements(document):
        if str(stmt.get("Effect", "")).capitalize() != "Allow":
            continue
        actions = stmt.get("Action", [])
        actions = [actions] if isinstance(actions, str) else list(actions)
        if not any(matches(a, "sts:AssumeRole", ignore_case=True) for a in actions):
            continue
        principal = stmt.get("Principal", {})
        if principal == "*":
            services.append("*")
            trusted = True
            continue
        named = principal.get("Service", []) if isinstance(principal, dict) else []
        named = [named] if isinstance(named, str) else list(named)
        services.extend(named)
        if SAGEMAKER_SERVICE in named:
            trusted = True
    return trusted, services


def gather_role(clients: Clients, role_arn: str) -> tuple[RoleFacts, list[NamedPolicy] | None]:
    """The role's existence, trust policy and over-broad grants (and its policies, if readable)."""
    iam = clients.get("iam")
    facts = RoleFacts(arn=role_arn)
    name = role_name_of(role_arn)
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except Exception as exc:
        if is_global(exc):
            raise
        if error_code(exc) == "NoSuchEntity":
            facts.exists = False
            return facts, None
        facts.unchecked = Unchecked(f"the execution role {role_arn}", describe_error(exc))
        return facts, None
    if role.get("Arn") and role["Arn"] != role_arn:
        facts.exists = False  # same name, other path or account: the spec's ARN does not exist
        return facts, None
    facts.trusts_sagemaker, facts.trust_principals = trust_principals(
        _document(role.get("AssumeRolePolicyDocument", {}))
    )
    try:
        policies = role_policies(iam, name)
    except Exception as exc:
        if is_global(exc):
            raise
        facts.unchecked = Unchecked(
            f"the policies of the execution role {role_arn}", describe_error(exc)
        )
        return facts, None
    for policy in policies:
        facts.broad.extend(BroadStatement(policy.name, what) for what in broad_grants(policy))
    return facts, policies
