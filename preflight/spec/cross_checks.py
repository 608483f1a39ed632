"""Cross-field checks that make a spec unusable: combinations SageMaker's API itself rejects.

Each check returns ``(dotted key, message)`` pairs so that all of them are reported together,
each at its own line. Combinations that work but lose work (no checkpoint sync, rotation) are PF
rules instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .models import JobSpec

MAX_RUNTIME_HOURS = 28 * 24  # CreateTrainingJob StoppingCondition.MaxRuntimeInSeconds <= 28 days

Problem = tuple[str, str]


def _spot_wait(spec: JobSpec) -> list[Problem]:
    c = spec.compute
    if c is None:
        return []
    out: list[Problem] = []
    if c.spot and c.max_wait_hours is not None and c.max_wait_hours < c.max_run_hours:
        out.append(
            (
                "compute.max_wait_hours",
                f"max_wait_hours ({c.max_wait_hours:g}) must be >= max_run_hours "
                f"({c.max_run_hours:g}): SageMaker rejects MaxWaitTimeInSeconds < MaxRuntimeInSeconds",
            )
        )
    if not c.spot and c.max_wait_hours is not None:
        out.append(
            (
                "compute.max_wait_hours",
                "max_wait_hours is only valid with spot: true (SageMaker rejects it otherwise)",
            )
        )
    return out


def _runtime_cap(spec: JobSpec) -> list[Problem]:
    c = spec.compute
    if c is None or c.provider != "sagemaker":
        return []
    out: list[Problem] = []
    for key, hours in (("max_run_hours", c.max_run_hours), ("max_wait_hours", c.max_wait_hours)):
        if hours is not None and hours > MAX_RUNTIME_HOURS:
            out.append(
                (
                    f"compute.{key}",
                    f"{key} is {hours:g} h but SageMaker allows at most {MAX_RUNTIME_HOURS} h "
                    "(28 days) for one training job",
                )
            )
    return out


def _sagemaker_needs(spec: JobSpec) -> list[Problem]:
    c = spec.compute
    if c is None or c.provider != "sagemaker":
        return []
    out: list[Problem] = []
    if not c.instance_type:
        out.append(("compute.instance_type", "required when provider is sagemaker"))
    elif not c.instance_type.startswith("ml."):
        # CreateTrainingJob's ResourceConfig.InstanceType names every type with the ml. prefix
        # (ml.g5.xlarge); the EC2 name is rejected by the API, after the launch was prepared.
        out.append(
            (
                "compute.instance_type",
                f"SageMaker instance types start with ml.: use ml.{c.instance_type}",
            )
        )
    if c.checkpoint_s3_uri is not None and not c.checkpoint_s3_uri.startswith("s3://"):
        out.append(("compute.checkpoint_s3_uri", "must be an s3:// URI"))
    if c.output_path is not None and not c.output_path.startswith("s3://"):
        out.append(("compute.output_path", "must be an s3:// URI"))
    if c.role_arn is not None and not c.role_arn.startswith("arn:aws"):
        out.append(("compute.role_arn", "must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"))
    return out


def _distributed(spec: JobSpec) -> list[Problem]:
    c = spec.compute
    if c is None:
        return []
    if c.instance_count > 1 and c.distributed == "none":
        return [
            (
                "compute.distributed",
                f"instance_count is {c.instance_count} but distributed is none: "
                "choose ddp, fsdp or zero1/2/3",
            )
        ]
    return []


def _lora_vs_dtype(spec: JobSpec) -> list[Problem]:
    if spec.model and spec.model.dtype in ("int8", "nf4") and spec.lora is None:
        return [
            (
                "model.dtype",
                f"{spec.model.dtype} weights cannot be trained directly: add a lora section "
                "(QLoRA) or use float16/bfloat16",
            )
        ]
    return []


_VPC_ID_PREFIX = {"subnets": "subnet-", "security_group_ids": "sg-"}
_VPC_MAX = {"subnets": 16, "security_group_ids": 5}  # CreateTrainingJob VpcConfig limits


def _vpc(spec: JobSpec) -> list[Problem]:
    c = spec.compute
    if c is None:
        return []
    out: list[Problem] = []
    given = {"subnets": c.subnets, "security_group_ids": c.security_group_ids}
    for key, other in (("subnets", "security_group_ids"), ("security_group_ids", "subnets")):
        if given[key] is not None and given[other] is None:
            out.append(
                (
                    f"compute.{key}",
                    f"{key} needs {other} too: SageMaker's VpcConfig takes both or neither",
                )
            )
    for key, ids in given.items():
        if ids is None:
            continue
        if not ids or len(ids) > _VPC_MAX[key]:
            out.append(
                (f"compute.{key}", f"must list 1 to {_VPC_MAX[key]} ids (SageMaker's VpcConfig)")
            )
        prefix = _VPC_ID_PREFIX[key]
        for i, value in enumerate(ids):
            if not re.fullmatch(rf"{prefix}[0-9a-f]{{1,32}}", value):
                out.append((f"compute.{key}.{i}", f"{value!r} does not look like {prefix}..."))
    return out


CHECKS: list[Callable[[JobSpec], list[Problem]]] = [
    _spot_wait,
    _runtime_cap,
    _sagemaker_needs,
    _distributed,
    _lora_vs_dtype,
    _vpc,
]


def cross_field_problems(spec: JobSpec) -> list[Problem]:
    """Every cross-field problem of the spec."""
    return [p for check in CHECKS for p in check(spec)]
