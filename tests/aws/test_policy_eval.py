"""The local IAM policy evaluator: the fallback when the IAM policy simulator cannot be used.

Expected decisions follow the IAM policy evaluation logic documentation
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

from typing import Any

import pytest

from preflight.aws.policy_eval import NamedPolicy, broad_grants, evaluate, matches


def pol(*statements: dict[str, Any]) -> NamedPolicy:
    return NamedPolicy("p", {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


CKPT = "arn:aws:s3:::bucket/ckpt/checkpoint-1/adapter_model.safetensors"


@pytest.mark.parametrize(
    ("pattern", "value", "ignore_case", "expected"),
    [
        ("s3:Get*", "s3:GetObject", True, True),
        ("s3:get*", "s3:GetObject", True, True),
        ("s3:Get?bject", "s3:GetObject", True, True),
        ("s3:Get?", "s3:GetObject", True, False),
        ("arn:aws:s3:::bucket/*", CKPT, False, True),
        ("arn:aws:s3:::Bucket/*", CKPT, False, False),
        ("arn:aws:s3:::bucket/data/*", CKPT, False, False),
        ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket/x", False, False),
    ],
)
def test_wildcards(pattern: str, value: str, ignore_case: bool, expected: bool) -> None:
    assert matches(pattern, value, ignore_case=ignore_case) is expected


def test_implicit_deny_without_a_matching_allow() -> None:
    policies = [pol(allow("s3:GetObject", "arn:aws:s3:::bucket/data/*"))]
    assert evaluate(policies, "s3:PutObject", CKPT).decision == "implicitDeny"
    assert evaluate(policies, "s3:GetObject", CKPT).decision == "implicitDeny"


def test_allow_by_wildcard_action_and_resource() -> None:
    policies = [pol(allow(["s3:Put*", "s3:GetObject"], "arn:aws:s3:::bucket/ckpt/*"))]
    result = evaluate(policies, "s3:PutObject", CKPT)
    assert result.decision == "allowed" and not result.conditional


def test_explicit_deny_wins_over_allow_in_another_policy() -> None:
    policies = [
        pol(allow("s3:*", "*")),
        NamedPolicy("guard", {"Statement": {"Effect": "Deny", "Action": "s3:PutObject",
                                            "Resource": "arn:aws:s3:::bucket/ckpt/*"}}),
    ]  # fmt: skip
    result = evaluate(policies, "s3:PutObject", CKPT)
    assert result.decision == "explicitDeny"
    assert result.matched == ["guard#0"]


def test_not_action_allows_everything_else() -> None:
    policies = [pol({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]
    assert evaluate(policies, "s3:PutObject", CKPT).decision == "allowed"
    assert evaluate(policies, "iam:PassRole", "arn:aws:iam::1:role/r").decision == "implicitDeny"


def test_not_resource_excludes_the_named_resources() -> None:
    policies = [
        pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::bucket/ckpt/*"})
    ]
    assert evaluate(policies, "s3:PutObject", CKPT).decision == "implicitDeny"
    assert evaluate(policies, "s3:PutObject", "arn:aws:s3:::bucket/data/x").decision == "allowed"


def test_deny_with_not_action_denies_what_it_does_not_name() -> None:
    policies = [
        pol(allow("*", "*")),
        pol({"Effect": "Deny", "NotAction": ["s3:GetObject"], "Resource": "*"}),
    ]
    assert evaluate(policies, "s3:PutObject", CKPT).decision == "explicitDeny"
    assert evaluate(policies, "s3:GetObject", CKPT).decision == "allowed"


def test_conditions_are_not_evaluated_but_reported() -> None:
    condition = {"StringEquals": {"aws:SourceVpce": "vpce-1"}}
    only_conditional = [pol(allow("s3:PutObject", "*", Condition=condition))]
    result = evaluate(only_conditional, "s3:PutObject", CKPT)
    assert result.decision == "allowed" and result.conditional
    conditional_deny = [
        pol(allow("s3:PutObject", "*")),
        pol({"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": condition}),
    ]
    result = evaluate(conditional_deny, "s3:PutObject", CKPT)
    assert result.decision == "allowed" and result.conditional


def test_action_names_are_case_insensitive_resources_are_not() -> None:
    policies = [pol(allow("S3:putobject", "arn:aws:s3:::bucket/CKPT/*"))]
    assert evaluate(policies, "s3:PutObject", "arn:aws:s3:::bucket/CKPT/x").decision == "allowed"
    assert evaluate(policies, "s3:PutObject", CKPT).decision == "implicitDeny"


def test_broad_grants_flags_admin_s3_star_and_passrole_star() -> None:
    flagged = broad_grants(
        pol(
            {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "AllBuckets", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
        )
    )
    assert len(flagged) == 3
    assert flagged[0].startswith("Admin:") and "administrator" in flagged[0]
    assert flagged[1].startswith("AllBuckets:") and "every bucket" in flagged[1]
    assert flagged[2].startswith("Pass:") and "PassRole" in flagged[2]


def test_broad_grants_leaves_scoped_policies_alone() -> None:
    scoped = pol(
        allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::bucket/ckpt/*"),
        allow("ecr:GetAuthorizationToken", "*"),
        allow("iam:PassRole", "arn:aws:iam::123456789012:role/SageMakerTraining"),
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    )
    assert broad_grants(scoped) == []
