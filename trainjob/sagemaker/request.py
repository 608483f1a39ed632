"""The CreateTrainingJob request a spec implies, computed as plain data before anything is created.

Every value that decides whether a long job can lose its work comes from the plan, not from a
hand-typed estimator call: spot and ``MaxWaitTimeInSeconds >= MaxRuntimeInSeconds``, the
checkpoint dir SageMaker syncs to S3 during the job (``CheckpointConfig``; ``training.output_dir``
is forced to its ``LocalPath``), the runtime limit from ``compute.max_run_hours``, and tags that
name the preflight verdict the job was launched under (``Report.digest()``), so a job in the
console shows which plan it ran. ``compute.subnets`` / ``compute.security_group_ids`` become
``VpcConfig`` (both paths; the SDK's ``Networking``).

The request is in boto3's ``create_training_job`` shape. Code reaches the container the way the
SageMaker training toolkit inside the HuggingFace DLC expects it: ``sourcedir.tar.gz`` in S3 named
by the ``sagemaker_submit_directory`` hyperparameter, run as ``sagemaker_program`` (the SDK v2
``Framework`` convention, which the DLC's toolkit still reads). The SDK v3 path (``submit``) sends
the same settings through ``ModelTrainer`` and lets it ship the code its own way.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .images import UnknownRegionError, default_image_uri
from .s3uri import S3Uri, is_s3

ENTRY_SCRIPT = "trainjob_entry.py"
SPEC_IN_SOURCE = "job.yaml"
DEFAULT_CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
#: Without ``compute.max_wait_hours`` a spot job may wait as long again as it may run: the seed's
#: spot attempt was reclaimed after 41 h and found no capacity for 2 h more.
DEFAULT_SPOT_WAIT_FACTOR = 2.0
#: SageMaker tag values allow letters, digits, spaces and ``_.:/=+-@``, at most 256 characters
#: (CreateTrainingJob API reference, Tag.Value).
_TAG_VALUE_BAD = re.compile(r"[^\w .:/=+\-@]")
TAG_PREFIX = "trainjob:"
#: CreateTrainingJob TrainingJobName pattern (API reference).
JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")

#: CloudWatch metric definitions (SageMaker publishes them under /aws/sagemaker/TrainingJobs with
#: dimension Host=<job>/algo-1) for the ``trainjob run`` log line ``step 120/15000 loss 1.2345
#: tok/s ...`` (trainjob/progress.py), the Trainer's own ``{'loss': ...}`` dicts, the checkpoint
#: callback's ``[CHECK] CHECKPOINT SAVED: .../checkpoint-N`` (trainjob/callbacks.py) and the
#: entry point's heartbeat. ``trainjob alarms`` builds its alarms on these names.
METRIC_LOSS = "train:loss"
METRIC_CHECKPOINT = "train:checkpoint_step"
METRIC_ELAPSED = "trainjob:elapsed_seconds"
METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": METRIC_LOSS, "Regex": r"step [0-9]+/[0-9]+ loss ([0-9.]+)"},
    {"Name": "train:step", "Regex": r"step ([0-9]+)/[0-9]+ loss"},
    {"Name": "train:hf_loss", "Regex": r"'loss': '?([0-9.]+)"},
    {"Name": "eval:loss", "Regex": r"'eval_loss': '?([0-9.]+)"},
    {"Name": METRIC_CHECKPOINT, "Regex": r"CHECKPOINT SAVED: \S*checkpoint-([0-9]+)"},
    {"Name": METRIC_ELAPSED, "Regex": r"trainjob heartbeat elapsed_s=([0-9]+)"},
]


class LaunchError(Exception):
    """The spec cannot be turned into a training job; the message names file, line and key."""


@dataclass
class LaunchOptions:
    """What the command line may add to or override in the spec."""

    job_name: str | None = None
    image_uri: str | None = None
    role_arn: str | None = None
    code_uri: str | None = None
    output_path: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    force_reason: str | None = None
    now: datetime | None = None


@dataclass
class LaunchPlan:
    """Everything the request holds, named; ``to_request()`` is the exact API payload."""

    job_name: str
    region: str
    image_uri: str
    role_arn: str
    instance_type: str
    instance_count: int
    gpus_per_instance: int
    volume_size_gb: int
    spot: bool
    max_runtime_s: int
    max_wait_s: int | None
    checkpoint_s3_uri: str
    checkpoint_local_path: str
    output_path: str
    code_uri: str
    distributed: str
    channels: dict[str, str]
    environment: dict[str, str]
    tags: dict[str, str]
    hyperparameters: dict[str, str]
    metric_definitions: list[dict[str, str]]
    notes: list[str] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)

    @property
    def processes(self) -> int:
        return self.instance_count * max(self.gpus_per_instance, 1)

    def to_request(self) -> dict[str, Any]:
        """The CreateTrainingJob request, in boto3's shape."""
        stopping: dict[str, int] = {"MaxRuntimeInSeconds": self.max_runtime_s}
        if self.spot and self.max_wait_s is not None:
            stopping["MaxWaitTimeInSeconds"] = self.max_wait_s
        request: dict[str, Any] = {
            "TrainingJobName": self.job_name,
            "AlgorithmSpecification": {
                "TrainingImage": self.image_uri,
                "TrainingInputMode": "File",
                "MetricDefinitions": self.metric_definitions,
                "EnableSageMakerMetricsTimeSeries": True,
            },
            "RoleArn": self.role_arn,
            "HyperParameters": self.hyperparameters,
            "OutputDataConfig": {"S3OutputPath": self.output_path},
            "ResourceConfig": {
                "InstanceType": self.instance_type,
                "InstanceCount": self.instance_count,
                "VolumeSizeInGB": self.volume_size_gb,
            },
            "StoppingCondition": stopping,
            "EnableManagedSpotTraining": self.spot,
            "CheckpointConfig": {
                "S3Uri": self.checkpoint_s3_uri,
                "LocalPath": self.checkpoint_local_path,
            },
            "Environment": self.environment,
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
        }
        if self.subnets and self.security_group_ids:
            request["VpcConfig"] = {
                "Subnets": list(self.subnets),
                "SecurityGroupIds": list(self.security_group_ids),
            }
        if self.channels:
            request["InputDataConfig"] = [
                {
                    "ChannelName": name,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                    "InputMode": "File",
                }
                for name, uri in self.channels.items()
            ]
        return request


