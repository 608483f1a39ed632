"""trainjob watch and alarms over a job launched into moto and a checkpoint prefix that grows.

moto completes a training job the moment it is created, so to watch a *running* job the tests
take moto's real DescribeTrainingJob answer and set the fields a running job would have
(status InProgress / Training, a start time hours ago, no end time). Everything else is real:
the job, its tags, the S3 prefix the test adds checkpoints to (and deletes one from) between
polls, and the prices from the costmodel catalog.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from sm_checkpoints import put_checkpoint

import costmodel
from trainjob.cli_launch import alarms, launch, watch
from trainjob.sagemaker.watch import Expectations, History, Watcher, evaluate, loss_stalled

BUCKET = "igbo-training"
PREFIX = "checkpoints/igbo-mistral7b"


def _launch(spec: Path) -> str:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    result = CliRunner().invoke(
        launch, [str(spec), "--no-aws", "--via", "boto3", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["job_name"])


def _running(started_ago: timedelta, secondary: str = "Training") -> Any:
    sm = boto3.client("sagemaker")

    def describe(name: str) -> dict[str, Any]:
        job = sm.describe_training_job(TrainingJobName=name)
        job["TrainingJobStatus"] = "InProgress"
        job["SecondaryStatus"] = secondary
        job["TrainingStartTime"] = datetime.now(UTC) - started_ago
        job.pop("TrainingEndTime", None)
        job.pop("FinalMetricDataList", None)
        job["SecondaryStatusTransitions"] = [
            {"Status": s, "StartTime": job["CreationTime"]} for s in ("Starting", "Downloading")
        ] + [{"Status": secondary, "StartTime": job["CreationTime"]}]
        return job

    return describe


def _tags(job_name: str) -> dict[str, str]:
    sm = boto3.client("sagemaker")
    arn = sm.describe_training_job(TrainingJobName=job_name)["TrainingJobArn"]
    return {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}


def _ids(report: Any) -> set[str]:
    return {f.id for f in report.findings}


def test_watch_follows_checkpoints_as_they_arrive_and_vanish(aws: str, spot_spec: Path) -> None:
    name = _launch(spot_spec)
    interval = float(_tags(name)["trainjob:expected-checkpoint-seconds"])
    # started long enough ago that the first checkpoint is overdue
    started_ago = timedelta(seconds=2 * interval)
    watcher = Watcher(
        name,
        session=boto3.Session(region_name="us-east-1"),
        region="us-east-1",
        describe=_running(started_ago),
    )
    s3 = boto3.client("s3")

    first = watcher.poll()
    assert first.status == "InProgress" and first.spot
    assert "no-checkpoint" in _ids(first)
    assert first.checkpoints is not None and first.checkpoints.present == []
    spot_rate = costmodel.load_catalog().instance("ml.g5.xlarge").spot_usd_per_hour("us-east-1")
    assert first.cost_usd == pytest.approx(2 * interval / 3600 * spot_rate, rel=0.01)
    assert first.eta_seconds is not None and first.projected_cost_usd is not None

    put_checkpoint(s3, BUCKET, PREFIX, 5000)
    second = watcher.poll()
    assert "no-checkpoint" not in _ids(second)
    assert second.latest_step == 5000
    assert second.since_last_checkpoint_s is not None and second.since_last_checkpoint_s < 120

    put_checkpoint(s3, BUCKET, PREFIX, 10000)
    third = watcher.poll()
    assert [c.name for c in third.checkpoints.present] == ["checkpoint-5000", "checkpoint-10000"]  # type: ignore[union-attr]
    assert third.findings == []

    # something deletes a synced checkpoint (the seed's save_total_limit rotation does this)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/checkpoint-5000/")
    for obj in listed["Contents"]:
        s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
    fourth = watcher.poll()
    assert "checkpoint-disappeared" in _ids(fourth)
    assert any("checkpoint-5000" in f.message for f in fourth.findings)


def test_watch_warns_near_max_run_and_on_interruption(aws: str, spot_spec: Path) -> None:
    name = _launch(spot_spec)
    put_checkpoint(boto3.client("s3"), BUCKET, PREFIX, 5000)
    session = boto3.Session(region_name="us-east-1")
    near = Watcher(
        name, session=session, region="us-east-1", describe=_running(timedelta(hours=230))
    )
    report = near.poll()
    assert "near-max-run" in _ids(report)  # 230 h of a 240 h limit
    interrupted = Watcher(
        name,
        session=session,
        region="us-east-1",
        describe=_running(timedelta(hours=1), "Interrupted"),
    )
    report = interrupted.poll()
    assert "status-interrupted" in _ids(report)


def test_watch_without_once_stops_when_the_job_has_ended(aws: str, spot_spec: Path) -> None:
    name = _launch(spot_spec)
    result = CliRunner().invoke(
        watch, [name, "--spec", str(spot_spec), "--interval", "1", "--region", "us-east-1"]
    )
    # moto's job is Completed with no checkpoint in S3: one screen, the warning, exit 0
    assert result.exit_code == 0, result.output
    assert "Completed" in result.stdout
    assert "[no-checkpoint-at-end]" in result.stdout


def test_watch_once_json_on_the_emulated_job(aws: str, spot_spec: Path) -> None:
    name = _launch(spot_spec)
    put_checkpoint(boto3.client("s3"), BUCKET, PREFIX, 5000)
    result = CliRunner().invoke(
        watch, [name, "--once", "--format", "json", "--region", "us-east-1"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["job"] == name
    assert data["status"] == "Completed"  # moto's jobs complete at once
    assert data["instance"] == {"type": "ml.g5.xlarge", "count": 1, "spot": True}
    assert data["max_runtime_seconds"] == 240 * 3600
    assert data["checkpoints"]["present"] == 1
    assert data["checkpoint_uri"] == f"s3://{BUCKET}/{PREFIX}"


def test_alarms_are_created_once_and_updated_in_place(aws: str, spot_spec: Path) -> None:
    name = _launch(spot_spec)
    interval = float(_tags(name)["trainjob:expected-checkpoint-seconds"])
    for _ in range(2):
        result = CliRunner().invoke(alarms, [str(spot_spec), name, "--format", "json"])
        assert result.exit_code == 0, result.output
    cw = boto3.client("cloudwatch")
    found = {
        a["AlarmName"]: a
        for a in cw.describe_alarms(AlarmNamePrefix=f"trainjob-{name}")["MetricAlarms"]
    }
    assert set(found) == {
        f"trainjob-{name}-loss-not-falling",
        f"trainjob-{name}-near-max-run",
        f"trainjob-{name}-no-checkpoint",
    }
    deleted = CliRunner().invoke(alarms, [str(spot_spec), name, "--delete"])
    assert deleted.exit_code == 0, deleted.output
    assert cw.describe_alarms(AlarmNamePrefix=f"trainjob-{name}")["MetricAlarms"] == []
    no_ckpt = found[f"trainjob-{name}-no-checkpoint"]
    assert no_ckpt["Period"] == math.ceil(1.5 * interval / 60) * 60
    assert no_ckpt["TreatMissingData"] == "breaching"
    assert no_ckpt["Dimensions"] == [{"Name": "Host", "Value": f"{name}/algo-1"}]
    near = found[f"trainjob-{name}-near-max-run"]
    assert near["Threshold"] == pytest.approx(0.9 * 240 * 3600)
    loss = found[f"trainjob-{name}-loss-not-falling"]
    assert any(m.get("Expression") == "DIFF(loss)" for m in loss["Metrics"])


def _job(**fields: Any) -> dict[str, Any]:
    """A DescribeTrainingJob answer with the fields evaluate() reads."""
    now = datetime.now(UTC)
    job: dict[str, Any] = {
        "TrainingJobName": "j",
        "TrainingJobStatus": "InProgress",
        "SecondaryStatus": "Training",
        "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 2},
        "StoppingCondition": {"MaxRuntimeInSeconds": 36000},
        "TrainingStartTime": now - timedelta(hours=1),
        "EnableManagedSpotTraining": False,
    }
    job.update(fields)
    return job


def test_billable_seconds_are_charged_at_the_on_demand_rate() -> None:
    now = datetime.now(UTC)
    job = _job(
        TrainingJobStatus="Completed",
        SecondaryStatus="Completed",
        EnableManagedSpotTraining=True,
        TrainingTimeInSeconds=7200,
        BillableTimeInSeconds=1800,
    )
    report = evaluate(job, None, now, Expectations(), History(), region="us-east-1")
    rate = costmodel.load_catalog().instance("ml.g5.xlarge").on_demand_usd_per_hour("us-east-1")
    assert report.cost_usd == pytest.approx(0.5 * rate * 2)
    assert report.eta_seconds == 0.0
    assert report.findings == []


def test_max_wait_exceeded_and_failure_are_errors() -> None:
    now = datetime.now(UTC)
    job = _job(
        TrainingJobStatus="Stopped",
        SecondaryStatus="MaxWaitTimeExceeded",
        SecondaryStatusTransitions=[{"Status": "Training"}, {"Status": "MaxWaitTimeExceeded"}],
    )
    report = evaluate(job, None, now, Expectations(), History(), region="us-east-1")
    assert {f.id: f.severity for f in report.findings}["status-maxwaittimeexceeded"] == "error"


def test_eta_beyond_max_run_from_the_pace_of_checkpoints(aws: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="pace-bucket")
    put_checkpoint(s3, "pace-bucket", "ck", 1000)
    from trainjob.sagemaker.checkpoint_audit import audit_s3

    audit = audit_s3(s3, "s3://pace-bucket/ck")
    # 1000 steps in 1 h: 10000 steps need 10 h in all, and the limit is 10 h minus a second
    job = _job(StoppingCondition={"MaxRuntimeInSeconds": 35999})
    report = evaluate(
        job,
        audit,
        datetime.now(UTC),
        Expectations(total_steps=10000),
        History(),
        region="us-east-1",
    )
    assert report.eta_seconds == pytest.approx(9 * 3600, rel=0.01)
    assert "eta-beyond-max-run" in _ids(report)


def test_loss_stalled_needs_two_hours_without_a_new_low() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    falling = [(t0 + timedelta(minutes=30 * i), 2.0 - 0.1 * i) for i in range(8)]
    assert loss_stalled(falling, 7200) is None
    flat = [
        (t0 + timedelta(minutes=30 * i), v)
        for i, v in enumerate([2.0, 1.5, 1.2, 1.3, 1.25, 1.3, 1.4, 1.2])
    ]
    assert loss_stalled(flat, 7200) is not None
    short = flat[:3]
    assert loss_stalled(short, 7200) is None
