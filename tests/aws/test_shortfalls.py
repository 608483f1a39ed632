"""Quota judgement: which quota falls short for a compute section, and the exact request."""

from __future__ import annotations

from typing import Any

from preflight.aws.facts import QuotaFacts, QuotaValue, RunningJob, Unchecked
from preflight.aws.shortfalls import shortfalls
from preflight.spec.models import ComputeSpec


def q(name: str, code: str, value: float, source: str = "applied") -> QuotaValue:
    return QuotaValue(name=name, code=code, value=value, source=source)  # type: ignore[arg-type]


def facts(running: list[RunningJob] | Unchecked | None = None, **quotas: Any) -> QuotaFacts:
    base = {
        "instance_on_demand": q("ml.g5.xlarge for training job usage", "L-B6D80D9C", 2),
        "instance_spot": q("ml.g5.xlarge for spot training job usage", "L-SPOT", 0),
        "longest_runtime": q("Longest run time for a training job", "L-33A961FD", 432000),
        "total_instances": q("Number of instances across all training jobs", "L-00C91CB5", 4),
        "total_spot_instances": None,
        "instances_per_job": None,
    }
    base.update(quotas)
    return QuotaFacts(
        quotas=base,
        names={k: (v.name if v else k) for k, v in base.items()},
        running=[] if running is None else running,
    )


def compute(**kw: Any) -> ComputeSpec:
    values: dict[str, Any] = {
        "provider": "sagemaker",
        "instance_type": "ml.g5.xlarge",
        "max_run_hours": 100,
        "region": "eu-west-1",
    }
    values.update(kw)
    return ComputeSpec(**values)


def test_enough_quota_gives_nothing() -> None:
    assert shortfalls(compute(instance_count=2), facts()) == []


def test_runtime_beyond_quota_gives_the_exact_request() -> None:
    (s,) = shortfalls(compute(max_run_hours=168), facts())
    assert s.field == "compute.max_run_hours"
    assert "604800 s" in s.message and "120 h" in s.message and "applied value" in s.message
    assert s.command() == (
        "aws service-quotas request-service-quota-increase --service-code sagemaker "
        "--quota-code L-33A961FD --desired-value 604800 --region eu-west-1"
    )


def test_runtime_beyond_the_api_maximum_cannot_be_requested() -> None:
    (s,) = shortfalls(compute(max_run_hours=700), facts())
    assert s.command() is None and s.desired is None
    assert "No quota increase can allow this" in s.fix()


def test_spot_wait_time_is_checked_and_one_request_covers_both() -> None:
    spot_ok = {"instance_spot": q("ml.g5.xlarge for spot training job usage", "L-SPOT", 1)}
    (s,) = shortfalls(compute(spot=True, max_run_hours=150, max_wait_hours=200), facts(**spot_ok))
    assert s.field == "compute.max_wait_hours"
    assert s.desired == 200 * 3600


def test_zero_spot_quota_blocks_a_spot_job_only() -> None:
    found = shortfalls(compute(spot=True, max_wait_hours=100), facts())
    assert [s.purpose for s in found] == ["instance_spot"]
    assert "needs 1" in found[0].message and "is 0" in found[0].message
    assert shortfalls(compute(spot=False), facts()) == []


def test_running_jobs_use_up_the_quota() -> None:
    running = [
        RunningJob("other", "ml.g5.xlarge", 1, False),
        RunningJob("s", "ml.g5.xlarge", 5, True),
    ]
    (s,) = shortfalls(compute(instance_count=2), facts(running=running))
    assert "1 already in use" in s.message
    assert s.desired == 3  # what runs now plus what this job needs


def test_unknown_usage_is_said_not_assumed_zero() -> None:
    one = {"instance_on_demand": q("ml.g5.xlarge for training job usage", "L-B6D80D9C", 1)}
    unknown = Unchecked("the running training jobs", "access denied")
    assert shortfalls(compute(instance_count=1), facts(running=unknown, **one)) == []
    (s,) = shortfalls(compute(instance_count=2), facts(running=unknown, **one))
    assert "running jobs could not be counted" in s.message


def test_default_value_is_named_as_such() -> None:
    default = {
        "instance_on_demand": q("ml.g5.xlarge for training job usage", "L-B6D80D9C", 0, "default")
    }
    (s,) = shortfalls(compute(), facts(**default))
    assert "AWS default; no applied value found" in s.message


def test_quota_absent_for_the_type_cannot_be_filed() -> None:
    (s,) = shortfalls(compute(), facts(instance_on_demand=None))
    assert s.command() is None
    assert "no quota 'instance_on_demand'" in s.message or "no quota" in s.message


def test_runtime_quota_in_hours_is_converted() -> None:
    hours = QuotaValue("Longest run time for a training job", "L-33A961FD", 200, "applied", "Hours")
    assert shortfalls(compute(max_run_hours=199), facts(longest_runtime=hours)) == []
    (s,) = shortfalls(compute(max_run_hours=201), facts(longest_runtime=hours))
    assert s.desired == 201 * 3600
