"""Judge gathered quotas against a job: which quota falls short, by how much, and what to request.

Pure functions over ``QuotaFacts`` and the spec's compute section, shared by the PF6xx rules (which
print the request) and ``preflight quota request`` (which files it), so both always agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..spec.models import ComputeSpec
from .facts import OpenRequest, QuotaFacts, QuotaValue
from .quotas import quota_table


@dataclass(frozen=True)
class Shortfall:
    """One quota that does not let the job run as specified."""

    purpose: str
    """Key of data/quotas.yaml ``names`` (instance_on_demand, longest_runtime, ...)."""
    field: str
    """The spec key that asks for more than the quota gives."""
    quota: QuotaValue | None
    """None when the account has no quota of that name (not listed for the region)."""
    quota_name: str
    needed: float
    in_use: int | None
    desired: float | None
    """Value to request; None when no increase can help (beyond the API maximum)."""
    message: str
    region: str
    pending: OpenRequest | None = None
    """An open increase request that already asks for at least ``desired``."""

    def command(self) -> str | None:
        """The AWS CLI line that files the increase, when there is a code to file it for."""
        if self.quota is None or self.desired is None:
            return None
        return (
            "aws service-quotas request-service-quota-increase --service-code "
            f"{quota_table()['service_code']} --quota-code {self.quota.code} "
            f"--desired-value {_num(self.desired)} --region {self.region}"
        )

    def fix(self) -> str:
        line = self.command()
        if self.pending is not None:
            return (
                f"An increase to {_num(self.pending.desired)} is already requested "
                f"(request {self.pending.id}, {self.pending.status}); wait for AWS to decide."
            )
        if line is None and self.desired is None:
            return (
                "No quota increase can allow this; lower the value (SageMaker's API maximum is "
                f"{_num(quota_table()['api_max_runtime_seconds'] / 3600)} hours)."
            )
        if line is None:
            return (
                f"Ask AWS for the quota '{self.quota_name}' in {self.region} (Service Quotas "
                "console or a support case), or pick an instance type the account has."
            )
        return f"Request it: `{line}` (or `preflight quota request SPEC`)."


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _source(q: QuotaValue, shown: str | None = None) -> str:
    where = "applied value" if q.source == "applied" else "AWS default; no applied value found"
    return f"the quota '{q.name}' ({q.code}) is {shown or _num(q.value)} ({where})"


def runtime_seconds(q: QuotaValue) -> float:
    """The runtime quota in seconds (Service Quotas reports it in seconds; unit checked)."""
    unit = q.unit.lower()
    if unit.startswith("hour"):
        return q.value * 3600
    if unit.startswith("minute"):
        return q.value * 60
    if unit.startswith("day"):
        return q.value * 86400
    return q.value


def shortfalls(compute: ComputeSpec, facts: QuotaFacts) -> list[Shortfall]:
    """Every quota that stops this job from starting or from running to its stated end."""
    out: list[Shortfall] = []
    region = compute.region
    itype = compute.instance_type
    count = compute.instance_count
    if itype:
        purpose = "instance_spot" if compute.spot else "instance_on_demand"
        kind = "spot training" if compute.spot else "training"
        out.extend(
            _capacity(
                facts, purpose, "compute.instance_type", count,
                facts.usage(itype, spot=compute.spot),
                f"{count} x {itype} for {kind}", region,
            )
        )  # fmt: skip
    total = "total_spot_instances" if compute.spot else "total_instances"
    out.extend(
        _capacity(
            facts, total, "compute.instance_count", count, facts.usage(spot=compute.spot),
            f"{count} instance(s) across all {'spot ' if compute.spot else ''}training jobs",
            region, report_missing=False,
        )
    )  # fmt: skip
    per_job = facts.quotas.get("instances_per_job")
    if per_job is not None and count > per_job.value:
        out.append(
            Shortfall(
                "instances_per_job", "compute.instance_count", per_job, per_job.name, count, None,
                float(count), f"instance_count {count}, but {_source(per_job)}", region,
            )
        )  # fmt: skip
    out.extend(_runtime(compute, facts))
    return [_with_pending(s, facts) for s in out]


def _with_pending(s: Shortfall, facts: QuotaFacts) -> Shortfall:
    if s.quota is None or s.desired is None:
        return s
    for request in facts.open_requests.get(s.quota.code, []):
        if request.desired >= s.desired:
            from dataclasses import replace

            return replace(s, pending=request)
    return s


def _capacity(
    facts: QuotaFacts,
    purpose: str,
    field: str,
    needed: int,
    in_use: int | None,
    what: str,
    region: str,
    *,
    report_missing: bool = True,
) -> list[Shortfall]:
    quota = facts.quotas.get(purpose)
    name = facts.names.get(purpose, purpose)
    if quota is None:
        if not report_missing or purpose not in facts.quotas:
            return []
        return [
            Shortfall(
                purpose, field, None, name, needed, in_use, float(needed),
                f"the account has no quota '{name}' in {region} (neither applied nor default): "
                f"{what} cannot start there",
                region,
            )
        ]  # fmt: skip
    used = in_use or 0
    if quota.value >= needed + used:
        return []
    if quota.value < needed:
        why = f"{what} needs {needed}, but {_source(quota)}"
    else:
        why = f"{what} needs {needed}, {_source(quota)} and {used} already in use by running jobs"
    if in_use is None:
        why += "; running jobs could not be counted"
    return [
        Shortfall(purpose, field, quota, name, needed, in_use, float(needed + used), why, region)
    ]


def _runtime(compute: ComputeSpec, facts: QuotaFacts) -> list[Shortfall]:
    quota = facts.quotas.get("longest_runtime")
    if quota is None:
        return []
    limit = runtime_seconds(quota)
    api_max = float(quota_table()["api_max_runtime_seconds"])
    out: list[Shortfall] = []
    asks = [("compute.max_run_hours", compute.max_run_hours, "max_run_hours")]
    if compute.spot and compute.max_wait_hours is not None:
        asks.append(("compute.max_wait_hours", compute.max_wait_hours, "max_wait_hours"))
    for field, hours, label in asks:
        seconds = math.ceil(hours * 3600)
        if seconds <= limit:
            continue
        desired = float(seconds) if seconds <= api_max else None
        message = (
            f"{label} {_num(hours)} h = {seconds} s, but "
            f"{_source(quota, f'{_num(limit)} s = {_num(limit / 3600)} h')}: SageMaker "
            "rejects the job or stops it at the limit"
        )
        if desired is None:
            message += f"; it also exceeds the API maximum of {_num(api_max)} s (28 days)"
        out.append(
            Shortfall(
                "longest_runtime", field, quota, quota.name, seconds, None, desired, message,
                compute.region,
            )
        )  # fmt: skip
    if len(out) == 2:  # one request covers both: the larger of the two values
        out = [max(out, key=lambda s: s.needed)]
    return out
