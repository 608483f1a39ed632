"""Eyes on a running job: DescribeTrainingJob plus the checkpoint prefix in S3, turned into numbers
and the seed's alarms as findings.

The seed watched its 7-day job through CloudWatch alone and learned at the end that only
``checkpoint-1000`` survived. Each poll here reads the job (status, secondary status transitions,
training and billable seconds, metrics) and lists the checkpoints in S3, and a ``Watcher`` keeps
what earlier polls saw, so it can say what one look cannot: a checkpoint that was in S3 and is now
gone (rotation deleting synced copies), a status that moved to Interrupted, a loss that stopped
falling. Computing (``evaluate``) is apart from polling (``Watcher.poll``) and from printing
(``watch_render``).

Cost: SageMaker bills ``BillableTimeInSeconds`` at the on-demand rate (managed spot's saving shows
as billable time below training time; AWS docs "Managed Spot Training in Amazon SageMaker").
While that field is absent (running jobs, emulators), the estimate is training time at the
catalog's spot or on-demand rate, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .checkpoint_audit import Audit, audit_s3
from .request import TAG_PREFIX

#: Alarm thresholds, from the seed's monitoring section ("No new checkpoints in expected
#: timeframe", "Training loss not decreasing for >2 hours") and the runtime limit it nearly hit.
CHECKPOINT_GRACE = 1.5  # a checkpoint is overdue at 1.5x the planned interval
NEAR_MAX_RUN = 0.9  # warn at 90% of MaxRuntimeInSeconds
LOSS_WINDOW_S = 2 * 3600
TERMINAL = {"Completed", "Failed", "Stopped"}
BAD_SECONDARY = {
    "Interrupted": "spot capacity was reclaimed; SageMaker restarts the job from the last "
    "checkpoint synced to S3 when capacity returns",
    "MaxWaitTimeExceeded": "the spot job waited longer than MaxWaitTimeInSeconds and was stopped",
    "MaxRuntimeExceeded": "the job hit MaxRuntimeInSeconds and was stopped: only what was synced "
    "to the checkpoint prefix survives",
    "Failed": "the job failed",
    "Stopped": "the job was stopped",
}


@dataclass
class WatchFinding:
    """One alarm: a stable id, a severity (error|warning|info) and one line."""

    id: str
    severity: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "severity": self.severity, "message": self.message}


@dataclass
class Expectations:
    """What the plan said, from the job's trainjob tags (or a spec): the yardsticks of alarms."""

    checkpoint_interval_s: float | None = None
    train_seconds: float | None = None
    total_steps: int | None = None
    plan_digest: str | None = None

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> Expectations:
        def num(key: str) -> float | None:
            try:
                return float(tags[TAG_PREFIX + key])
            except (KeyError, ValueError):
                return None

        steps = num("total-steps")
        return cls(
            checkpoint_interval_s=num("expected-checkpoint-seconds"),
            train_seconds=num("expected-train-seconds"),
            total_steps=int(steps) if steps else None,
            plan_digest=tags.get(TAG_PREFIX + "plan-digest"),
        )


@dataclass
class History:
    """What earlier polls saw (kept by a Watcher across polls)."""

    statuses: list[tuple[str, str]] = field(default_factory=list)
    checkpoints_seen: dict[str, datetime] = field(default_factory=dict)
    losses: list[tuple[datetime, float]] = field(default_factory=list)


@dataclass
class WatchReport:
    """One poll's numbers and findings."""

    job_name: str
    status: str
    secondary_status: str | None
    transitions: list[dict[str, Any]]
    instance_type: str | None
    instance_count: int
    spot: bool
    training_seconds: float | None
    billable_seconds: float | None
    max_runtime_s: int | None
    checkpoint_uri: str | None
    checkpoints: Audit | None
    since_last_checkpoint_s: float | None
    cost_usd: float | None
    cost_basis: str
    projected_cost_usd: float | None
    eta_seconds: float | None
    latest_step: int | None
    loss: float | None
    findings: list[WatchFinding]
    now: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.job_name,
            "status": self.status,
            "secondary_status": self.secondary_status,
            "transitions": self.transitions,
            "instance": {
                "type": self.instance_type,
                "count": self.instance_count,
                "spot": self.spot,
            },
            "training_seconds": _round(self.training_seconds),
            "billable_seconds": _round(self.billable_seconds),
            "max_runtime_seconds": self.max_runtime_s,
            "checkpoint_uri": self.checkpoint_uri,
            "checkpoints": self.checkpoints.to_json() if self.checkpoints else None,
            "since_last_checkpoint_seconds": _round(self.since_last_checkpoint_s),
            "latest_step": self.latest_step,
            "loss": self.loss,
            "cost_usd": _round(self.cost_usd, 2),
            "cost_basis": self.cost_basis,
            "projected_cost_usd": _round(self.projected_cost_usd, 2),
            "eta_seconds": _round(self.eta_seconds),
            "findings": [f.to_json() for f in self.findings],
            "at": self.now.isoformat(),
        }


