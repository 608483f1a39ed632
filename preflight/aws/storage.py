"""S3, CloudWatch Logs and ECR facts: read-only looks at what the job will read and write.

Nothing is written: whether the role may write the checkpoint prefix is a permission question
(``iam``), not a test upload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .facts import BucketFacts, ImageFacts, LogFacts, PrefixFacts, Unchecked
from .session import Clients, describe_error, error_code, is_global

CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$"
)
RECENT_JOBS = 20
"""How many recent training jobs are looked at for one already using the checkpoint prefix."""


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    @property
    def prefix(self) -> str:
        """The key as a folder prefix ("" for the bucket root)."""
        key = self.key.strip("/")
        return key + "/" if key else ""


def parse_s3(uri: str | None) -> S3Uri | None:
    if not uri or not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[5:].partition("/")
    return S3Uri(bucket, key) if bucket else None


def _reraise_global(exc: BaseException) -> None:
    if is_global(exc):
        raise exc


def gather_bucket(clients: Clients, name: str) -> BucketFacts:
    s3 = clients.get("s3")
    facts = BucketFacts(name)
    try:
        s3.head_bucket(Bucket=name)
        facts.exists = True
    except Exception as exc:
        _reraise_global(exc)
        code = error_code(exc)
        if code in ("404", "NoSuchBucket", "NotFound"):
            facts.exists = False
            return facts
        if code == "403":
            facts.unchecked.append(
                Unchecked(f"bucket s3://{name}", "access denied (403) by HeadBucket")
            )
        else:
            facts.unchecked.append(Unchecked(f"bucket s3://{name}", describe_error(exc)))
    try:
        location = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
        # GetBucketLocation: null means us-east-1, "EU" is the legacy name of eu-west-1.
        facts.region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(
            location, location
        )
        if facts.exists is None:
            facts.exists = True
    except Exception as exc:
        _reraise_global(exc)
        if error_code(exc) == "NoSuchBucket":
            facts.exists = False
            return facts
        facts.unchecked.append(Unchecked(f"the region of s3://{name}", describe_error(exc)))
    try:
        facts.versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
    except Exception as exc:
        _reraise_global(exc)
        facts.unchecked.append(Unchecked(f"versioning of s3://{name}", describe_error(exc)))
    try:
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
        facts.encrypted = bool(rules.get("Rules"))
        for rule in rules.get("Rules", []):
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            if str(default.get("SSEAlgorithm", "")).startswith("aws:kms"):
                facts.kms_key = default.get("KMSMasterKeyID") or None
    except Exception as exc:
        _reraise_global(exc)
        if error_code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
            facts.encrypted = False
        else:
            facts.unchecked.append(Unchecked(f"encryption of s3://{name}", describe_error(exc)))
    return facts


def gather_prefix(clients: Clients, uri: str, *, checkpoints: bool) -> PrefixFacts:
    """What a prefix holds (one page of it): object count and ``checkpoint-N`` folders."""
    parsed = parse_s3(uri)
    assert parsed is not None
    facts = PrefixFacts(uri=uri, bucket=parsed.bucket, key=parsed.key)
    s3 = clients.get("s3")
    try:
        if checkpoints:
            page = s3.list_objects_v2(
                Bucket=parsed.bucket, Prefix=parsed.prefix, Delimiter="/", MaxKeys=1000
            )
            dirs = [
                p["Prefix"][len(parsed.prefix) :].strip("/") for p in page.get("CommonPrefixes", [])
            ]
            facts.checkpoint_dirs = sorted(
                (d for d in dirs if CHECKPOINT_DIR.match(d)),
                key=lambda d: int(d.split("-")[1]),
            )
            facts.object_count = int(page.get("KeyCount", 0))
        else:
            # A data URI may name one object (train.jsonl) or a prefix; both list the same way.
            page = s3.list_objects_v2(Bucket=parsed.bucket, Prefix=parsed.key, MaxKeys=10)
            facts.object_count = int(page.get("KeyCount", len(page.get("Contents", []))))
            contents = page.get("Contents", [])
            if contents:
                facts.sample_key = str(contents[0]["Key"])
    except Exception as exc:
        _reraise_global(exc)
        facts.unchecked = Unchecked(f"the contents of {uri}", describe_error(exc))
    return facts


def jobs_using_prefix(clients: Clients, uri: str, exclude: str | None) -> list[str]:
    """Recent SageMaker training jobs whose CheckpointConfig.S3Uri is this prefix."""
    sm = clients.get("sagemaker")
    wanted = uri.rstrip("/")
    summaries = sm.list_training_jobs(
        SortBy="CreationTime", SortOrder="Descending", MaxResults=RECENT_JOBS
    ).get("TrainingJobSummaries", [])
    found: list[str] = []
    for summary in summaries:
        name = summary["TrainingJobName"]
        if name == exclude:
            continue
        desc = sm.describe_training_job(TrainingJobName=name)
        s3uri = (desc.get("CheckpointConfig") or {}).get("S3Uri", "")
        if s3uri.rstrip("/") == wanted:
            status = desc.get("TrainingJobStatus", "?")
            found.append(f"{name} ({status})")
    return found


def gather_logs(clients: Clients, group: str) -> LogFacts:
    facts = LogFacts(group)
    try:
        page = clients.get("logs").describe_log_groups(logGroupNamePrefix=group)
        facts.exists = any(g.get("logGroupName") == group for g in page.get("logGroups", []))
    except Exception as exc:
        _reraise_global(exc)
        facts.unchecked = Unchecked(f"the CloudWatch log group {group}", describe_error(exc))
    return facts


def image_facts(
    clients: Clients, image_uri: str | None, region: str, account: str | None, dlc: dict[str, str]
) -> ImageFacts:
    """Which ECR repository the job pulls from and, when it is the caller's own, whether it exists.

    Without ``compute.image_uri`` the job uses a HuggingFace deep learning container from AWS's
    own account; that repository cannot be listed from the caller's account.
    """
    if not image_uri:
        arn = f"arn:aws:ecr:{region}:{dlc['account']}:repository/{dlc['repository']}"
        return ImageFacts(uri=None, repository_arn=arn)
    m = ECR_IMAGE.match(image_uri)
    if not m:
        return ImageFacts(
            uri=image_uri,
            repository_arn="*",
            unchecked=Unchecked(
                f"the training image {image_uri}",
                "it is not an ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG)",
            ),
        )
    arn = f"arn:aws:ecr:{m['region']}:{m['account']}:repository/{m['repo']}"
    facts = ImageFacts(uri=image_uri, repository_arn=arn)
    facts.in_caller_account = account is not None and m["account"] == account
    if not facts.in_caller_account:
        return facts
    image_id = {"imageDigest": m["digest"]} if m["digest"] else {"imageTag": m["tag"] or "latest"}
    try:
        clients.get("ecr", m["region"]).describe_images(
            repositoryName=m["repo"], imageIds=[image_id]
        )
        facts.exists = True
    except Exception as exc:
        _reraise_global(exc)
        if error_code(exc) in ("RepositoryNotFoundException", "ImageNotFoundException"):
            facts.exists = False
        else:
            facts.unchecked = Unchecked(f"the training image {image_uri}", describe_error(exc))
    return facts


def bucket_uris(spec: Any) -> dict[str, str]:
    """spec field -> s3 URI, for every S3 location the job reads or writes."""
    out: dict[str, str] = {}
    if spec.data is not None:
        for key in ("train", "eval"):
            value = getattr(spec.data, key)
            if parse_s3(value):
                out[f"data.{key}"] = value
    if spec.compute is not None:
        for key in ("checkpoint_s3_uri", "output_path"):
            value = getattr(spec.compute, key)
            if parse_s3(value):
                out[f"compute.{key}"] = value
    return out


def kms_key_arn(key: str, region: str, account: str | None) -> str | None:
    """A KMS key ARN for IAM questions; None for an alias (IAM authorises the key, not its alias).

    KMSMasterKeyID may be a key ARN, a key id, or an alias (name or ARN).
    """
    if key.startswith("arn:"):
        return None if ":alias/" in key else key
    if key.startswith("alias/"):
        return None
    return f"arn:aws:kms:{region}:{account or '*'}:key/{key}"
