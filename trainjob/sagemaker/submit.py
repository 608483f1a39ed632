"""Create the training job: through the sagemaker SDK v3 (``ModelTrainer``) or plain boto3.

Both paths send the settings of one ``LaunchPlan`` (image, instances, spot and max wait, runtime
limit, checkpoint config, output, environment, tags, metric definitions, data channels, VPC
config: ``VpcConfig`` for boto3, ``Networking`` for the SDK). They
differ only in how code reaches the container:

- boto3: ``sourcedir.tar.gz`` is uploaded to ``plan.code_uri`` and named by the training
  toolkit's ``sagemaker_submit_directory`` / ``sagemaker_program`` hyperparameters; multi-GPU
  runs use the toolkit's torchrun launcher. The request is exactly ``plan.to_request()``, which
  is what ``--dry-run`` prints.
- SDK: ``ModelTrainer(source_code=SourceCode(...), distributed=Torchrun(...))`` uploads the
  staged dir as its ``code`` channel with its own driver scripts and names the job
  ``<base>-<timestamp>`` itself.

The SDK is an optional extra; ``auto`` uses it when it is importable and boto3 otherwise.
Against an emulator (``AWS_ENDPOINT_URL`` set) the SDK's client-side role validation
(``iam:SimulatePrincipalPolicy``) is switched off with its own ``SAGEMAKER_VALIDATE_ROLE=false``,
because moto answers that call with an HTTP 500; on real AWS the SDK validates as usual.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .request import ENTRY_SCRIPT, LaunchPlan
from .s3uri import S3Uri
from .source import tarball

VIA_CHOICES = ("auto", "sdk", "boto3")


@dataclass
class Submitted:
    """The job that was created."""

    job_name: str
    job_arn: str | None
    via: str
    code_uri: str | None


def sdk_available() -> bool:
    """True when ``sagemaker.train.ModelTrainer`` can be imported (the ``sagemaker`` extra)."""
    try:
        import sagemaker.train  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_via(via: str) -> str:
    if via == "auto":
        return "sdk" if sdk_available() else "boto3"
    return via


def boto3_session(region: str) -> Any:
    import boto3

    return boto3.Session(region_name=region)


def submit_boto3(plan: LaunchPlan, source_dir: Path, session: Any) -> Submitted:
    """Upload ``sourcedir.tar.gz`` to ``plan.code_uri`` and call CreateTrainingJob."""
    code = S3Uri.parse(plan.code_uri)
    s3 = session.client("s3", region_name=plan.region)
    s3.put_object(Bucket=code.bucket, Key=code.key, Body=tarball(source_dir))
    sm = session.client("sagemaker", region_name=plan.region)
    response = sm.create_training_job(**plan.to_request())
    return Submitted(
        job_name=plan.job_name,
        job_arn=response.get("TrainingJobArn"),
        via="boto3",
        code_uri=plan.code_uri,
    )


@contextlib.contextmanager
def _emulator_role_validation_off() -> Iterator[None]:
    if not os.environ.get("AWS_ENDPOINT_URL"):
        yield
        return
    before = os.environ.get("SAGEMAKER_VALIDATE_ROLE")
    os.environ["SAGEMAKER_VALIDATE_ROLE"] = "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SAGEMAKER_VALIDATE_ROLE", None)
        else:
            os.environ["SAGEMAKER_VALIDATE_ROLE"] = before


def build_model_trainer(plan: LaunchPlan, source_dir: Path, session: Any) -> Any:
    """A ``ModelTrainer`` carrying the plan's settings (nothing is created until ``train``)."""
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.shapes import MetricDefinition
    from sagemaker.core.training.configs import (
        CheckpointConfig,
        Compute,
        InputData,
        Networking,
        OutputDataConfig,
        SourceCode,
        StoppingCondition,
    )
    from sagemaker.train import ModelTrainer
    from sagemaker.train.distributed import Torchrun

    code = S3Uri.parse(plan.code_uri)
    sm_session = Session(
        boto_session=session,
        default_bucket=code.bucket,
        default_bucket_prefix=code.key.rsplit("/source/", 1)[0] or None,
    )
    stopping: dict[str, int] = {"max_runtime_in_seconds": plan.max_runtime_s}
    if plan.spot and plan.max_wait_s is not None:
        stopping["max_wait_time_in_seconds"] = plan.max_wait_s
    distributed = (
        Torchrun(process_count_per_node=max(plan.gpus_per_instance, 1))
        if plan.processes > 1
        else None
    )
    base = plan.job_name.rsplit("-", 2)[0] if plan.job_name.count("-") >= 2 else plan.job_name
    with _emulator_role_validation_off():
        trainer = ModelTrainer(
            sagemaker_session=sm_session,
            role=plan.role_arn,
            base_job_name=base,
            training_image=plan.image_uri,
            source_code=SourceCode(
                source_dir=str(source_dir),
                entry_script=ENTRY_SCRIPT,
                requirements="requirements.txt",
            ),
            distributed=distributed,
            compute=Compute(
                instance_type=plan.instance_type,
                instance_count=plan.instance_count,
                volume_size_in_gb=plan.volume_size_gb,
                enable_managed_spot_training=plan.spot,
            ),
            stopping_condition=StoppingCondition(**stopping),
            checkpoint_config=CheckpointConfig(
                s3_uri=plan.checkpoint_s3_uri, local_path=plan.checkpoint_local_path
            ),
            output_data_config=OutputDataConfig(s3_output_path=plan.output_path),
            input_data_config=[
                InputData(channel_name=name, data_source=uri) for name, uri in plan.channels.items()
            ]
            or None,
            environment=dict(plan.environment),
            tags=[{"key": k, "value": v} for k, v in plan.tags.items()],
            networking=Networking(
                subnets=list(plan.subnets), security_group_ids=list(plan.security_group_ids)
            )
            if plan.subnets and plan.security_group_ids
            else None,
        )
    trainer.with_metric_definitions(
        [MetricDefinition(name=m["Name"], regex=m["Regex"]) for m in plan.metric_definitions]
    )
    return trainer


def submit_sdk(plan: LaunchPlan, source_dir: Path, session: Any) -> Submitted:
    """Create the job with ``ModelTrainer.train(wait=False)``."""
    trainer = build_model_trainer(plan, source_dir, session)
    with _emulator_role_validation_off():
        trainer.train(wait=False, logs=False)
    job = trainer._latest_training_job
    name = str(getattr(job, "training_job_name", None) or plan.job_name)
    arn = getattr(job, "training_job_arn", None)
    return Submitted(job_name=name, job_arn=str(arn) if arn else None, via="sdk", code_uri=None)


def submit(
    plan: LaunchPlan, source_dir: Path, *, via: str = "auto", session: Any = None
) -> Submitted:
    """Create the job by the chosen path; ``session`` is a boto3 Session (made if None)."""
    session = session or boto3_session(plan.region)
    chosen = resolve_via(via)
    if chosen == "sdk":
        return submit_sdk(plan, source_dir, session)
    return submit_boto3(plan, source_dir, session)
