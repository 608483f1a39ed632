"""What the AWS audit found, as plain data: the audit gathers these once, the PF6xx rules judge them.

Every area is either a fact object or an ``Unchecked`` that says what could not be looked at and
why (no credentials, endpoint unreachable, AccessDenied, API not available). Rules turn an
``Unchecked`` into a warning: something that was not checked must never read as a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Unchecked:
    """An area of the audit that could not be gathered."""

    what: str
    """What was not checked, e.g. "the SageMaker quotas"."""
    why: str
    """One line: the reason, already free of secrets."""

    def sentence(self) -> str:
        return f"could not check {self.what}: {self.why}"


@dataclass(frozen=True)
class QuotaValue:
    """One Service Quotas entry, with where its value came from."""

    name: str
    code: str
    value: float
    source: Literal["applied", "default"]
    """"applied" = the account's value (ListServiceQuotas); "default" = AWS default fallback."""
    unit: str = "None"
    adjustable: bool = True


@dataclass(frozen=True)
class RunningJob:
    """A training job in progress, as DescribeTrainingJob tells it."""

    name: str
    instance_type: str
    instance_count: int
    spot: bool


@dataclass(frozen=True)
class OpenRequest:
    """A quota increase already asked for and not yet decided (PENDING or CASE_OPENED)."""

    id: str
    desired: float
    status: str


@dataclass
class QuotaFacts:
    """The quotas that bound this job, by purpose (see data/quotas.yaml), and current usage."""

    quotas: dict[str, QuotaValue | None] = field(default_factory=dict)
    """purpose -> value; None when the account has no quota of that name."""
    names: dict[str, str] = field(default_factory=dict)
    """purpose -> the quota name looked for (for messages when it was not found)."""
    running: list[RunningJob] | Unchecked = field(default_factory=list)
    open_requests: dict[str, list[OpenRequest]] = field(default_factory=dict)
    """quota code -> increases already requested and still open (looked up for shortfalls)."""
    notes: list[str] = field(default_factory=list)

    def usage(self, instance_type: str | None = None, spot: bool | None = None) -> int | None:
        """Instances in use by running jobs (of one type, spot or on-demand), None if unknown."""
        if isinstance(self.running, Unchecked):
            return None
        return sum(
            j.instance_count
            for j in self.running
            if (instance_type is None or j.instance_type == instance_type)
            and (spot is None or j.spot == spot)
        )


@dataclass(frozen=True)
class PermissionCheck:
    """One (principal, action, resource) question and its answer."""

    principal: str
    action: str
    resource: str
    purpose: str
    field: str
    decision: Literal["allowed", "explicitDeny", "implicitDeny"]
    conditional: bool = False
    """An Allow that rests on a Condition the evaluator could not resolve."""
    grant: str = ""
    """The resource pattern a fix should allow (e.g. the whole checkpoint prefix)."""

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


@dataclass
class PrincipalPermissions:
    """The permission questions asked about one principal (the caller or the execution role)."""

    principal: str
    method: Literal["simulator", "local"] | None = None
    why_local: str | None = None
    """Why the IAM policy simulator was not used, when ``method == "local"``."""
    checks: list[PermissionCheck] = field(default_factory=list)
    unchecked: Unchecked | None = None
    policies_read: int = 0


@dataclass(frozen=True)
class BroadStatement:
    """An Allow statement of the role that grants far more than a training job needs."""

    policy: str
    what: str


@dataclass
class RoleFacts:
    """The execution role: does it exist, trust SageMaker, and grant too much?"""

    arn: str
    exists: bool = True
    trusts_sagemaker: bool | None = None
    trust_principals: list[str] = field(default_factory=list)
    broad: list[BroadStatement] = field(default_factory=list)
    unchecked: Unchecked | None = None


@dataclass
class BucketFacts:
    """One S3 bucket the job reads or writes."""

    name: str
    exists: bool | None = None
    region: str | None = None
    versioning: str | None = None
    """"Enabled", "Suspended" or None (never enabled)."""
    encrypted: bool | None = None
    kms_key: str | None = None
    """The customer KMS key of the bucket's default encryption (SSE-KMS), if one is named."""
    unchecked: list[Unchecked] = field(default_factory=list)


@dataclass
class PrefixFacts:
    """What an S3 prefix holds: enough to say "empty" or "another job's checkpoints"."""

    uri: str
    bucket: str
    key: str
    object_count: int | None = None
    """Objects seen (stops counting after a page)."""
    sample_key: str | None = None
    """One object key under the prefix (used as the exact resource when asking IAM)."""
    checkpoint_dirs: list[str] = field(default_factory=list)
    """``checkpoint-N`` folders found under the prefix."""
    other_jobs: list[str] = field(default_factory=list)
    """Earlier SageMaker training jobs whose CheckpointConfig.S3Uri is this prefix."""
    unchecked: Unchecked | None = None


@dataclass
class LogFacts:
    group: str
    exists: bool | None = None
    unchecked: Unchecked | None = None


@dataclass
class ImageFacts:
    uri: str | None
    """compute.image_uri, or None for the default HuggingFace container."""
    repository_arn: str
    in_caller_account: bool = False
    exists: bool | None = None
    unchecked: Unchecked | None = None


@dataclass
class SubnetFacts:
    """One subnet of ``compute.subnets``, looked up in ``compute.region``."""

    id: str
    exists: bool | None = None
    vpc_id: str | None = None
    availability_zone: str | None = None
    route_table_id: str | None = None
    """The route table the subnet uses: its own association, else the VPC's main table."""
    s3_path: str | None = None
    """How the subnet reaches S3 ("S3 gateway endpoint vpce-..", "NAT gateway nat-.."), if it does."""
    s3_reachable: bool | None = None
    """True / False when the routes were read and judged; None when they could not be."""


@dataclass
class SecurityGroupFacts:
    """One security group of ``compute.security_group_ids``."""

    id: str
    exists: bool | None = None
    vpc_id: str | None = None
    https_egress: str | None = None
    """The egress rule that lets the job reach S3 on port 443 (e.g. "0.0.0.0/0"), if any."""


@dataclass
class VpcFacts:
    """The job's VPC: subnets, security groups, their routes to S3 and HTTPS egress."""

    subnets: list[SubnetFacts] = field(default_factory=list)
    security_groups: list[SecurityGroupFacts] = field(default_factory=list)
    https_egress_checked: bool = False
    """True when every found group's egress rules could be judged (prefix lists resolved)."""
    unchecked: list[tuple[str, Unchecked]] = field(default_factory=list)
    """(spec key, what could not be checked) pairs."""

    @property
    def vpc_ids(self) -> list[str]:
        return sorted({s.vpc_id for s in self.subnets if s.vpc_id})


@dataclass
class AwsFacts:
    """Everything the audit gathered for one spec (``plan.aws``)."""

    region: str
    account: str | None = None
    caller_arn: str | None = None
    unavailable: Unchecked | None = None
    """Set when the audit could not run at all (boto3 missing, no credentials, unreachable)."""
    quotas: QuotaFacts | Unchecked | None = None
    caller: PrincipalPermissions | None = None
    role: RoleFacts | None = None
    role_permissions: PrincipalPermissions | None = None
    buckets: dict[str, BucketFacts] = field(default_factory=dict)
    data_prefix: PrefixFacts | None = None
    checkpoint_prefix: PrefixFacts | None = None
    logs: LogFacts | None = None
    image: ImageFacts | None = None
    vpc: VpcFacts | None = None
    """Set when the spec states compute.subnets and compute.security_group_ids."""
    notes: list[str] = field(default_factory=list)
