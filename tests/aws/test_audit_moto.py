"""``preflight check --aws`` end to end against moto in server mode (fixture ``aws``).

STS, IAM, S3, SageMaker, CloudWatch Logs and ECR are moto's emulation. Service Quotas for
``sagemaker`` and IAM's policy simulator are not implemented by moto 5.2, so those two clients
get a botocore Stubber with responses shaped like the real API (see aws_helpers.py); without a
stub the audit meets moto's HTTP 500 and must fall back (local policy evaluation) or warn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_helpers import (
    ACCOUNT,
    BUCKET,
    LAUNCHER_POLICY,
    ROLE_ARN,
    TRUST_SAGEMAKER,
    QuotaSession,
    build_account,
    open_request,
    quota,
    quota_stub,
    role_policy,
    seed_quotas,
    write_spec,
)

from preflight.findings import Finding, Severity
from preflight.pipeline import check, check_plan
from preflight.plan import Plan
from preflight.report import Report
from preflight.spec import load_spec

pytestmark = pytest.mark.usefixtures("aws")


def run(spec: Path, session: Any = None, *, full: bool = False) -> Report:
    """The audit and the rule engine over ``spec``; ``full`` also runs memplan/costmodel
    (``preflight.check`` itself), which the PF6xx rules do not need."""
    if full:
        return check(spec, aws=True, aws_session=session)
    loaded = load_spec(spec)
    report = Report(spec=str(spec), files=[str(spec)])
    report.findings.extend(check_plan(Plan(loaded), aws=True, aws_session=session))
    return report


def aws_findings(report: Report, *, at_least: Severity = Severity.WARNING) -> list[Finding]:
    return [
        f for f in report.findings if f.rule.startswith("PF6") and f.severity.rank >= at_least.rank
    ]


def by_rule(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def stubbed(applied: list[dict[str, Any]] | None = None, **more: Any) -> QuotaSession:
    return QuotaSession(
        {"service-quotas": quota_stub(seed_quotas() if applied is None else applied), **more}
    )


def test_correct_account_passes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_account(monkeypatch)
    report = run(write_spec(tmp_path), stubbed(), full=True)
    assert aws_findings(report) == []
    assert not any(f.rule.startswith("PF6") for f in report.failing(Severity.ERROR))
    # moto has no policy simulator: the audit says it evaluated the policies itself.
    notes = [f.message for f in by_rule(report, "PF600")]
    assert any("evaluated locally" in m and ROLE_ARN in m for m in notes)


def test_role_that_cannot_write_the_checkpoint_prefix_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The role may write s3://igbo-training/other/*, but the spec checkpoints elsewhere.
    build_account(monkeypatch, role_doc=role_policy(f"arn:aws:s3:::{BUCKET}/other/*"))
    report = run(write_spec(tmp_path), stubbed(), full=True)
    (finding,) = [f for f in by_rule(report, "PF605") if "upload checkpoints" in f.message]
    assert finding.severity is Severity.ERROR
    assert finding.field == "compute.checkpoint_s3_uri"
    assert finding.line is not None  # located in the spec file
    assert "s3:PutObject" in finding.message
    assert f"arn:aws:s3:::{BUCKET}/checkpoints/igbo-mistral7b/" in finding.message
    assert report.failing(Severity.ERROR)


def test_explicit_deny_on_the_prefix_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    doc = role_policy()
    doc["Statement"].append(
        {
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/checkpoints/*",
        }
    )
    build_account(monkeypatch, role_doc=doc)
    report = run(write_spec(tmp_path), stubbed())
    assert any("explicitly denied" in f.message for f in by_rule(report, "PF605"))


def test_missing_bucket_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_account(monkeypatch, create_bucket=False)
    report = run(write_spec(tmp_path), stubbed(), full=True)
    (missing,) = by_rule(report, "PF607")
    assert missing.severity is Severity.ERROR
    assert missing.message == f"bucket s3://{BUCKET} does not exist"
    assert report.failing(Severity.ERROR)


def test_runtime_beyond_the_quota_fails_with_the_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch)
    five_days = seed_quotas(runtime_s=432000)  # the AWS default the seed story ran into
    session = QuotaSession({"service-quotas": quota_stub(five_days, history={"L-33A961FD": []})})
    report = run(write_spec(tmp_path), session, full=True)
    (finding,) = by_rule(report, "PF602")
    assert finding.field == "compute.max_run_hours" and finding.severity is Severity.ERROR
    assert "240 h = 864000 s" in finding.message and "applied value" in finding.message
    assert (
        "aws service-quotas request-service-quota-increase --service-code sagemaker "
        "--quota-code L-33A961FD --desired-value 864000 --region us-east-1"
    ) in (finding.fix or "")
    assert report.failing(Severity.ERROR)


def test_default_quota_is_used_when_no_applied_value_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch)
    applied = [q for q in seed_quotas() if "ml.g5" not in q["QuotaName"]]
    defaults = [quota("ml.g5.xlarge for training job usage", "L-B6D80D9C", 0)]
    session = QuotaSession(
        {"service-quotas": quota_stub(applied, defaults, history={"L-B6D80D9C": []})}
    )
    (finding,) = by_rule(run(write_spec(tmp_path), session), "PF601")
    assert "is 0 (AWS default; no applied value found)" in finding.message
    assert "--quota-code L-B6D80D9C --desired-value 1 " in (finding.fix or "")


def test_quota_taken_by_a_running_job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_account(monkeypatch)
    # moto's training jobs are Completed at once, so the InProgress job is stubbed; shapes from
    # the SageMaker API reference (ListTrainingJobs TrainingJobSummary, DescribeTrainingJob).
    summary = {
        "TrainingJobName": "other-run",
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/other-run",
        "CreationTime": "2026-11-25T10:00:00Z",
        "TrainingJobStatus": "InProgress",
    }
    describe = {
        **{k: summary[k] for k in ("TrainingJobName", "TrainingJobArn", "TrainingJobStatus")},
        "ModelArtifacts": {"S3ModelArtifacts": ""},
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "img"},
        "ResourceConfig": {
            "InstanceType": "ml.g5.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": summary["CreationTime"],
        "SecondaryStatus": "Training",
        "EnableManagedSpotTraining": False,
    }
    sagemaker = [
        ("list_training_jobs", {"TrainingJobSummaries": [summary]}, {"StatusEquals": "InProgress"}),
        ("describe_training_job", describe, {"TrainingJobName": "other-run"}),
    ]
    quotas = quota_stub(seed_quotas(), history={"L-B6D80D9C": []})
    report = run(
        write_spec(tmp_path), QuotaSession({"service-quotas": quotas, "sagemaker": sagemaker})
    )
    (finding,) = by_rule(report, "PF601")
    assert "1 already in use by running jobs" in finding.message
    assert "--desired-value 2 " in (finding.fix or "")


def test_open_request_is_named_instead_of_a_second_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch)
    history = {
        "L-33A961FD": [open_request("L-33A961FD", 900000), open_request("L-33A961FD", 5, "DENIED")]
    }
    session = QuotaSession(
        {"service-quotas": quota_stub(seed_quotas(runtime_s=432000), history=history)}
    )
    (finding,) = by_rule(run(write_spec(tmp_path), session), "PF602")
    assert finding.severity is Severity.ERROR  # still short until AWS approves
    assert "already requested (request req-L-33A961FD, PENDING)" in (finding.fix or "")
    for stubber in session.stubbers:
        stubber.assert_no_pending_responses()


def test_role_not_trusting_sagemaker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ec2_trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    }  # fmt: skip
    build_account(monkeypatch, trust=ec2_trust)
    (finding,) = by_rule(run(write_spec(tmp_path), stubbed()), "PF604")
    assert "does not trust sagemaker.amazonaws.com (it trusts ec2.amazonaws.com)" in finding.message


def test_role_that_does_not_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_account(monkeypatch)
    spec = write_spec(tmp_path, {"role_arn": f"arn:aws:iam::{ACCOUNT}:role/Nope"})
    (finding,) = by_rule(run(spec, stubbed()), "PF604")
    assert "does not exist" in finding.message


def test_caller_without_pass_role(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    launcher = {"Version": "2012-10-17", "Statement": [LAUNCHER_POLICY["Statement"][0]]}
    build_account(monkeypatch, launcher_doc=launcher)
    (finding,) = by_rule(run(write_spec(tmp_path), stubbed()), "PF603")
    assert "iam:PassRole" in finding.message and ROLE_ARN in finding.message
    assert "user/launcher" in finding.message


def test_over_broad_role_is_a_security_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch, role_doc={"Version": "2012-10-17", "Statement": [
        {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]})  # fmt: skip
    report = run(write_spec(tmp_path), stubbed())
    (finding,) = by_rule(report, "PF606")
    assert finding.severity is Severity.WARNING and "Everything" in finding.message
    assert by_rule(report, "PF605") == []  # admin can do it all: no permission errors


def test_bucket_in_another_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_account(monkeypatch)
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="ckpt-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    spec = write_spec(tmp_path, {"checkpoint_s3_uri": "s3://ckpt-eu/run1"})
    (finding,) = by_rule(run(spec, stubbed()), "PF608")
    assert finding.field == "compute.checkpoint_s3_uri"
    assert "is in eu-west-1, the job runs in us-east-1" in finding.message


def test_empty_training_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_account(monkeypatch, data_object=False)
    (finding,) = by_rule(run(write_spec(tmp_path), stubbed()), "PF609")
    assert finding.field == "data.train" and finding.severity is Severity.ERROR


def test_versionless_checkpoint_bucket_warns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch, versioning=False)
    (finding,) = by_rule(run(write_spec(tmp_path), stubbed()), "PF610")
    assert finding.severity is Severity.WARNING and "versioning" in finding.message


def test_checkpoint_prefix_of_another_job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_account(monkeypatch)
    s3 = boto3.client("s3", region_name="us-east-1")
    prefix = "checkpoints/igbo-mistral7b"
    for step in (5000, 10000):
        s3.put_object(
            Bucket=BUCKET, Key=f"{prefix}/checkpoint-{step}/adapter_model.safetensors", Body=b"x"
        )
    boto3.client("sagemaker", region_name="us-east-1").create_training_job(
        TrainingJobName="earlier-run",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        RoleArn=ROLE_ARN,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/out"},
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        CheckpointConfig={"S3Uri": f"s3://{BUCKET}/{prefix}"},
    )
    (finding,) = by_rule(run(write_spec(tmp_path), stubbed()), "PF611")
    assert "checkpoint-5000 .. checkpoint-10000" in finding.message
    assert "earlier-run (Completed)" in finding.message
    assert finding.severity is Severity.WARNING


def test_policy_simulator_is_used_with_exact_resource_arns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The simulator path, with every SimulatePrincipalPolicy call's parameters pinned.

    moto has no simulator, so the whole IAM client is stubbed for this test (the role's
    GetRole/ListRolePolicies/... calls too, since they share the client). Shapes: IAM API
    reference, SimulatePrincipalPolicy and EvaluationResult
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html).
    """
    build_account(monkeypatch)
    ckpt = (
        f"arn:aws:s3:::{BUCKET}/checkpoints/igbo-mistral7b/checkpoint-1/adapter_model.safetensors"
    )
    logs = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/sagemaker/TrainingJobs"
    questions: list[tuple[list[str], str | None]] = [
        (["s3:GetObject"], f"arn:aws:s3:::{BUCKET}/data/train.jsonl"),
        (["s3:ListBucket"], f"arn:aws:s3:::{BUCKET}"),
        (["s3:PutObject"], ckpt),
        (["s3:GetObject"], ckpt),
        (["s3:ListBucket"], f"arn:aws:s3:::{BUCKET}"),
        (["logs:CreateLogStream", "logs:PutLogEvents"], logs + ":log-stream:*"),
        (["logs:CreateLogGroup"], logs),
        (["ecr:GetAuthorizationToken"], None),
        (
            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "arn:aws:ecr:us-east-1:763104351884:repository/huggingface-pytorch-training",
        ),
    ]
    caller = f"arn:aws:iam::{ACCOUNT}:user/launcher"
    caller_questions: list[tuple[list[str], str | None]] = [
        (["sagemaker:CreateTrainingJob"], f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/igbo-mistral7b"),
        (["iam:PassRole"], ROLE_ARN),
    ]  # fmt: skip
    role = {"Path": "/", "RoleName": "SageMakerTraining", "RoleId": "AROAEXAMPLEID0000001",
            "Arn": ROLE_ARN, "CreateDate": "2026-11-01T00:00:00Z",
            "AssumeRolePolicyDocument": json.dumps(TRUST_SAGEMAKER)}  # fmt: skip
    calls: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
        ("get_role", {"Role": role}, {"RoleName": "SageMakerTraining"}),
        ("list_role_policies", {"PolicyNames": ["training"]}, {"RoleName": "SageMakerTraining"}),
        (
            "get_role_policy",
            {
                "RoleName": "SageMakerTraining",
                "PolicyName": "training",
                "PolicyDocument": json.dumps(role_policy()),
            },
            None,
        ),  # fmt: skip
        ("list_attached_role_policies", {"AttachedPolicies": []}, None),
    ]
    for principal, asked in ((ROLE_ARN, questions), (caller, caller_questions)):
        for actions, resource in asked:
            params: dict[str, Any] = {"PolicySourceArn": principal, "ActionNames": actions}
            if resource is not None:
                params["ResourceArns"] = [resource]
            decision = "implicitDeny" if actions == ["s3:PutObject"] else "allowed"
            results = [
                {"EvalActionName": a, "EvalResourceName": resource or "*", "EvalDecision": decision,
                 "MatchedStatements": [], "MissingContextValues": []}
                for a in actions
            ]  # fmt: skip
            calls.append(
                (
                    "simulate_principal_policy",
                    {"EvaluationResults": results, "IsTruncated": False},
                    params,
                )
            )
    session = QuotaSession({"service-quotas": quota_stub(seed_quotas()), "iam": calls})
    report = run(write_spec(tmp_path), session)
    for stubber in session.stubbers:
        stubber.assert_no_pending_responses()  # every pinned call was made, in this order
    assert not any("evaluated locally" in f.message for f in report.findings)
    denied = by_rule(report, "PF605")
    assert [f.field for f in denied] == ["compute.checkpoint_s3_uri"]
    assert "s3:PutObject" in denied[0].message and "not allowed" in denied[0].message


