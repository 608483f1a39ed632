"""``gather_facts``: look at the AWS account once, read-only, and record what the PF6xx rules judge.

Order matters only for speed and clarity: the caller's identity first (no credentials or an
unreachable endpoint end the audit right there with one reason), then quotas, buckets, logs,
the image, the VPC (when the spec names subnets), and last the permission questions, whose
exact resource ARNs use what was found (a real object of the training data, the log group's
existence).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from .facts import AwsFacts, QuotaFacts, Unchecked
from .iam import Question, check_principal, gather_role, iam_principal, role_policies, user_policies
from .quotas import gather_open_requests, gather_quotas
from .session import BotoMissing, Clients, describe_error, has_credentials, is_global, make_session
from .storage import (
    bucket_uris,
    gather_bucket,
    gather_logs,
    gather_prefix,
    image_facts,
    jobs_using_prefix,
    parse_s3,
)

if TYPE_CHECKING:
    from ..plan import Plan
    from .policy_eval import NamedPolicy

DEFAULT_JOB_NAME = "preflight-job"
ACCOUNT = "the AWS account"


@lru_cache(maxsize=1)
def permission_table() -> dict[str, Any]:
    """data/permissions.yaml: what the caller and the role must be allowed to do."""
    from ruamel.yaml import YAML

    text = resources.files("preflight.aws").joinpath("data/permissions.yaml").read_text()
    data: dict[str, Any] = YAML(typ="safe").load(text)
    return data


def gather_facts(plan: Plan, session: Any = None) -> AwsFacts:
    """Everything the PF6xx rules need about the account; never raises for AWS trouble.

    ``session`` is a boto3 Session (or anything with ``.client(name, region_name=, config=)``);
    by default boto3's own credential chain is used.
    """
    spec = plan.spec
    region = spec.compute.region if spec.compute is not None else "us-east-1"
    facts = AwsFacts(region=region)
    try:
        session = make_session(session)
    except BotoMissing as exc:
        facts.unavailable = Unchecked(ACCOUNT, str(exc))
        return facts
    if not has_credentials(session):
        facts.unavailable = Unchecked(
            ACCOUNT, "no AWS credentials found (environment, ~/.aws, SSO or instance role)"
        )
        return facts
    clients = Clients(session, region)
    try:
        _gather(plan, clients, facts)
    except Exception as exc:
        reason = describe_error(exc) if is_global(exc) else f"audit stopped: {describe_error(exc)}"
        facts.unavailable = Unchecked(ACCOUNT, reason)
    return facts


def _gather(plan: Plan, clients: Clients, facts: AwsFacts) -> None:
    spec = plan.spec
    ident = clients.get("sts").get_caller_identity()
    facts.account = str(ident.get("Account"))
    facts.caller_arn = str(ident.get("Arn"))
    compute = spec.compute
    sagemaker = compute is not None and compute.provider == "sagemaker"

    if sagemaker and compute is not None:
        facts.quotas = gather_quotas(clients, compute.instance_type)
        if isinstance(facts.quotas, QuotaFacts):
            from .shortfalls import shortfalls

            short = [s.quota.code for s in shortfalls(compute, facts.quotas) if s.quota]
            gather_open_requests(clients, facts.quotas, short)

    uris = bucket_uris(spec)
    for uri in uris.values():
        parsed = parse_s3(uri)
        if parsed is not None and parsed.bucket not in facts.buckets:
            facts.buckets[parsed.bucket] = gather_bucket(clients, parsed.bucket)

    def bucket_exists(uri: str) -> bool:
        parsed = parse_s3(uri)
        return parsed is not None and facts.buckets[parsed.bucket].exists is not False

    if "data.train" in uris and bucket_exists(uris["data.train"]):
        facts.data_prefix = gather_prefix(clients, uris["data.train"], checkpoints=False)
    ckpt = uris.get("compute.checkpoint_s3_uri")
    if ckpt and bucket_exists(ckpt):
        facts.checkpoint_prefix = gather_prefix(clients, ckpt, checkpoints=True)
        if sagemaker and (facts.checkpoint_prefix.object_count or 0) > 0:
            try:
                facts.checkpoint_prefix.other_jobs = jobs_using_prefix(clients, ckpt, spec.name)
            except Exception as exc:
                if is_global(exc):
                    raise
                facts.notes.append(
                    f"could not list earlier training jobs for {ckpt}: {describe_error(exc)}"
                )

    if not sagemaker or compute is None:
        return
    table = permission_table()
    facts.logs = gather_logs(clients, table["log_group"])
    facts.image = image_facts(
        clients,
        compute.image_uri,
        compute.region,
        facts.account,
        {"account": table["dlc_account"], "repository": table["dlc_repository"]},
    )
    if compute.subnets and compute.security_group_ids:
        from .network import gather_vpc

        facts.vpc = gather_vpc(
            clients, compute.region, list(compute.subnets), list(compute.security_group_ids)
        )
    values = _template_values(plan, facts)
    kms_questions = _kms_questions(plan, facts, uris)
    role_policy_list: list[NamedPolicy] | None = None
    if compute.role_arn:
        facts.role, role_policy_list = gather_role(clients, compute.role_arn)
        if facts.role.exists:
            role_name = compute.role_arn.rsplit("/", 1)[-1]
            iam = clients.get("iam")
            readable = role_policy_list
            facts.role_permissions = check_principal(
                clients,
                compute.role_arn,
                _questions(table["role"], values) + kms_questions,
                (lambda: readable)
                if readable is not None
                else (lambda: role_policies(iam, role_name)),
                f"the execution role {compute.role_arn}",
            )
    facts.caller = _caller_permissions(clients, facts, table, values)


def _caller_permissions(
    clients: Clients, facts: AwsFacts, table: dict[str, Any], values: dict[str, str]
) -> Any:
    from .facts import PrincipalPermissions

    caller_arn = facts.caller_arn or ""
    principal = iam_principal(caller_arn)
    questions = _questions(table["caller"], values)
    if principal is None:
        return PrincipalPermissions(
            principal=caller_arn,
            unchecked=Unchecked(
                "the caller's launch permissions",
                "the caller is the account's root user (it may do everything; AWS advises "
                "launching as an IAM role instead)"
                if caller_arn.endswith(":root")
                else f"{caller_arn} is not an IAM user or role",
            ),
        )
    kind, name = principal
    iam = clients.get("iam")
    if kind == "role":
        # The STS session ARN drops the role's path; IAM needs the role's own ARN.
        iam_arn = f"arn:aws:iam::{facts.account}:role/{name}"
        try:
            iam_arn = str(iam.get_role(RoleName=name)["Role"]["Arn"])
        except Exception as exc:
            if is_global(exc):
                raise
        return check_principal(
            clients, iam_arn, questions, lambda: role_policies(iam, name), f"the caller {iam_arn}"
        )
    return check_principal(
        clients, caller_arn, questions, lambda: user_policies(iam, name), f"the caller {caller_arn}"
    )


# A bucket's SSE-KMS key must let the role encrypt what it writes and decrypt what it reads
# (S3 user guide, "Using server-side encryption with AWS KMS keys": kms:GenerateDataKey for
# uploads, kms:Decrypt for downloads).
KMS_NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "data.train": ("decrypt the training data", ("kms:Decrypt",)),
    "compute.checkpoint_s3_uri": (
        "encrypt and decrypt checkpoints",
        ("kms:GenerateDataKey", "kms:Decrypt"),
    ),
    "compute.output_path": ("encrypt the model upload", ("kms:GenerateDataKey",)),
}


def _kms_questions(plan: Plan, facts: AwsFacts, uris: dict[str, str]) -> list[Question]:
    from .storage import kms_key_arn

    out: list[Question] = []
    for field, (purpose, actions) in KMS_NEEDS.items():
        parsed = parse_s3(uris.get(field))
        bucket = facts.buckets.get(parsed.bucket) if parsed is not None else None
        if bucket is None or not bucket.kms_key:
            continue
        arn = kms_key_arn(bucket.kms_key, bucket.region or facts.region, facts.account)
        if arn is None:
            facts.notes.append(
                f"s3://{bucket.name} encrypts with KMS alias {bucket.kms_key}: the role's "
                "permission on the key behind it was not checked"
            )
            continue
        out.append(Question(purpose, field, actions, arn, arn))
    return out


def _template_values(plan: Plan, facts: AwsFacts) -> dict[str, str]:
    """Exact resource names for data/permissions.yaml templates, from the spec and what was found."""
    spec = plan.spec
    compute = spec.compute
    assert compute is not None
    values: dict[str, str] = {
        "region": compute.region,
        "account": facts.account or "*",
        "job": spec.name or DEFAULT_JOB_NAME,
        "role_arn": compute.role_arn or "",
        "log_group": permission_table()["log_group"],
        "repo_arn": facts.image.repository_arn if facts.image else "*",
    }
    data = parse_s3(spec.data.train if spec.data is not None else None)
    if data is not None:
        key = data.key
        if facts.data_prefix is not None and facts.data_prefix.sample_key:
            key = facts.data_prefix.sample_key  # a real object: the exact ARN SageMaker reads
        elif key.endswith("/") or not key:
            key = data.prefix + "part-00000"
        data_prefix = data.key.rsplit("/", 1)[0] + "/" if "/" in data.key.strip("/") else ""
        if data.key.endswith("/"):
            data_prefix = data.prefix
        values.update(data_bucket=data.bucket, data_key=key, data_prefix=data_prefix)
    ckpt = parse_s3(compute.checkpoint_s3_uri)
    if ckpt is not None:
        # Trainer writes checkpoint-N/ folders; SageMaker uploads them under the prefix.
        values.update(
            ckpt_bucket=ckpt.bucket,
            ckpt_key=ckpt.prefix + "checkpoint-1/adapter_model.safetensors",
            ckpt_prefix=ckpt.prefix,
        )
    out = parse_s3(compute.output_path)
    if out is not None:
        # CreateTrainingJob writes S3OutputPath/<job name>/output/model.tar.gz.
        values.update(
            out_bucket=out.bucket,
            out_key=f"{out.prefix}{values['job']}/output/model.tar.gz",
            out_prefix=out.prefix,
        )
    values["_data"] = "1" if data is not None else ""
    values["_checkpoint"] = "1" if ckpt is not None else ""
    values["_output"] = "1" if out is not None else ""
    values["_vpc"] = "1" if compute.subnets else ""
    values["_missing_log_group"] = "" if facts.logs is not None and facts.logs.exists else "1"
    return values


def _questions(entries: list[dict[str, Any]], values: dict[str, str]) -> list[Question]:
    out: list[Question] = []
    for entry in entries:
        need = entry.get("needs")
        if need and not values.get(f"_{need}"):
            continue
        resource = str(entry["resource"]).format(**values)
        if entry["field"] == "compute.role_arn" and "{role_arn}" in entry["resource"]:
            if not values["role_arn"]:
                continue
        grant = str(entry.get("grant", entry["resource"])).format(**values)
        out.append(
            Question(entry["purpose"], entry["field"], tuple(entry["actions"]), resource, grant)
        )
    return out
