"""trainjob launch against moto in server mode: the gate, the request, and the job it creates."""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from sm_specs import SEED_BROKEN, SEED_FIXED, variant

import preflight
from trainjob.cli_launch import launch
from trainjob.sagemaker.request import LaunchError, LaunchOptions, plan_launch

BUCKET = "igbo-training"  # the bucket of the examples' checkpoint_s3_uri


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(launch, list(args), catch_exceptions=False)


def _jobs() -> list[dict[str, Any]]:
    return boto3.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]


def _tags(arn: str) -> dict[str, str]:
    tags = boto3.client("sagemaker").list_tags(ResourceArn=arn)["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def test_spot_spec_request_carries_spot_wait_and_checkpoints(spot_spec: Path) -> None:
    loaded = preflight.load_spec(spot_spec)
    plan = plan_launch(loaded, digest="d" * 16, cost=None, options=LaunchOptions())
    request = plan.to_request()
    assert request["EnableManagedSpotTraining"] is True
    stop = request["StoppingCondition"]
    assert stop["MaxRuntimeInSeconds"] == 240 * 3600
    assert stop["MaxWaitTimeInSeconds"] == 300 * 3600
    assert stop["MaxWaitTimeInSeconds"] >= stop["MaxRuntimeInSeconds"]
    assert request["CheckpointConfig"] == {
        "S3Uri": "s3://igbo-training/checkpoints/igbo-mistral7b",
        "LocalPath": "/opt/ml/checkpoints",
    }
    assert request["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    assert request["ResourceConfig"]["VolumeSizeInGB"] == 100
    assert {"Key": "trainjob:plan-digest", "Value": "d" * 16} in request["Tags"]
    assert request["Environment"]["TRAINJOB_CHECKPOINT_DIR"] == "/opt/ml/checkpoints"


def test_spot_without_max_wait_gets_a_wait_at_least_the_runtime(tmp_path: Path) -> None:
    spec = variant(tmp_path, "s.yaml", {"  spot: false\n": "  spot: true\n"})
    plan = plan_launch(preflight.load_spec(spec), digest="x", options=LaunchOptions())
    stop = plan.to_request()["StoppingCondition"]
    assert stop["MaxWaitTimeInSeconds"] >= stop["MaxRuntimeInSeconds"] == 240 * 3600


def test_on_demand_request_has_no_max_wait() -> None:
    plan = plan_launch(preflight.load_spec(SEED_FIXED), digest="x", options=LaunchOptions())
    request = plan.to_request()
    assert request["EnableManagedSpotTraining"] is False
    assert "MaxWaitTimeInSeconds" not in request["StoppingCondition"]


def test_missing_checkpoint_uri_is_refused_with_file_line_and_key(tmp_path: Path) -> None:
    spec = variant(
        tmp_path,
        "nock.yaml",
        {"  checkpoint_s3_uri: s3://igbo-training/checkpoints/igbo-mistral7b\n": ""},
    )
    with pytest.raises(LaunchError) as err:
        plan_launch(preflight.load_spec(spec), digest="x", options=LaunchOptions())
    assert f"{spec}:" in str(err.value)
    assert "compute.checkpoint_s3_uri" in str(err.value)


def test_multi_gpu_fsdp_launches_torchrun_with_sharding(tmp_path: Path) -> None:
    spec = variant(
        tmp_path,
        "multi.yaml",
        {
            "  instance_type: ml.g5.xlarge\n": "  instance_type: ml.g5.12xlarge\n  distributed: fsdp\n",
        },
    )
    plan = plan_launch(preflight.load_spec(spec), digest="x", options=LaunchOptions())
    request = plan.to_request()
    assert plan.gpus_per_instance == 4  # costmodel catalog: ml.g5.12xlarge has 4 A10G
    assert request["HyperParameters"]["sagemaker_torch_distributed_enabled"] == "true"
    assert request["Environment"]["ACCELERATE_USE_FSDP"] == "true"
    assert request["Environment"]["TRAINJOB_DISTRIBUTED"] == "fsdp"


def test_refused_launch_of_broken_seed_creates_no_job(aws: str) -> None:
    assert preflight.check(SEED_BROKEN).errors > 0
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    result = _invoke(str(SEED_BROKEN), "--no-aws", "--via", "boto3")
    assert result.exit_code == 1
    assert "refused" in result.output
    assert "PF101" in result.output
    assert _jobs() == []
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    # the catalog grows in parallel: the refusal must still rest on real errors
    assert preflight.check(SEED_BROKEN).errors > 0


def test_dry_run_prints_the_request_and_creates_nothing(aws: str, spot_spec: Path) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    result = _invoke(str(spot_spec), "--dry-run", "--no-aws")
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)
    assert request["EnableManagedSpotTraining"] is True
    assert request["StoppingCondition"]["MaxWaitTimeInSeconds"] == 300 * 3600
    digest = preflight.check(spot_spec).digest()
    assert {"Key": "trainjob:plan-digest", "Value": digest} in request["Tags"]
    assert _jobs() == []
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def _check_created_job(
    spec: Path, *, spot: bool, wait_hours: float | None, instance: str = "ml.g5.xlarge"
) -> dict[str, Any]:
    jobs = _jobs()
    assert len(jobs) == 1
    sm = boto3.client("sagemaker")
    job = sm.describe_training_job(TrainingJobName=jobs[0]["TrainingJobName"])
    assert job["EnableManagedSpotTraining"] is spot
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 240 * 3600
    if wait_hours is None:
        assert "MaxWaitTimeInSeconds" not in job["StoppingCondition"]
    else:
        assert job["StoppingCondition"]["MaxWaitTimeInSeconds"] == int(wait_hours * 3600)
    assert job["CheckpointConfig"] == {
        "S3Uri": "s3://igbo-training/checkpoints/igbo-mistral7b",
        "LocalPath": "/opt/ml/checkpoints",
    }
    assert job["ResourceConfig"]["InstanceType"] == instance
    assert job["ResourceConfig"]["InstanceCount"] == 1
    assert "huggingface-pytorch-training" in job["AlgorithmSpecification"]["TrainingImage"]
    tags = _tags(job["TrainingJobArn"])
    assert tags["trainjob:plan-digest"] == preflight.check(spec).digest()
    assert tags["trainjob:preflight"] == "passed"
    return job


def test_launch_of_fixed_seed_creates_one_job_boto3(aws: str) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    result = _invoke(str(SEED_FIXED), "--no-aws", "--via", "boto3", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["via"] == "boto3"
    _check_created_job(SEED_FIXED, spot=False, wait_hours=None)
    # the code went up as sourcedir.tar.gz with the spec (output_dir forced) and the entry point
    key = out["code_uri"].split("/", 3)[3]
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = set(tar.getnames())
        spec_text = tar.extractfile("job.yaml").read().decode()  # type: ignore[union-attr]
    assert {"job.yaml", "trainjob_entry.py", "requirements.txt", "trainjob/run.py"} <= names
    assert "preflight/__init__.py" in names and "costmodel/__init__.py" in names
    assert "output_dir: /opt/ml/checkpoints" in spec_text


def test_launch_of_spot_variant_creates_one_job_boto3(aws: str, spot_spec: Path) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    result = _invoke(str(spot_spec), "--no-aws", "--via", "boto3")
    assert result.exit_code == 0, result.output
    _check_created_job(spot_spec, spot=True, wait_hours=300)


def test_forced_launch_records_the_reason_and_still_syncs_checkpoints(
    aws: str, tmp_path: Path
) -> None:
    spec = variant(
        tmp_path,
        "forced.yaml",
        {"  output_dir: /opt/ml/checkpoints\n": "  output_dir: /opt/ml/output/data\n"},
    )
    assert preflight.check(spec).errors > 0
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    result = _invoke(
        str(spec), "--no-aws", "--force", "--reason", "known: rehearsal", "--via", "boto3"
    )
    assert result.exit_code == 0, result.output
    jobs = _jobs()
    assert len(jobs) == 1
    arn = boto3.client("sagemaker").describe_training_job(
        TrainingJobName=jobs[0]["TrainingJobName"]
    )["TrainingJobArn"]
    tags = _tags(arn)
    assert tags["trainjob:preflight"] == "forced"
    assert tags["trainjob:force-reason"] == "known: rehearsal"


def test_force_needs_a_reason_and_a_checkpoint_uri(aws: str) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    assert _invoke(str(SEED_BROKEN), "--no-aws", "--force").exit_code == 2
    spec = SEED_BROKEN
    # the broken seed lacks checkpoint_s3_uri: even forced, a launch without it is refused
    result = _invoke(str(spec), "--no-aws", "--force", "--reason", "testing", "--via", "boto3")
    assert result.exit_code == 2
    assert "compute.checkpoint_s3_uri" in result.output
    assert _jobs() == []


def _multi_gpu_spot(tmp_path: Path) -> Path:
    return variant(
        tmp_path,
        "multi-ddp-spot.yaml",
        {
            "  instance_type: ml.g5.xlarge\n": "  instance_type: ml.g5.12xlarge\n  distributed: ddp\n",
            "  spot: false\n": "  spot: true\n",
            "  max_run_hours: 240\n": "  max_run_hours: 240\n  max_wait_hours: 300\n",
            "  max_cost_usd: 500\n": "  max_cost_usd: 5000\n",
        },
    )


def test_multi_gpu_spot_launch_through_the_sdk_uses_torchrun(aws: str, tmp_path: Path) -> None:
    pytest.importorskip("sagemaker.train")
    from sagemaker.train.distributed import Torchrun

    from trainjob.sagemaker.source import stage_source
    from trainjob.sagemaker.submit import build_model_trainer

    spec = _multi_gpu_spot(tmp_path)
    assert preflight.check(spec).errors == 0
    plan = plan_launch(preflight.load_spec(spec), digest="x", options=LaunchOptions())
    source = stage_source(spec, plan.checkpoint_local_path, tmp_path / "src")
    trainer = build_model_trainer(plan, source, boto3.Session(region_name="us-east-1"))
    assert isinstance(trainer.distributed, Torchrun)
    assert trainer.distributed.process_count_per_node == 4
    assert trainer.compute.instance_type == "ml.g5.12xlarge"

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    result = _invoke(str(spec), "--no-aws", "--via", "sdk", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["via"] == "sdk"
    _check_created_job(spec, spot=True, wait_hours=300, instance="ml.g5.12xlarge")


def test_launch_with_credentials_runs_the_aws_audit_as_part_of_the_gate(aws: str) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    audited = preflight.check(SEED_FIXED, aws=True)
    result = _invoke(str(SEED_FIXED), "--via", "boto3")  # credentials exist: --aws by default
    if audited.errors:
        assert result.exit_code == 1
        assert _jobs() == []
        assert any(f.rule in result.output for f in audited.active() if f.severity == "error")
    else:
        assert result.exit_code == 0, result.output
        assert len(_jobs()) == 1


def test_importing_the_launch_side_loads_no_aws_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, trainjob.cli_launch, trainjob.sagemaker.request, trainjob.sagemaker.watch, "
        "trainjob.sagemaker.alarms, trainjob.sagemaker.checkpoint_audit, trainjob.sagemaker.submit;"
        "print(sorted(m for m in ('boto3', 'botocore', 'sagemaker', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_bad_job_name_is_refused_before_anything_is_created(aws: str) -> None:
    result = _invoke(str(SEED_FIXED), "--no-aws", "--job-name", "bad_name!", "--via", "boto3")
    assert result.exit_code == 2
    assert "--job-name" in result.output
    assert _jobs() == []


def test_vpc_spec_puts_vpc_config_in_the_request_and_the_created_job(
    aws: str, tmp_path: Path
) -> None:
    spec = variant(
        tmp_path,
        "vpc.yaml",
        {
            "  max_run_hours: 240\n": "  max_run_hours: 240\n"
            "  subnets: [subnet-0a1b2c3d, subnet-0e1f2a3b]\n"
            "  security_group_ids: [sg-0123abcd]\n"
        },
    )
    vpc = {"Subnets": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"], "SecurityGroupIds": ["sg-0123abcd"]}
    plan = plan_launch(preflight.load_spec(spec), digest="x", options=LaunchOptions())
    assert plan.to_request()["VpcConfig"] == vpc
    no_vpc = plan_launch(preflight.load_spec(SEED_FIXED), digest="x", options=LaunchOptions())
    assert "VpcConfig" not in no_vpc.to_request()

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    result = _invoke(str(spec), "--no-aws", "--via", "boto3")
    assert result.exit_code == 0, result.output
    job = _check_created_job(spec, spot=False, wait_hours=None)
    assert job["VpcConfig"] == vpc

    if importlib.util.find_spec("sagemaker") is None:
        return
    from trainjob.sagemaker.source import stage_source
    from trainjob.sagemaker.submit import build_model_trainer

    source = stage_source(spec, plan.checkpoint_local_path, tmp_path / "src")
    trainer = build_model_trainer(plan, source, boto3.Session(region_name="us-east-1"))
    assert trainer.networking._to_vpc_config().subnets == vpc["Subnets"]
    assert trainer.networking._to_vpc_config().security_group_ids == vpc["SecurityGroupIds"]

    # the SDK path creates its job with the same VpcConfig
    result = _invoke(str(spec), "--no-aws", "--via", "sdk")
    assert result.exit_code == 0, result.output
    sm = boto3.client("sagemaker")
    jobs = [sm.describe_training_job(TrainingJobName=j["TrainingJobName"]) for j in _jobs()]
    assert len(jobs) == 2
    assert all(j["VpcConfig"] == vpc for j in jobs)