def test_quota_access_denied_is_a_warning_not_a_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch)

    class Denied(QuotaSession):
        def client(self, service: str, **kwargs: Any) -> Any:
            from botocore.stub import Stubber

            client = self.session.client(service, **kwargs)
            if service == "service-quotas":
                stub = Stubber(client)
                for op in ("list_service_quotas", "list_aws_default_service_quotas"):
                    stub.add_client_error(op, "AccessDeniedException", "not authorized", 400)
                stub.activate()
                self.stubbers.append(stub)
            return client

    report = run(write_spec(tmp_path), Denied({}))
    warnings = [f for f in by_rule(report, "PF600") if f.severity is Severity.WARNING]
    assert any(
        "could not check the SageMaker Service Quotas" in f.message and "access denied" in f.message
        for f in warnings
    )
    assert by_rule(report, "PF601") == [] and by_rule(report, "PF602") == []


def test_without_stubs_moto_quota_gap_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Plain boto3 against moto: its Service Quotas cannot answer for sagemaker."""
    build_account(monkeypatch)
    report = run(write_spec(tmp_path))
    (warning,) = [f for f in by_rule(report, "PF600") if "Service Quotas" in f.message]
    assert warning.severity is Severity.WARNING


def test_secrets_never_reach_the_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    build_account(monkeypatch)
    text = json.dumps([f.to_json() for f in run(write_spec(tmp_path), stubbed()).findings])
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in text
    assert os.environ["AWS_ACCESS_KEY_ID"] not in text


def test_missing_image_tag_in_own_ecr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_account(monkeypatch)
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="train")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                      "size": 1, "digest": "sha256:" + "0" * 64}, "layers": []})  # fmt: skip
    ecr.put_image(repositoryName="train", imageManifest=manifest, imageTag="v1")
    image = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/train"
    ok = run(write_spec(tmp_path, {"image_uri": f"{image}:v1"}), stubbed())
    assert by_rule(ok, "PF612") == []
    missing = run(write_spec(tmp_path, {"image_uri": f"{image}:v2"}), stubbed())
    (finding,) = by_rule(missing, "PF612")
    assert finding.field == "compute.image_uri" and f"{image}:v2" in finding.message


def test_unencrypted_checkpoint_bucket_warns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch, encryption=False)
    (finding,) = by_rule(run(write_spec(tmp_path), stubbed()), "PF610")
    assert "no default encryption" in finding.message


def test_stated_resume_turns_the_prefix_note_into_info(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch)
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=BUCKET, Key="checkpoints/igbo-mistral7b/checkpoint-5000/x.bin", Body=b"x"
    )
    spec = write_spec(tmp_path)
    text = spec.read_text().replace(
        "  logging_steps: 100",
        "  logging_steps: 100\n  resume_from_checkpoint: /opt/ml/checkpoints",
    )
    spec.write_text(text)
    (finding,) = by_rule(run(spec, stubbed()), "PF611")
    assert finding.severity is Severity.INFO and "will resume from them" in finding.message


def test_assumed_role_caller_is_checked_as_its_role(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch)
    iam = boto3.client("iam", region_name="us-east-1")
    trust_account = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam.create_role(
        RoleName="Launcher", Path="/team/", AssumeRolePolicyDocument=json.dumps(trust_account)
    )
    no_pass = {"Version": "2012-10-17", "Statement": [LAUNCHER_POLICY["Statement"][0]]}
    iam.put_role_policy(
        RoleName="Launcher", PolicyName="launch", PolicyDocument=json.dumps(no_pass)
    )
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/team/Launcher", RoleSessionName="alice"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    (finding,) = by_rule(run(write_spec(tmp_path), stubbed()), "PF603")
    assert (
        f"arn:aws:iam::{ACCOUNT}:role/team/Launcher" in finding.message
    )  # the role, with its path
    assert "iam:PassRole" in finding.message


def test_kms_encrypted_checkpoint_bucket_needs_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_arn = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    doc = role_policy()
    build_account(monkeypatch, role_doc=doc)
    boto3.client("s3", region_name="us-east-1").put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]},
    )  # fmt: skip
    findings = by_rule(run(write_spec(tmp_path), stubbed()), "PF605")
    messages = {f.field: f.message for f in findings}
    assert "kms:GenerateDataKey, kms:Decrypt" in messages["compute.checkpoint_s3_uri"]
    assert key_arn in messages["compute.checkpoint_s3_uri"]
    assert "kms:Decrypt" in messages["data.train"]  # same bucket: the data is encrypted too

    doc["Statement"].append(
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key_arn}
    )
    boto3.client("iam", region_name="us-east-1").put_role_policy(
        RoleName="SageMakerTraining", PolicyName="training", PolicyDocument=json.dumps(doc)
    )
    assert by_rule(run(write_spec(tmp_path), stubbed()), "PF605") == []


def test_attached_and_group_policies_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Local evaluation sees managed policies attached to the role, and a user's group policies."""
    doc = role_policy()
    checkpoints = doc["Statement"].pop(1)  # the checkpoint grant moves into a managed policy
    launch, pass_role = LAUNCHER_POLICY["Statement"]
    build_account(
        monkeypatch, role_doc=doc, launcher_doc={"Version": "2012-10-17", "Statement": [launch]}
    )
    iam = boto3.client("iam", region_name="us-east-1")
    arn = iam.create_policy(
        PolicyName="checkpoints",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [checkpoints]}),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="SageMakerTraining", PolicyArn=arn)
    iam.create_group(GroupName="launchers")
    iam.put_group_policy(
        GroupName="launchers",
        PolicyName="pass",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [pass_role]}),
    )
    iam.add_user_to_group(GroupName="launchers", UserName="launcher")
    report = run(write_spec(tmp_path), stubbed())
    assert by_rule(report, "PF605") == [] and by_rule(report, "PF603") == []
    notes = " ".join(f.message for f in by_rule(report, "PF600"))
    assert "from its 2 identity policies" in notes  # role: inline + attached; user: inline + group
