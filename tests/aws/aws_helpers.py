"""Building blocks for the AWS audit tests: specs in tmp dirs, a correct account in moto, and
botocore Stubbers for the two APIs moto's server does not implement.

Why Stubbers at all: moto 5.2's Service Quotas backend knows only the ``vpc`` service code
(``ListAWSDefaultServiceQuotas(ServiceCode="sagemaker")`` answers NoSuchResourceException and
``ListServiceQuotas`` fails with HTTP 500), and its IAM has no ``SimulatePrincipalPolicy`` (HTTP
500). Everything else (STS, IAM roles/users/policies, S3, SageMaker jobs, CloudWatch Logs, ECR)
is moto's real server-mode emulation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's default account id
BUCKET = "igbo-training"
ROLE_NAME = "SageMakerTraining"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
TRUST_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def write_spec(tmp_path: Path, compute: dict[str, Any] | None = None, **top: Any) -> Path:
    """examples/seed-fixed.yaml with ``compute`` keys (and top-level sections) replaced."""
    yaml = YAML()
    data = yaml.load((ROOT / "examples" / "seed-fixed.yaml").read_text())
    for key, value in (compute or {}).items():
        if value is None:
            data["compute"].pop(key, None)
        else:
            data["compute"][key] = value
    for key, value in top.items():
        data[key] = value
    path = tmp_path / "job.yaml"
    with path.open("w") as fh:
        yaml.dump(data, fh)
    return path


def role_policy(
    checkpoint_resource: str = f"arn:aws:s3:::{BUCKET}/checkpoints/*",
) -> dict[str, Any]:
    """A least-privilege execution role policy for the seed-fixed job."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadData",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/data/*",
            },
            {
                "Sid": "Checkpoints",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": checkpoint_resource,
            },
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:*:{ACCOUNT}:log-group:/aws/sagemaker/*",
            },
            {
                "Sid": "Image",
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": "*",
            },
        ],
    }


LAUNCHER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE_ARN},
    ],
}


def build_account(
    monkeypatch: Any,
    *,
    role_doc: dict[str, Any] | None = None,
    launcher_doc: dict[str, Any] | None = None,
    trust: dict[str, Any] | None = None,
    create_bucket: bool = True,
    data_object: bool = True,
    versioning: bool = True,
    encryption: bool = True,
) -> None:
    """A correct account for examples/seed-fixed.yaml in the moto server, entered as a user.

    The environment's credentials are switched to an access key of the IAM user ``launcher``
    that moto created, so STS GetCallerIdentity names that user and its policies count.
    """
    iam = boto3.client("iam", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    if create_bucket:
        s3.create_bucket(Bucket=BUCKET)
        if versioning:
            s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        if encryption:
            s3.put_bucket_encryption(
                Bucket=BUCKET,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
        if data_object:
            s3.put_object(Bucket=BUCKET, Key="data/train.jsonl", Body=b'{"source":"a"}\n')
    iam.create_role(
        RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust or TRUST_SAGEMAKER)
    )
    iam.put_role_policy(
        RoleName=ROLE_NAME,
        PolicyName="training",
        PolicyDocument=json.dumps(role_doc or role_policy()),
    )
    iam.create_user(UserName="launcher")
    iam.put_user_policy(
        UserName="launcher",
        PolicyName="launch",
        PolicyDocument=json.dumps(launcher_doc or LAUNCHER_POLICY),
    )
    key = iam.create_access_key(UserName="launcher")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


def quota(name: str, code: str, value: float, unit: str = "None") -> dict[str, Any]:
    """A ServiceQuota structure as ListServiceQuotas returns it.

    Shape: Service Quotas API reference, ServiceQuota data type
    (https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_ServiceQuota.html),
    as modelled in botocore's service-quotas/2019-06-24/service-2.json.
    """
    return {
        "ServiceCode": "sagemaker",
        "ServiceName": "Amazon SageMaker",
        "QuotaArn": f"arn:aws:servicequotas:us-east-1:{ACCOUNT}:sagemaker/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": value,
        "Unit": unit,
        "Adjustable": True,
        "GlobalQuota": False,
    }


def seed_quotas(instances: float = 1, runtime_s: float = 432000 * 2) -> list[dict[str, Any]]:
    """Applied quotas of an account ready for the seed-fixed job (ml.g5.xlarge, 240 h)."""
    return [
        quota("ml.g5.xlarge for training job usage", "L-B6D80D9C", instances, "None"),
        quota("ml.g5.xlarge for spot training job usage", "L-SPOTG5XL", 0),
        quota("Longest run time for a training job", "L-33A961FD", runtime_s),
        quota("Number of instances across all training jobs", "L-00C91CB5", 4),
    ]


class QuotaSession:
    """A boto3 Session whose ``service-quotas`` (and optionally ``iam``/``sagemaker``) clients
    are real botocore clients with a Stubber attached; every other client is the real one,
    talking to the moto server."""

    def __init__(self, stubs: dict[str, list[tuple[str, dict[str, Any], dict[str, Any] | None]]]):
        self.session = boto3.Session()
        self.stubs = stubs
        self.stubbers: list[Stubber] = []

    def get_credentials(self) -> Any:
        return self.session.get_credentials()

    def client(self, service: str, **kwargs: Any) -> Any:
        client = self.session.client(service, **kwargs)
        if service in self.stubs:
            stubber = Stubber(client)
            for operation, response, params in self.stubs[service]:
                stubber.add_response(operation, response, params)
            stubber.activate()
            self.stubbers.append(stubber)
        return client


def quota_stub(
    applied: list[dict[str, Any]],
    defaults: list[dict[str, Any]] | None = None,
    history: dict[str, list[dict[str, Any]]] | None = None,
) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """Stubbed ListServiceQuotas (+ ListAWSDefaultServiceQuotas) for service code sagemaker,
    then ListRequestedServiceQuotaChangeHistoryByQuota for each short quota code in ``history``
    (in the order the audit asks: the order of its shortfalls)."""
    calls: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
        ("list_service_quotas", {"Quotas": applied}, {"ServiceCode": "sagemaker"})
    ]
    if defaults is not None:
        calls.append(
            ("list_aws_default_service_quotas", {"Quotas": defaults}, {"ServiceCode": "sagemaker"})
        )
    for code, requests in (history or {}).items():
        calls.append(
            (
                "list_requested_service_quota_change_history_by_quota",
                {"RequestedQuotas": requests},
                {"ServiceCode": "sagemaker", "QuotaCode": code},
            )
        )
    return calls


def open_request(code: str, desired: float, status: str = "PENDING") -> dict[str, Any]:
    """A RequestedServiceQuotaChange as the Service Quotas API returns it
    (https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_RequestedServiceQuotaChange.html)."""
    return {
        "Id": f"req-{code}",
        "ServiceCode": "sagemaker",
        "QuotaCode": code,
        "DesiredValue": desired,
        "Status": status,
        "QuotaName": "Longest run time for a training job",
    }