def tag_value(text: str) -> str:
    """A string made safe for a SageMaker tag value (bad characters become ``_``, 256 max)."""
    return _TAG_VALUE_BAD.sub("_", text.replace("\n", " ")).strip()[:256]


def job_name_for(base: str, now: datetime) -> str:
    """``<base>-YYYYmmdd-HHMMSS``: at most 63 characters of ``[a-zA-Z0-9-]``, as SageMaker asks."""
    clean = re.sub(r"[^a-zA-Z0-9-]+", "-", base).strip("-") or "trainjob"
    stamp = now.strftime("%Y%m%d-%H%M%S")
    return f"{clean[: 63 - len(stamp) - 1].rstrip('-')}-{stamp}"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plan_launch(
    loaded: Any,
    *,
    digest: str,
    cost: dict[str, Any] | None = None,
    options: LaunchOptions | None = None,
    gpus_per_instance: int | None = None,
) -> LaunchPlan:
    """Turn a loaded spec and its preflight verdict into a LaunchPlan; raises LaunchError.

    ``cost`` is the report's cost summary (``seconds_per_step`` and ``hours`` set the tags that
    ``trainjob watch`` reads for its checkpoint and ETA alarms); ``gpus_per_instance`` comes
    from the costmodel catalog when not given.
    """
    options = options or LaunchOptions()
    spec = loaded.spec
    compute = spec.compute
    problems: list[str] = []

    def where(key: str) -> str:
        line = loaded.line_of(key) if hasattr(loaded, "line_of") else None
        return f"{loaded.path}:{line}" if line else str(loaded.path)

    if compute is None:
        raise LaunchError(
            f"{where('compute')}: compute: a SageMaker launch needs a compute section"
        )
    if compute.provider != "sagemaker":
        problems.append(
            f"{where('compute.provider')}: compute.provider: is {compute.provider!r}; "
            "`trainjob launch` starts SageMaker jobs (use `trainjob run` for local)"
        )
    if not compute.instance_type:
        problems.append(f"{where('compute')}: compute.instance_type: required for a launch")
    role = options.role_arn or compute.role_arn
    if not role:
        problems.append(f"{where('compute')}: compute.role_arn: required (or pass --role)")
    ckpt = compute.checkpoint_s3_uri
    if not ckpt or not is_s3(ckpt):
        problems.append(
            f"{where('compute.checkpoint_s3_uri')}: compute.checkpoint_s3_uri: an s3:// URI is "
            "required: it is the only place checkpoints survive a timeout or a spot reclaim"
        )
    max_wait_s: int | None = None
    max_runtime_s = int(math.ceil(compute.max_run_hours * 3600))
    if compute.spot:
        if compute.max_wait_hours is not None:
            max_wait_s = int(math.ceil(compute.max_wait_hours * 3600))
        else:
            max_wait_s = int(math.ceil(max_runtime_s * DEFAULT_SPOT_WAIT_FACTOR))
        if max_wait_s < max_runtime_s:
            problems.append(
                f"{where('compute.max_wait_hours')}: compute.max_wait_hours: "
                f"{compute.max_wait_hours} is below max_run_hours {compute.max_run_hours}; "
                "SageMaker requires MaxWaitTimeInSeconds >= MaxRuntimeInSeconds"
            )
    image = options.image_uri or compute.image_uri
    if not image:
        try:
            image = default_image_uri(compute.region)
        except UnknownRegionError as exc:
            problems.append(f"{where('compute.region')}: compute.region: {exc}")
    if options.job_name and not JOB_NAME_RE.match(options.job_name):
        problems.append(
            f"--job-name {options.job_name!r}: SageMaker job names are 1-63 letters, digits and "
            "hyphens, starting and ending with a letter or digit"
        )
    if problems:
        raise LaunchError("\n".join(problems))
    assert ckpt is not None and role is not None and image is not None
    assert compute.instance_type is not None

    now = options.now or datetime.now(UTC)
    base = spec.name or Path(loaded.path).stem
    job_name = options.job_name or job_name_for(base, now)
    ckpt_uri = S3Uri.parse(ckpt)
    output_path = options.output_path or compute.output_path
    if not output_path:
        output_path = str(S3Uri(ckpt_uri.bucket, "trainjob-output"))
    code_uri = options.code_uri or str(
        S3Uri.parse(output_path).join(job_name, "source", "sourcedir.tar.gz")
    )

    gpus = gpus_per_instance if gpus_per_instance is not None else _gpus(compute.instance_type)
    notes: list[str] = []
    distributed = compute.distributed
    processes = compute.instance_count * max(gpus, 1)
    if processes > 1 and distributed == "none":
        distributed = "ddp"
        notes.append(
            f"{processes} GPUs and compute.distributed: none; launching DDP through torchrun so "
            "that none sits idle (state compute.distributed to choose fsdp or zero1-3)"
        )
    if processes == 1 and distributed != "none":
        notes.append(f"compute.distributed: {distributed} on one GPU runs as a single process")
        distributed = "none"

    channels: dict[str, str] = {}
    if spec.data is not None:
        for name in ("train", "eval"):
            value = getattr(spec.data, name, None)
            if is_s3(value):
                channels[name] = str(value)

    local_path = compute.checkpoint_local_path or DEFAULT_CHECKPOINT_LOCAL_PATH
    environment = {
        "TRAINJOB_SPEC": SPEC_IN_SOURCE,
        "TRAINJOB_PLAN_DIGEST": digest,
        "TRAINJOB_CHECKPOINT_DIR": local_path,
        "TRAINJOB_DISTRIBUTED": distributed,
        **distributed_environment(distributed),
    }
    if options.force_reason:
        environment["TRAINJOB_FORCE_REASON"] = options.force_reason[:1024]
    environment.update(options.environment)

    hyperparameters = {
        # JSON-encoded strings, as the training toolkit decodes them (SDK v2 Framework).
        "sagemaker_program": json.dumps(ENTRY_SCRIPT),
        "sagemaker_submit_directory": json.dumps(code_uri),
        "sagemaker_region": json.dumps(compute.region),
    }
    if processes > 1:
        # The PyTorch training toolkit's torchrun launcher (SDK v2 distribution={"torch_distributed":
        # {"enabled": True}} sets this hyperparameter).
        hyperparameters["sagemaker_torch_distributed_enabled"] = "true"

    tags = {
        f"{TAG_PREFIX}plan-digest": digest,
        f"{TAG_PREFIX}spec": tag_value(base),
        f"{TAG_PREFIX}spec-sha256": file_sha256(Path(loaded.path))[:16],
        f"{TAG_PREFIX}preflight": "forced" if options.force_reason else "passed",
        f"{TAG_PREFIX}max-run-seconds": str(max_runtime_s),
    }
    if options.force_reason:
        tags[f"{TAG_PREFIX}force-reason"] = tag_value(options.force_reason) or "none given"
    interval = expected_checkpoint_seconds(spec, cost)
    if interval is not None:
        tags[f"{TAG_PREFIX}expected-checkpoint-seconds"] = str(int(interval))
    if cost and isinstance(cost.get("hours"), int | float):
        tags[f"{TAG_PREFIX}expected-train-seconds"] = str(int(cost["hours"] * 3600))
    if cost and isinstance(cost.get("total_steps"), int | float):
        tags[f"{TAG_PREFIX}total-steps"] = str(int(cost["total_steps"]))

    return LaunchPlan(
        job_name=job_name,
        region=compute.region,
        image_uri=image,
        role_arn=role,
        instance_type=compute.instance_type,
        instance_count=compute.instance_count,
        gpus_per_instance=gpus,
        volume_size_gb=compute.volume_size_gb,
        spot=compute.spot,
        max_runtime_s=max_runtime_s,
        max_wait_s=max_wait_s,
        checkpoint_s3_uri=ckpt,
        checkpoint_local_path=local_path,
        output_path=output_path,
        code_uri=code_uri,
        distributed=distributed,
        channels=channels,
        environment=environment,
        tags=tags,
        hyperparameters=hyperparameters,
        metric_definitions=[dict(m) for m in METRIC_DEFINITIONS],
        notes=notes,
        subnets=list(compute.subnets or []),
        security_group_ids=list(compute.security_group_ids or []),
    )


