"""Who the caller is, as IAM sees it: an assumed-role session is checked as its role."""

from __future__ import annotations

import pytest

from preflight.aws.iam import iam_principal, trust_principals


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:iam::123456789012:user/launcher", ("user", "launcher")),
        ("arn:aws:iam::123456789012:user/team/launcher", ("user", "launcher")),
        ("arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com", ("role", "Admin")),
        ("arn:aws-cn:sts::123456789012:assumed-role/Ops/session", ("role", "Ops")),
        ("arn:aws:iam::123456789012:root", None),
    ],
)
def test_iam_principal(arn: str, expected: tuple[str, str] | None) -> None:
    assert iam_principal(arn) == expected


def test_trust_policy_with_a_list_of_services() -> None:
    doc = {"Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"],
                          "Principal": {"Service": ["ec2.amazonaws.com", "sagemaker.amazonaws.com"]}}]}  # fmt: skip
    assert trust_principals(doc) == (True, ["ec2.amazonaws.com", "sagemaker.amazonaws.com"])


def test_trust_policy_that_only_denies_sagemaker() -> None:
    doc = {"Statement": [{"Effect": "Deny", "Action": "sts:AssumeRole",
                          "Principal": {"Service": "sagemaker.amazonaws.com"}}]}  # fmt: skip
    assert trust_principals(doc) == (False, [])


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("1234abcd-12ab", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab"),
        ("arn:aws:kms:eu-west-1:111122223333:key/k", "arn:aws:kms:eu-west-1:111122223333:key/k"),
        ("alias/checkpoints", None),
        ("arn:aws:kms:us-east-1:123456789012:alias/checkpoints", None),
    ],
)
def test_kms_key_arn(key: str, expected: str | None) -> None:
    from preflight.aws.storage import kms_key_arn

    assert kms_key_arn(key, "us-east-1", "123456789012") == expected
