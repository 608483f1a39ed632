"""PF6xx: the AWS account audit (``preflight check --aws``), judged from ``plan.aws``.

The audit (``preflight.aws.gather_facts``) gathers the facts once; these rules only judge them.
Anything the audit could not look at is PF600, a warning that names what and why: an unchecked
quota or permission is never reported as a pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..findings import Finding, Severity
from .base import Rule

if TYPE_CHECKING:
    from ..aws.facts import AwsFacts, PermissionCheck
    from ..plan import Plan

QUOTAS_URL = "https://docs.aws.amazon.com/sagemaker/latest/dg/regions-quotas.html"
ROLES_URL = "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html"
CHECKPOINTS_URL = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html"
VPC_URL = "https://docs.aws.amazon.com/sagemaker/latest/dg/train-vpc.html"


def _facts(plan: Plan) -> AwsFacts | None:
    """The audit's facts, or None when the audit did not run at all (PF600 says why)."""
    from ..aws.facts import AwsFacts

    facts = plan.aws
    if not isinstance(facts, AwsFacts) or facts.unavailable is not None:
        return None
    return facts


def _bucket_field(plan: Plan, bucket: str) -> str:
    from ..aws.storage import bucket_uris, parse_s3

    for field, uri in bucket_uris(plan.spec).items():
        parsed = parse_s3(uri)
        if parsed is not None and parsed.bucket == bucket:
            return field
    return "compute"