def _round(value: float | None, digits: int = 0) -> float | None:
    if value is None:
        return None
    return round(value, digits) if digits else float(round(value))


def hourly_rate(instance_type: str | None, region: str, spot: bool) -> tuple[float | None, str]:
    """USD per instance-hour from the costmodel catalog, and which price it is."""
    if not instance_type:
        return None, "unknown instance"
    try:
        import costmodel

        instance = costmodel.load_catalog().instance(instance_type)
        if spot:
            return float(instance.spot_usd_per_hour(region)), "spot (catalog)"
        return float(instance.on_demand_usd_per_hour(region)), "on-demand (catalog)"
    except (ValueError, KeyError, ImportError, AttributeError):
        return None, f"no catalog price for {instance_type} in {region}"


def evaluate(
    job: dict[str, Any],
    audit: Audit | None,
    now: datetime,
    expectations: Expectations,
    history: History,
    *,
    region: str,
    losses: list[tuple[datetime, float]] | None = None,
) -> WatchReport:
    """Numbers and alarms for one look at the job; ``history`` is updated with what was seen."""
    findings: list[WatchFinding] = []
    name = str(job.get("TrainingJobName"))
    status = str(job.get("TrainingJobStatus", "Unknown"))
    secondary = job.get("SecondaryStatus")
    transitions = [
        {
            "status": t.get("Status"),
            "start": _iso(t.get("StartTime")),
            "end": _iso(t.get("EndTime")),
            "message": t.get("StatusMessage"),
        }
        for t in job.get("SecondaryStatusTransitions", []) or []
    ]
    resource = job.get("ResourceConfig", {}) or {}
    instance_type = resource.get("InstanceType")
    count = int(resource.get("InstanceCount", 1) or 1)
    spot = bool(job.get("EnableManagedSpotTraining"))
    stopping = job.get("StoppingCondition", {}) or {}
    max_run = stopping.get("MaxRuntimeInSeconds")
    running = status not in TERMINAL

    # -- status and transitions ------------------------------------------------------------------
    pair = (status, str(secondary))
    if not history.statuses or history.statuses[-1] != pair:
        history.statuses.append(pair)
    seen_secondary = {t["status"] for t in transitions} | {s for _, s in history.statuses}
    for state, why in BAD_SECONDARY.items():
        if state in seen_secondary or status == state:
            severity = "warning" if state == "Interrupted" and running else "error"
            if state == "Stopped" and status == "Stopped":
                severity = "warning"
            reason = job.get("FailureReason")
            extra = f" ({reason})" if reason and state == "Failed" else ""
            findings.append(
                WatchFinding(f"status-{state.lower()}", severity, f"{state}: {why}{extra}")
            )

    # -- time and money ----------------------------------------------------------------------------
    start = job.get("TrainingStartTime")
    end = job.get("TrainingEndTime")
    training_s = job.get("TrainingTimeInSeconds")
    if training_s is None and isinstance(start, datetime):
        training_s = max(0.0, ((end if isinstance(end, datetime) else now) - start).total_seconds())
    billable_s = job.get("BillableTimeInSeconds")
    od_rate, od_basis = hourly_rate(instance_type, region, spot=False)
    cost: float | None = None
    if billable_s is not None and od_rate is not None:
        cost = billable_s / 3600 * od_rate * count
        basis = f"BillableTimeInSeconds x {od_basis} x {count}"
    else:
        rate, rate_basis = hourly_rate(instance_type, region, spot=spot)
        if training_s is not None and rate is not None:
            cost = training_s / 3600 * rate * count
        basis = f"estimate: training time x {rate_basis} x {count}"
    rate_for_projection, _ = hourly_rate(instance_type, region, spot=spot)

    # -- checkpoints -------------------------------------------------------------------------------
    since_last: float | None = None
    latest_step: int | None = None
    if audit is not None:
        present = {c.name: c for c in audit.present}
        for gone in sorted(set(history.checkpoints_seen) - set(present)):
            findings.append(
                WatchFinding(
                    "checkpoint-disappeared",
                    "error",
                    f"{gone} was in S3 at an earlier poll and is gone now: something deletes "
                    "synced checkpoints (save_total_limit rotation deletes them in S3 too)",
                )
            )
        for cname, status_ in present.items():
            history.checkpoints_seen.setdefault(cname, status_.last_modified or now)
        for broken in audit.broken:
            findings.append(
                WatchFinding(
                    "checkpoint-invalid",
                    "error" if broken.present else "warning",
                    f"{broken.name}: {'; '.join(broken.problems) or 'missing'}",
                )
            )
        times = [c.last_modified for c in audit.present if c.last_modified is not None]
        if times:
            since_last = (now - max(times)).total_seconds()
        steps = [c.step for c in audit.present]
        latest_step = max(steps) if steps else None
    if audit is not None and not running and not audit.present:
        findings.append(
            WatchFinding(
                "no-checkpoint-at-end",
                "error" if status != "Completed" else "warning",
                f"the job is {status} and {audit.location} holds no checkpoint: nothing to resume "
                "from (was training.output_dir the checkpoint LocalPath?)",
            )
        )
    interval = expectations.checkpoint_interval_s
    in_training = running and (secondary in (None, "Training") or status == "InProgress")
    if interval and in_training and training_s is not None:
        waited = since_last if since_last is not None else training_s
        if waited > CHECKPOINT_GRACE * interval:
            what = (
                "since the last checkpoint" if since_last is not None else "and no checkpoint yet"
            )
            findings.append(
                WatchFinding(
                    "no-checkpoint",
                    "error",
                    f"{_hours(waited)} {what} in S3; the plan expects one every "
                    f"{_hours(interval)}: check save_strategy/save_steps and the checkpoint sync",
                )
            )

    # -- runtime limit and ETA ---------------------------------------------------------------------
    eta: float | None = None
    if training_s is not None and expectations.total_steps and latest_step:
        per_step = training_s / latest_step
        eta = per_step * max(expectations.total_steps - latest_step, 0)
    elif training_s is not None and expectations.train_seconds:
        eta = max(expectations.train_seconds - training_s, 0.0)
    if not running:
        eta = 0.0 if status == "Completed" else None
    if max_run and training_s is not None and running:
        if training_s >= NEAR_MAX_RUN * max_run:
            findings.append(
                WatchFinding(
                    "near-max-run",
                    "warning",
                    f"{_hours(training_s)} of MaxRuntime {_hours(max_run)} used: the job will be "
                    "stopped soon; make sure the last checkpoint is in S3",
                )
            )
        if eta is not None and training_s + eta > max_run:
            findings.append(
                WatchFinding(
                    "eta-beyond-max-run",
                    "error",
                    f"at this pace training needs {_hours(training_s + eta)} in all, more than "
                    f"MaxRuntime {_hours(max_run)}",
                )
            )
    projected: float | None = None
    if rate_for_projection is not None and training_s is not None and eta is not None:
        projected = (training_s + eta) / 3600 * rate_for_projection * count

    # -- loss --------------------------------------------------------------------------------------
    for when, value in losses or []:
        if not history.losses or when > history.losses[-1][0]:
            history.losses.append((when, value))
    for metric in job.get("FinalMetricDataList", []) or []:
        if metric.get("MetricName") in ("train:loss", "train:hf_loss"):
            when = metric.get("Timestamp") or now
            if not history.losses or when > history.losses[-1][0]:
                history.losses.append((when, float(metric["Value"])))
    loss = history.losses[-1][1] if history.losses else None
    stalled = loss_stalled(history.losses, LOSS_WINDOW_S)
    if stalled is not None and running:
        findings.append(WatchFinding("loss-not-falling", "warning", stalled))

    return WatchReport(
        job_name=name,
        status=status,
        secondary_status=secondary,
        transitions=transitions,
        instance_type=instance_type,
        instance_count=count,
        spot=spot,
        training_seconds=training_s,
        billable_seconds=billable_s,
        max_runtime_s=max_run,
        checkpoint_uri=(job.get("CheckpointConfig") or {}).get("S3Uri"),
        checkpoints=audit,
        since_last_checkpoint_s=since_last,
        cost_usd=cost,
        cost_basis=basis,
        projected_cost_usd=projected,
        eta_seconds=eta,
        latest_step=latest_step,
        loss=loss,
        findings=findings,
        now=now,
    )