def distributed_environment(mode: str) -> dict[str, str]:
    """Environment that makes accelerate (inside Trainer) shard as ``compute.distributed`` asks.

    These are the variables ``accelerate launch`` hands its workers (accelerate's
    ``utils/launch.py``: ACCELERATE_USE_FSDP, FSDP_SHARDING_STRATEGY, ACCELERATE_USE_DEEPSPEED,
    ACCELERATE_DEEPSPEED_ZERO_STAGE); under torchrun the Trainer's Accelerator reads them the same
    way. DDP needs none: torchrun's RANK/WORLD_SIZE are enough.
    """
    if mode == "fsdp":
        return {
            "ACCELERATE_USE_FSDP": "true",
            "FSDP_SHARDING_STRATEGY": "FULL_SHARD",
            "FSDP_AUTO_WRAP_POLICY": "TRANSFORMER_BASED_WRAP",
            "FSDP_STATE_DICT_TYPE": "SHARDED_STATE_DICT",
        }
    if mode in ("zero1", "zero2", "zero3"):
        return {"ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_ZERO_STAGE": mode[-1]}
    return {}


def expected_checkpoint_seconds(spec: Any, cost: dict[str, Any] | None) -> float | None:
    """Seconds between two checkpoints the plan expects: save_steps x seconds per step."""
    if not cost:
        return None
    per_step = cost.get("seconds_per_step")
    if not isinstance(per_step, int | float) or per_step <= 0:
        return None
    training = spec.training
    if training.get("save_strategy") not in ("steps", None):
        return None
    save_steps = training.get("save_steps")
    if not isinstance(save_steps, int | float) or save_steps <= 0:
        return None
    if save_steps < 1:  # a ratio of the total steps (TrainingArguments accepts 0 < x < 1)
        total = cost.get("total_steps")
        if not isinstance(total, int | float):
            return None
        save_steps = max(1.0, save_steps * total)
    return float(save_steps) * float(per_step)


def _gpus(instance_type: str) -> int:
    """GPUs per instance from the costmodel catalog (1 when the catalog does not know it)."""
    try:
        import costmodel

        return int(costmodel.load_catalog().instance(instance_type).gpu_count) or 1
    except (ValueError, ImportError, AttributeError):
        return 1
