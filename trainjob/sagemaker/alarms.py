"""The seed's CloudWatch alarms for one training job, defined as data and put idempotently.

From the seed's monitoring section, the alarms that a metric can carry:

- loss not decreasing for more than 2 hours: ``DIFF`` of the hourly minimum of ``train:loss``
  is >= 0 for two hours running;
- no new checkpoint in the expected time: no ``train:checkpoint_step`` datapoint (the checkpoint
  callback's log line) within 1.5x the planned checkpoint interval;
- runtime near the limit: the entry point's ``trainjob:elapsed_seconds`` heartbeat passes 90% of
  ``MaxRuntimeInSeconds``.

SageMaker publishes metric definitions under the namespace ``/aws/sagemaker/TrainingJobs`` with
the dimension ``Host=<job>/algo-1`` (AWS docs, "Define Training Metrics"). The alarm names are
fixed per job, so running ``trainjob alarms`` again updates the same three alarms
(``PutMetricAlarm`` replaces an alarm of the same name) instead of adding more.
"""

from __future__ import annotations

import math
from typing import Any

from .request import METRIC_CHECKPOINT, METRIC_ELAPSED, METRIC_LOSS

NAMESPACE = "/aws/sagemaker/TrainingJobs"
LOSS_WINDOW_HOURS = 2
CHECKPOINT_GRACE = 1.5
NEAR_LIMIT = 0.9
MAX_PERIOD_S = 86400  # PutMetricAlarm: Period above one day is not allowed
#: The job's metric definitions the alarms rest on (set by ``trainjob launch``).
ALARM_METRICS = (METRIC_LOSS, METRIC_CHECKPOINT, METRIC_ELAPSED)
ALARM_KINDS = ("loss-not-falling", "near-max-run", "no-checkpoint")


def _dims(job_name: str) -> list[dict[str, str]]:
    return [{"Name": "Host", "Value": f"{job_name}/algo-1"}]


def alarm_name(job_name: str, kind: str) -> str:
    return f"trainjob-{job_name}-{kind}"[:255]


def alarm_definitions(
    job_name: str,
    *,
    max_runtime_s: int,
    checkpoint_interval_s: float | None,
    actions: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The PutMetricAlarm requests for one job (pure data; nothing is called)."""
    actions = actions or []
    common: dict[str, Any] = {
        "ActionsEnabled": bool(actions),
        "AlarmActions": actions,
        "Tags": [{"Key": "trainjob:job", "Value": job_name}],
    }
    alarms: list[dict[str, Any]] = [
        {
            "AlarmName": alarm_name(job_name, "loss-not-falling"),
            "AlarmDescription": (
                f"train:loss of {job_name} has not fallen for {LOSS_WINDOW_HOURS} h "
                "(seed: 'Training loss not decreasing for >2 hours')"
            ),
            "Metrics": [
                {
                    "Id": "loss",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": NAMESPACE,
                            "MetricName": METRIC_LOSS,
                            "Dimensions": _dims(job_name),
                        },
                        "Period": 3600,
                        "Stat": "Minimum",
                    },
                    "ReturnData": False,
                },
                {"Id": "change", "Expression": "DIFF(loss)", "ReturnData": True},
            ],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 0.0,
            "EvaluationPeriods": LOSS_WINDOW_HOURS,
            "DatapointsToAlarm": LOSS_WINDOW_HOURS,
            "TreatMissingData": "notBreaching",
            **common,
        },
        {
            "AlarmName": alarm_name(job_name, "near-max-run"),
            "AlarmDescription": (
                f"{job_name} has used {int(NEAR_LIMIT * 100)}% of MaxRuntimeInSeconds "
                f"({max_runtime_s} s): it will be stopped soon"
            ),
            "Namespace": NAMESPACE,
            "MetricName": METRIC_ELAPSED,
            "Dimensions": _dims(job_name),
            "Statistic": "Maximum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": float(math.floor(NEAR_LIMIT * max_runtime_s)),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            **common,
        },
    ]
    if checkpoint_interval_s:
        period = min(MAX_PERIOD_S, _round_up(CHECKPOINT_GRACE * checkpoint_interval_s, 60))
        alarms.append(
            {
                "AlarmName": alarm_name(job_name, "no-checkpoint"),
                "AlarmDescription": (
                    f"no checkpoint of {job_name} in {period // 60} min; the plan expects one "
                    f"every {checkpoint_interval_s / 60:.0f} min (seed: 'No new checkpoints in "
                    "expected timeframe')"
                ),
                "Namespace": NAMESPACE,
                "MetricName": METRIC_CHECKPOINT,
                "Dimensions": _dims(job_name),
                "Statistic": "SampleCount",
                "Period": period,
                "EvaluationPeriods": 1,
                "Threshold": 1.0,
                "ComparisonOperator": "LessThanThreshold",
                "TreatMissingData": "breaching",
                **common,
            }
        )
    return alarms


def _round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def put_alarms(cloudwatch: Any, definitions: list[dict[str, Any]]) -> list[str]:
    """PutMetricAlarm for each definition (same name: replaced, so reruns are idempotent)."""
    names = []
    for definition in definitions:
        cloudwatch.put_metric_alarm(**definition)
        names.append(definition["AlarmName"])
    return names