class AwsAuditIncomplete(Rule):
    """
    What it does:
    Reports every part of the AWS audit that could not be checked (no credentials, endpoint
    unreachable, AccessDenied, an API that is not available) and how IAM was evaluated.

    Why is this bad?
    A quota or a permission that could not be read is not a quota or permission that is fine.
    The seed story lost five days to a runtime quota nobody had looked at; a silent skip would
    repeat that with a green check mark.

    Example:
    ```console
    $ preflight check job.yaml --aws     # run without AWS credentials
    ```

    Use instead:
    ```console
    $ AWS_PROFILE=training preflight check job.yaml --aws
    ```
    with a principal that may call `servicequotas:List*`, `sagemaker:List*`/`Describe*`,
    `iam:Get*`/`List*`/`SimulatePrincipalPolicy`, `s3:ListBucket`/`GetBucket*`, `logs:Describe*`
    (and `ec2:Describe*` for a job in a VPC).

    References:
    - https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/Welcome.html
    - https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
    """

    id = "PF600"
    name = "aws-audit-incomplete"
    severity = Severity.WARNING
    title = "Part of the AWS account could not be checked"
    fix = "Run with credentials that may read quotas, IAM, S3 and SageMaker jobs (read-only)."
    source_url = (
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html"
    )
    requires = ("aws",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        from ..aws.facts import AwsFacts, Unchecked

        facts = plan.aws
        if not isinstance(facts, AwsFacts):
            return
        if facts.unavailable is not None:
            yield self.finding(
                "compute.region" if plan.spec.compute else None,
                f"AWS audit not run: {facts.unavailable.sentence()}; quotas, IAM and buckets "
                "are unchecked",
            )
            return
        quotas = facts.quotas
        if isinstance(quotas, Unchecked):
            yield self.finding("compute.instance_type", quotas.sentence())
        elif quotas is not None:
            if isinstance(quotas.running, Unchecked):
                yield self.finding("compute.instance_count", quotas.running.sentence())
            for purpose, value in quotas.quotas.items():
                if value is None and purpose in ("longest_runtime",):
                    yield self.finding(
                        "compute.max_run_hours",
                        f"could not check quota '{quotas.names[purpose]}': not listed for "
                        f"{facts.region} (neither applied nor default)",
                    )
            for note in quotas.notes:
                yield self.finding("compute.instance_type", note, severity=Severity.INFO)
        role_arn = plan.spec.compute.role_arn if plan.spec.compute else None
        if plan.spec.compute is not None and plan.spec.compute.provider == "sagemaker":
            if not role_arn:
                yield self.finding(
                    "compute.role_arn",
                    "could not check the execution role: compute.role_arn is not stated",
                    fix="State compute.role_arn (the role SageMaker runs the job as).",
                )
        for part, field in (
            (facts.role, "compute.role_arn"),
            (facts.role_permissions, "compute.role_arn"),
            (facts.caller, "compute.role_arn"),
            (facts.data_prefix, "data.train"),
            (facts.checkpoint_prefix, "compute.checkpoint_s3_uri"),
            (facts.logs, "compute.role_arn"),
            (facts.image, "compute.image_uri"),
        ):
            unchecked = getattr(part, "unchecked", None) if part is not None else None
            if unchecked is not None:
                yield self.finding(field, unchecked.sentence())
        for field, unchecked in facts.vpc.unchecked if facts.vpc is not None else []:
            yield self.finding(field, unchecked.sentence())
        for bucket in facts.buckets.values():
            for unchecked in bucket.unchecked:
                yield self.finding(_bucket_field(plan, bucket.name), unchecked.sentence())
        for who in (facts.caller, facts.role_permissions):
            if who is not None and who.method == "local":
                yield self.finding(
                    "compute.role_arn",
                    f"IAM permissions of {who.principal} evaluated locally from its "
                    f"{who.policies_read} identity policies (the policy simulator was not "
                    f"available: {who.why_local}); SCPs, permission boundaries and conditions "
                    "were not considered",
                    fix="Allow iam:SimulatePrincipalPolicy for an exact answer.",
                    severity=Severity.INFO,
                )
        for note in facts.notes:
            yield self.finding(None, note, severity=Severity.INFO)


class InstanceQuotaTooLow(Rule):
    """
    What it does:
    Compares `compute.instance_type` x `compute.instance_count` with the account's SageMaker
    quotas "<type> for training job usage" (or "... for spot training job usage" when
    `compute.spot`) and "Number of instances across all (spot) training jobs", minus the
    instances that running training jobs already hold.

    Why is this bad?
    CreateTrainingJob fails with `ResourceLimitExceeded` when the quota is short. New accounts
    often have 0 for GPU types, and a quota of 1 with one job already running is just as short.

    Example:
    ```yaml
    compute:
      instance_type: ml.g5.xlarge   # account quota: 0
    ```

    Use instead:
    Request the increase shown in the finding (or `preflight quota request job.yaml`) before
    launch; approvals can take days.

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/regions-quotas.html
    - shared/research/catalog-facts.md section 4.2
    """

    id = "PF601"
    name = "instance-quota-too-low"
    severity = Severity.ERROR
    title = "The account's SageMaker instance quota is too low for this job"
    fix = "Request a quota increase, or use an instance type the account has quota for."
    source_url = QUOTAS_URL
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        yield from _quota_findings(self, plan, runtime=False)


class RuntimeQuotaTooLow(Rule):
    """
    What it does:
    Compares `compute.max_run_hours` (and `compute.max_wait_hours` for spot) with the account's
    quota "Longest run time for a training job".

    Why is this bad?
    The AWS default is 432,000 s (5 days). A job planned for 7 days is rejected or stopped at the
    limit; in the seed story this cost five days and a restart.

    Example:
    ```yaml
    compute:
      max_run_hours: 168     # quota: 120 h
    ```

    Use instead:
    Request the runtime quota increase shown in the finding before launch (it may take days),
    or split the run into resumable jobs that each fit.

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html
    - shared/research/catalog-facts.md section 4.1
    """

    id = "PF602"
    name = "runtime-quota-too-low"
    severity = Severity.ERROR
    title = "The job's run time exceeds the account's training runtime quota"
    fix = "Request the runtime quota increase, or lower compute.max_run_hours."
    source_url = (
        "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html"
    )
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        yield from _quota_findings(self, plan, runtime=True)


def _quota_findings(rule: Rule, plan: Plan, *, runtime: bool) -> Iterator[Finding]:
    from ..aws.facts import QuotaFacts
    from ..aws.shortfalls import shortfalls

    facts = _facts(plan)
    compute = plan.spec.compute
    if facts is None or compute is None or not isinstance(facts.quotas, QuotaFacts):
        return
    for s in shortfalls(compute, facts.quotas):
        if (s.purpose == "longest_runtime") == runtime:
            yield rule.finding(s.field, s.message, fix=s.fix())


class CallerCannotLaunch(Rule):
    """
    What it does:
    Checks that whoever runs the launch may call `sagemaker:CreateTrainingJob` and
    `iam:PassRole` on `compute.role_arn` (IAM policy simulator, or local policy evaluation).

    Why is this bad?
    Without them the launch fails with AccessDenied after the image is built and the data
    uploaded; `iam:PassRole` in particular is easy to forget.

    Example:
    A user whose policy allows `sagemaker:*` but not `iam:PassRole`.

    Use instead:
    ```json
    {"Effect": "Allow", "Action": "iam:PassRole",
     "Resource": "arn:aws:iam::123456789012:role/SageMakerTraining",
     "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-pass-role
    """

    id = "PF603"
    name = "caller-cannot-launch"
    severity = Severity.ERROR
    title = "The caller may not create the training job or pass its role"
    fix = "Allow sagemaker:CreateTrainingJob and iam:PassRole on the role for the caller."
    source_url = ROLES_URL
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None or facts.caller is None:
            return
        yield from _permission_findings(self, facts.caller.checks, "the caller")


class ExecutionRoleUnusable(Rule):
    """
    What it does:
    Checks that `compute.role_arn` exists and that its trust policy lets
    `sagemaker.amazonaws.com` assume it.

    Why is this bad?
    CreateTrainingJob rejects a role SageMaker cannot assume ("could not assume role"), so the
    job never starts.

    Example:
    A role created for EC2 (`"Principal": {"Service": "ec2.amazonaws.com"}`).

    Use instead:
    ```json
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
     "Action": "sts:AssumeRole"}
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html
    """

    id = "PF604"
    name = "execution-role-unusable"
    severity = Severity.ERROR
    title = "The execution role does not exist or does not trust SageMaker"
    fix = "Create the role, or add sagemaker.amazonaws.com to its trust policy."
    source_url = ROLES_URL
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None or facts.role is None or facts.role.unchecked is not None:
            return
        role = facts.role
        if not role.exists:
            yield self.finding("compute.role_arn", f"role {role.arn} does not exist")
        elif role.trusts_sagemaker is False:
            named = ", ".join(role.trust_principals) or "no service"
            yield self.finding(
                "compute.role_arn",
                f"role {role.arn} does not trust sagemaker.amazonaws.com (it trusts {named})",
            )


class RoleMissingPermission(Rule):
    """
    What it does:
    Asks whether the execution role may read `data.train`, write and read back
    `compute.checkpoint_s3_uri`, write `compute.output_path`, write CloudWatch Logs and pull the
    training image, with the exact resource ARNs (simulator, or local policy evaluation).

    Why is this bad?
    A role that cannot write the checkpoint prefix loses every checkpoint silently or fails
    the upload at the end; one that cannot read the data fails after the instance is paid for.

    Example:
    A role whose S3 policy covers `arn:aws:s3:::my-bucket/data/*` but not the checkpoint prefix.

    Use instead:
    ```json
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": "arn:aws:s3:::my-bucket/igbo/checkpoints/*"}
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html
    """

    id = "PF605"
    name = "role-missing-permission"
    severity = Severity.ERROR
    title = "The execution role may not read the data, write checkpoints, log or pull the image"
    fix = "Add the missing actions on the named resources to the role's policy."
    source_url = ROLES_URL
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None or facts.role_permissions is None:
            return
        yield from _permission_findings(self, facts.role_permissions.checks, "the role")


def _permission_findings(rule: Rule, checks: list[PermissionCheck], who: str) -> Iterator[Finding]:
    by_question: dict[tuple[str, str, str], list[PermissionCheck]] = {}
    for c in checks:
        by_question.setdefault((c.purpose, c.field, c.resource), []).append(c)
    for (purpose, field, resource), group in by_question.items():
        denied = [c for c in group if not c.allowed]
        if denied:
            actions = ", ".join(c.action for c in denied)
            how = (
                "explicitly denied"
                if any(c.decision == "explicitDeny" for c in denied)
                else ("not allowed")
            )
            yield rule.finding(
                field,
                f"{who} {denied[0].principal} cannot {purpose}: {actions} on {resource} {how}",
                fix=f"Allow {actions} on {denied[0].grant or resource} for {denied[0].principal}.",
            )
            continue
        conditional = [c for c in group if c.conditional]
        if conditional:
            actions = ", ".join(c.action for c in conditional)
            yield rule.finding(
                field,
                f"{who} may {purpose} ({actions} on {resource}) only under a condition that "
                "could not be verified",
                severity=Severity.WARNING,
            )


class RoleTooBroad(Rule):
    """
    What it does:
    Flags Allow statements of the execution role's policies with `"Action": "*"` (or
    NotAction), S3 read/write on `"Resource": "*"`, or `iam:PassRole` on `"Resource": "*"`.

    Why is this bad?
    The training container runs third-party code (datasets, tokenizers, pip packages) with the
    role's credentials. A role that can read every bucket or pass any role turns a compromised
    dependency into an account compromise.

    Example:
    Attaching `AdministratorAccess` to the SageMaker execution role.

    Use instead:
    A policy scoped to the data, checkpoint and output prefixes, the log group and the image
    repository (the resources the PF605 questions name).

    References:
    - https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
    """

    id = "PF606"
    name = "role-too-broad"
    severity = Severity.WARNING
    title = "The execution role's policies grant far more than the job needs"
    fix = "Scope the role to the job's buckets/prefixes, log group and image repository."
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None or facts.role is None:
            return
        for b in facts.role.broad:
            yield self.finding(
                "compute.role_arn", f"security: policy {b.policy} of {facts.role.arn}: {b.what}"
            )


class BucketMissing(Rule):
    """
    What it does:
    Checks that every S3 bucket the spec names (data, checkpoints, output) exists.

    Why is this bad?
    A missing data bucket fails the job at download; a missing checkpoint bucket fails the
    checkpoint sync, so a long job runs with nothing saved outside the instance.

    Example:
    ```yaml
    compute:
      checkpoint_s3_uri: s3://my-bukcet/ckpt    # typo
    ```

    Use instead:
    Fix the bucket name, or create the bucket in the job's region first.

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints.html
    """

    id = "PF607"
    name = "bucket-missing"
    severity = Severity.ERROR
    title = "An S3 bucket the job reads or writes does not exist"
    fix = "Correct the bucket name or create the bucket in the job's region."
    source_url = CHECKPOINTS_URL
    requires = ("aws",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None:
            return
        for b in facts.buckets.values():
            if b.exists is False:
                yield self.finding(
                    _bucket_field(plan, b.name), f"bucket s3://{b.name} does not exist"
                )


class BucketInOtherRegion(Rule):
    """
    What it does:
    Checks that the data, checkpoint and output buckets are in `compute.region`.

    Why is this bad?
    SageMaker requires the checkpoint bucket (and its input and output locations) in the job's
    Region; a bucket elsewhere fails the job or the resume.

    Example:
    ```yaml
    compute:
      region: us-east-1
      checkpoint_s3_uri: s3://bucket-in-eu-west-1/ckpt
    ```

    Use instead:
    A bucket in the job's region, or the job in the bucket's region.

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints-resume.html
    """

    id = "PF608"
    name = "bucket-in-other-region"
    severity = Severity.ERROR
    title = "An S3 bucket of the job is in another region"
    fix = "Use a bucket in compute.region, or run the job in the bucket's region."
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints-resume.html"
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None:
            return
        for b in facts.buckets.values():
            if b.exists and b.region and b.region != facts.region:
                yield self.finding(
                    _bucket_field(plan, b.name),
                    f"bucket s3://{b.name} is in {b.region}, the job runs in {facts.region}",
                )


class TrainingDataEmpty(Rule):
    """
    What it does:
    Lists `data.train` and reports when no object is there.

    Why is this bad?
    SageMaker downloads an empty channel without complaint; the job then fails (or trains on
    nothing) after the instance is paid for.

    Example:
    ```yaml
    data:
      train: s3://my-bucket/igbo/train.jsnol    # typo: no such object
    ```

    Use instead:
    The exact key or prefix the data was uploaded to (`aws s3 ls` it).

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_S3DataSource.html
    """

    id = "PF609"
    name = "training-data-empty"
    severity = Severity.ERROR
    title = "The training data location holds no objects"
    fix = "Point data.train at the uploaded data."
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_S3DataSource.html"
    requires = ("aws",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None or facts.data_prefix is None:
            return
        prefix = facts.data_prefix
        if prefix.unchecked is None and prefix.object_count == 0:
            yield self.finding("data.train", f"no object under {prefix.uri}")


class CheckpointBucketUnprotected(Rule):
    """
    What it does:
    Warns when the checkpoint bucket has versioning off or no default encryption.

    Why is this bad?
    SageMaker mirrors deletions in the checkpoint folder to S3 (Trainer's rotation deletes old
    checkpoints), so without versioning a deleted or overwritten checkpoint is gone for good;
    checkpoints of a model trained on private data deserve encryption at rest.

    Example:
    A bucket created with default settings and versioning never enabled.

    Use instead:
    ```console
    aws s3api put-bucket-versioning --bucket my-bucket --versioning-configuration Status=Enabled
    ```

    References:
    - https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
    - shared/research/trainer-and-lint-facts.md (deletions propagate to S3)
    """

    id = "PF610"
    name = "checkpoint-bucket-unprotected"
    severity = Severity.WARNING
    title = "The checkpoint bucket has no versioning or no default encryption"
    fix = "Enable versioning (and default encryption) on the checkpoint bucket."
    source_url = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html"
    requires = ("aws",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        from ..aws.storage import parse_s3

        facts = _facts(plan)
        compute = plan.spec.compute
        uri = parse_s3(compute.checkpoint_s3_uri) if compute else None
        if facts is None or uri is None or uri.bucket not in facts.buckets:
            return
        b = facts.buckets[uri.bucket]
        if not b.exists:
            return
        if b.versioning is None and not any("versioning" in u.what for u in b.unchecked):
            yield self.finding(
                "compute.checkpoint_s3_uri",
                f"bucket s3://{b.name} has never had versioning enabled: a deleted checkpoint "
                "cannot be recovered",
                fix=(
                    f"aws s3api put-bucket-versioning --bucket {b.name} "
                    "--versioning-configuration Status=Enabled"
                ),
            )
        elif b.versioning == "Suspended":
            yield self.finding(
                "compute.checkpoint_s3_uri",
                f"bucket s3://{b.name} has versioning suspended",
                fix=(
                    f"aws s3api put-bucket-versioning --bucket {b.name} "
                    "--versioning-configuration Status=Enabled"
                ),
            )
        if b.encrypted is False:
            yield self.finding(
                "compute.checkpoint_s3_uri",
                f"bucket s3://{b.name} has no default encryption configured",
                fix=(
                    f"aws s3api put-bucket-encryption --bucket {b.name} "
                    "--server-side-encryption-configuration "
                    '\'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"}}]}\''
                ),
            )


class CheckpointPrefixInUse(Rule):
    """
    What it does:
    Reports a `compute.checkpoint_s3_uri` that already holds `checkpoint-N` folders, and the
    earlier training jobs that used the same prefix.

    Why is this bad?
    SageMaker copies everything under the prefix into `/opt/ml/checkpoints` at start. If this is
    a resume of the same run that is what you want (and `resume_from_checkpoint` must be set);
    if it is a different run, Trainer resumes from or overwrites another job's checkpoints.

    Example:
    Two experiments that both use `s3://bucket/ckpt/mistral`.

    Use instead:
    A prefix per run (e.g. ending in the job name), or an explicit resume.

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints-resume.html
    """

    id = "PF611"
    name = "checkpoint-prefix-in-use"
    severity = Severity.WARNING
    title = "The checkpoint prefix already holds checkpoints of another job"
    fix = "Use a fresh prefix for a new run, or state resume_from_checkpoint for a resume."
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-checkpoints-resume.html"
    requires = ("aws",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None or facts.checkpoint_prefix is None:
            return
        p = facts.checkpoint_prefix
        if not p.checkpoint_dirs and not p.other_jobs:
            return
        held = ""
        if p.checkpoint_dirs:
            held = (
                f"{len(p.checkpoint_dirs)} checkpoint(s) ({p.checkpoint_dirs[0]} .. "
                f"{p.checkpoint_dirs[-1]})"
            )
        jobs = f" written by {', '.join(p.other_jobs)}" if p.other_jobs else ""
        resuming = plan.training_stated("resume_from_checkpoint")
        what = (
            "this job will resume from them"
            if resuming
            else ("a new run here resumes from or overwrites them")
        )
        yield self.finding(
            "compute.checkpoint_s3_uri",
            f"{p.uri} already holds {held or 'objects'}{jobs}: {what}",
            severity=Severity.INFO if resuming else None,
        )


class TrainingImageMissing(Rule):
    """
    What it does:
    Checks that `compute.image_uri`, when it is in the caller's own ECR, exists with that tag.

    Why is this bad?
    SageMaker fails the job at the image pull ("CannotStartContainerError") after the
    instance has been provisioned.

    Example:
    ```yaml
    compute:
      image_uri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/train:v2   # only v1 pushed
    ```

    Use instead:
    Push the image first, or use the tag that exists.

    References:
    - https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html
    """

    id = "PF612"
    name = "training-image-missing"
    severity = Severity.ERROR
    title = "The training image does not exist in ECR"
    fix = "Push the image or correct compute.image_uri."
    source_url = "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html"
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None or facts.image is None:
            return
        if facts.image.exists is False:
            yield self.finding("compute.image_uri", f"image {facts.image.uri} not found in ECR")


def _subnet_field(plan: Plan, subnet_id: str) -> str:
    ids = (plan.spec.compute.subnets if plan.spec.compute else None) or []
    return f"compute.subnets.{ids.index(subnet_id)}" if subnet_id in ids else "compute.subnets"


def _group_field(plan: Plan, group_id: str) -> str:
    ids = (plan.spec.compute.security_group_ids if plan.spec.compute else None) or []
    if group_id in ids:
        return f"compute.security_group_ids.{ids.index(group_id)}"
    return "compute.security_group_ids"


class VpcResourceMismatch(Rule):
    """
    What it does:
    Looks up `compute.subnets` and `compute.security_group_ids` in `compute.region` (EC2
    DescribeSubnets / DescribeSecurityGroups) and reports an id that does not exist there, subnets
    spread over more than one VPC, and a security group of another VPC than the subnets.

    Why is this bad?
    CreateTrainingJob, or the job's start, fails on a subnet or security group it cannot find
    (ids are per region: one copied from another region does not exist here), and SageMaker
    requires the security groups to belong to the VPC of the subnets.

    Example:
    ```yaml
    compute:
      region: us-east-1
      subnets: [subnet-0a1b2c3d]          # created in eu-west-1
      security_group_ids: [sg-0123abcd]
    ```

    Use instead:
    Subnets and security groups of one VPC in the job's region (`aws ec2 describe-subnets
    --region us-east-1`).

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VpcConfig.html
    - https://docs.aws.amazon.com/sagemaker/latest/dg/train-vpc.html
    """

    id = "PF613"
    name = "vpc-resource-mismatch"
    severity = Severity.ERROR
    title = "A subnet or security group is missing, in another region, or in another VPC"
    fix = "Use subnets and security groups of one VPC in compute.region."
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VpcConfig.html"
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        facts = _facts(plan)
        if facts is None or facts.vpc is None:
            return
        vpc = facts.vpc
        for subnet in vpc.subnets:
            if subnet.exists is False:
                yield self.finding(
                    _subnet_field(plan, subnet.id),
                    f"subnet {subnet.id} does not exist in {facts.region} (missing, or created "
                    "in another region)",
                )
            elif subnet.availability_zone and not subnet.availability_zone.startswith(facts.region):
                yield self.finding(
                    _subnet_field(plan, subnet.id),
                    f"subnet {subnet.id} is in {subnet.availability_zone}, not in {facts.region}",
                )
        vpcs = vpc.vpc_ids
        if len(vpcs) > 1:
            spread = ", ".join(f"{s.id} in {s.vpc_id}" for s in vpc.subnets if s.vpc_id)
            yield self.finding(
                "compute.subnets",
                f"the subnets are in {len(vpcs)} VPCs ({spread}); a job's subnets must share one",
            )
        for group in vpc.security_groups:
            if group.exists is False:
                yield self.finding(
                    _group_field(plan, group.id),
                    f"security group {group.id} does not exist in {facts.region} (missing, or "
                    "created in another region)",
                )
            elif len(vpcs) == 1 and group.vpc_id and group.vpc_id != vpcs[0]:
                yield self.finding(
                    _group_field(plan, group.id),
                    f"security group {group.id} belongs to {group.vpc_id}, the subnets to "
                    f"{vpcs[0]}",
                )


class VpcCannotReachS3(Rule):
    """
    What it does:
    For every subnet of `compute.subnets`, reads its route table (its own association, else the
    VPC's main table) and the VPC's endpoints, and reports a subnet with neither an S3 gateway
    endpoint on that table nor a default route (0.0.0.0/0) to a NAT gateway. An internet gateway
    alone does not count: the network interfaces SageMaker creates for the job get no public IP.

    Why is this bad?
    A training job in a VPC reaches S3 only through its subnets. Without a route it hangs while
    downloading the training data, or trains and never syncs a checkpoint or uploads the model:
    the seed story's checklist item "check network connectivity (if using VPC)".

    Example:
    ```yaml
    compute:
      subnets: [subnet-0a1b2c3d]          # private subnet: local route only
      security_group_ids: [sg-0123abcd]
    ```

    Use instead:
    An S3 gateway endpoint on the subnet's route table (no NAT cost for S3 traffic):
    ```console
    aws ec2 create-vpc-endpoint --vpc-id vpc-0a1b --service-name com.amazonaws.us-east-1.s3 \\
        --route-table-ids rtb-0a1b
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/train-vpc.html
    - https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html
    """

    id = "PF614"
    name = "vpc-cannot-reach-s3"
    severity = Severity.ERROR
    title = "A subnet of the job has no route to S3"
    fix = "Add an S3 gateway endpoint to the subnet's route table (or a NAT gateway route)."
    source_url = VPC_URL
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        from ..aws.network import s3_service

        facts = _facts(plan)
        if facts is None or facts.vpc is None:
            return
        for subnet in facts.vpc.subnets:
            if subnet.s3_reachable is not False:
                continue
            igw = (
                f"; its default route goes to {subnet.s3_path}, but SageMaker's training "
                "network interfaces get no public IP, so that is no way out"
                if subnet.s3_path
                else ""
            )
            yield self.finding(
                _subnet_field(plan, subnet.id),
                f"subnet {subnet.id} (route table {subnet.route_table_id}) has no S3 gateway "
                f"endpoint and no 0.0.0.0/0 route to a NAT gateway{igw}: the job cannot "
                "download its data or sync checkpoints to S3",
                fix=(
                    f"aws ec2 create-vpc-endpoint --vpc-id {subnet.vpc_id} --service-name "
                    f"{s3_service(facts.region)} --route-table-ids {subnet.route_table_id} "
                    f"--region {facts.region}"
                ),
            )


class VpcEgressBlocksHttps(Rule):
    """
    What it does:
    Reads the egress rules of `compute.security_group_ids` and reports when none of the groups
    lets TCP 443 out to 0.0.0.0/0 or to the region's S3 prefix list (`com.amazonaws.REGION.s3`).

    Why is this bad?
    S3 is reached over HTTPS. Rules of all the job's groups add up, so one group that allows it
    is enough; when none does, the job's S3 traffic is dropped even with a perfect route, and
    it hangs on its data or checkpoints just like a subnet without a route.

    Example:
    ```yaml
    compute:
      subnets: [subnet-0a1b2c3d]
      security_group_ids: [sg-0123abcd]   # egress: tcp 5432 to the database only
    ```

    Use instead:
    ```console
    aws ec2 authorize-security-group-egress --group-id sg-0123abcd \\
        --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{PrefixListId=pl-63a5400a}]'
    ```
    (the S3 prefix list id of the region: `aws ec2 describe-prefix-lists`).

    References:
    - https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
    - https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html
    """

    id = "PF615"
    name = "vpc-egress-blocks-https"
    severity = Severity.ERROR
    title = "The job's security groups do not let HTTPS out to S3"
    fix = "Allow egress TCP 443 to the S3 prefix list (or 0.0.0.0/0) in one of the groups."
    source_url = "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"
    requires = ("aws", "sagemaker")

    def check(self, plan: Plan) -> Iterator[Finding]:
        from ..aws.network import s3_service

        facts = _facts(plan)
        if facts is None or facts.vpc is None or not facts.vpc.https_egress_checked:
            return
        found = [g for g in facts.vpc.security_groups if g.exists]
        if not found or any(g.https_egress for g in found):
            return
        ids = ", ".join(g.id for g in found)
        yield self.finding(
            "compute.security_group_ids",
            f"no egress rule of {ids} allows TCP 443 to 0.0.0.0/0 or to the "
            f"{s3_service(facts.region)} prefix list: the job's S3 traffic is dropped",
            fix=(
                f"aws ec2 authorize-security-group-egress --group-id {found[0].id} "
                "--ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,"
                "PrefixListIds=[{PrefixListId=<the S3 prefix list: aws ec2 describe-prefix-lists "
                f"--region {facts.region}>}}]' --region {facts.region}"
            ),
        )