def loss_stalled(losses: list[tuple[datetime, float]], window_s: float) -> str | None:
    """A message when the lowest loss of the last ``window_s`` is no lower than before it."""
    if len(losses) < 3:
        return None
    latest = losses[-1][0]
    if (latest - losses[0][0]).total_seconds() < window_s:
        return None
    recent = [v for t, v in losses if (latest - t).total_seconds() <= window_s]
    before = [v for t, v in losses if (latest - t).total_seconds() > window_s]
    if not recent or not before or min(recent) < min(before):
        return None
    return (
        f"loss has not fallen in {_hours(window_s)}: best {min(recent):.4f} in the window, "
        f"{min(before):.4f} before it"
    )


def _hours(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


Describe = Callable[[str], dict[str, Any]]


class Watcher:
    """Polls one job; keeps History so later polls can compare with earlier ones."""

    def __init__(
        self,
        job_name: str,
        *,
        session: Any,
        region: str,
        describe: Describe | None = None,
        checkpoint_uri: str | None = None,
        expectations: Expectations | None = None,
        clock: Callable[[], datetime] | None = None,
        deep: bool = False,
    ) -> None:
        self.job_name = job_name
        self.region = region
        self.sm = session.client("sagemaker", region_name=region)
        self.s3 = session.client("s3", region_name=region)
        self.cloudwatch = session.client("cloudwatch", region_name=region)
        self.describe: Describe = describe or (
            lambda name: self.sm.describe_training_job(TrainingJobName=name)
        )
        self.checkpoint_uri = checkpoint_uri
        self.expectations = expectations
        self.clock = clock or (lambda: datetime.now(UTC))
        self.deep = deep
        self.history = History()

    def _expectations(self, job: dict[str, Any]) -> Expectations:
        if self.expectations is None:
            tags: dict[str, str] = {}
            arn = job.get("TrainingJobArn")
            if arn:
                try:
                    listed = self.sm.list_tags(ResourceArn=arn).get("Tags", [])
                    tags = {t["Key"]: t["Value"] for t in listed}
                except Exception:  # tags are a nicety: a job without them is still watched
                    tags = {}
            self.expectations = Expectations.from_tags(tags)
        return self.expectations

    def _losses(self, job: dict[str, Any], now: datetime) -> list[tuple[datetime, float]]:
        """train:loss points SageMaker published to CloudWatch for this job (empty if none)."""
        start = job.get("TrainingStartTime")
        if not isinstance(start, datetime):
            return []
        try:
            resp = self.cloudwatch.get_metric_statistics(
                Namespace="/aws/sagemaker/TrainingJobs",
                MetricName="train:loss",
                Dimensions=[{"Name": "Host", "Value": f"{self.job_name}/algo-1"}],
                StartTime=start,
                EndTime=now,
                Period=300,
                Statistics=["Minimum"],
            )
        except Exception:  # no metrics yet, or no permission: the alarm needs them, watch does not
            return []
        points = sorted((p["Timestamp"], float(p["Minimum"])) for p in resp.get("Datapoints", []))
        return points

    def poll(self) -> WatchReport:
        job = self.describe(self.job_name)
        now = self.clock()
        uri = self.checkpoint_uri or (job.get("CheckpointConfig") or {}).get("S3Uri")
        audit = audit_s3(self.s3, uri, deep=self.deep) if uri else None
        return evaluate(
            job,
            audit,
            now,
            self._expectations(job),
            self.history,
            region=self.region,
            losses=self._losses(job, now),
        )
