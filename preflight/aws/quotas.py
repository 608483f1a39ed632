"""Gather the SageMaker quotas that bound one job, and what running jobs already use.

Quota codes differ per instance type, so quotas are found by name (data/quotas.yaml) in
``ListServiceQuotas`` (the account's applied values); a name that is not there is looked up in
``ListAWSDefaultServiceQuotas`` and marked as the AWS default. Usage comes from SageMaker's
``ListTrainingJobs(StatusEquals="InProgress")`` and ``DescribeTrainingJob`` for each.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from .facts import OpenRequest, QuotaFacts, QuotaValue, RunningJob, Unchecked
from .session import Clients, describe_error, is_global


@lru_cache(maxsize=1)
def quota_table() -> dict[str, Any]:
    """data/quotas.yaml: names by purpose, known codes, API limits."""
    from ruamel.yaml import YAML

    text = resources.files("preflight.aws").joinpath("data/quotas.yaml").read_text()
    data: dict[str, Any] = YAML(typ="safe").load(text)
    return data


def quota_names(instance_type: str | None) -> dict[str, list[str]]:
    """purpose -> candidate quota names for this instance type."""
    out: dict[str, list[str]] = {}
    for purpose, names in quota_table()["names"].items():
        if "{instance_type}" in " ".join(names) and not instance_type:
            continue
        out[purpose] = [n.format(instance_type=instance_type or "") for n in names]
    return out


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def _by_name(quotas: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(q.get("QuotaName", "")).strip().lower(): q for q in quotas}


def _value(raw: dict[str, Any], source: str) -> QuotaValue | None:
    if raw.get("Value") is None:
        return None
    return QuotaValue(
        name=str(raw["QuotaName"]),
        code=str(raw.get("QuotaCode", "")),
        value=float(raw["Value"]),
        source="applied" if source == "applied" else "default",
        unit=str(raw.get("Unit", "None")),
        adjustable=bool(raw.get("Adjustable", True)),
    )


def gather_quotas(clients: Clients, instance_type: str | None) -> QuotaFacts | Unchecked:
    """Quota values by purpose (applied first, AWS default as fallback) and current usage.

    Raises only errors that make the whole audit pointless (``session.is_global``).
    """
    service = quota_table()["service_code"]
    candidates = quota_names(instance_type)
    client = clients.get("service-quotas")
    facts = QuotaFacts(names={p: names[0] for p, names in candidates.items()})
    applied: dict[str, dict[str, Any]] = {}
    applied_error: str | None = None
    try:
        applied = _by_name(_paginate(client, "list_service_quotas", "Quotas", ServiceCode=service))
    except Exception as exc:
        if is_global(exc):
            raise
        applied_error = describe_error(exc)
    defaults: dict[str, dict[str, Any]] | None = None
    default_error: str | None = None
    for purpose, names in candidates.items():
        found = next((applied[n.lower()] for n in names if n.lower() in applied), None)
        if found is not None:
            facts.quotas[purpose] = _value(found, "applied")
            continue
        if defaults is None and default_error is None:
            try:
                defaults = _by_name(
                    _paginate(
                        client, "list_aws_default_service_quotas", "Quotas", ServiceCode=service
                    )
                )
            except Exception as exc:
                if is_global(exc):
                    raise
                default_error = describe_error(exc)
        found = (
            next((defaults[n.lower()] for n in names if n.lower() in defaults), None)
            if (defaults is not None)
            else None
        )
        facts.quotas[purpose] = _value(found, "default") if found is not None else None
    if applied_error and default_error:
        return Unchecked(
            "the SageMaker Service Quotas",
            f"ListServiceQuotas: {applied_error}; ListAWSDefaultServiceQuotas: {default_error}",
        )
    if applied_error:
        facts.notes.append(
            f"applied quota values unavailable ({applied_error}); AWS defaults used instead"
        )
    facts.running = running_jobs(clients)
    return facts


def running_jobs(clients: Clients) -> list[RunningJob] | Unchecked:
    """Training jobs in progress in the region, with their instance types and counts."""
    sm = clients.get("sagemaker")
    try:
        summaries = _paginate(
            sm, "list_training_jobs", "TrainingJobSummaries", StatusEquals="InProgress"
        )
        jobs: list[RunningJob] = []
        for summary in summaries:
            name = summary["TrainingJobName"]
            desc = sm.describe_training_job(TrainingJobName=name)
            spot = bool(desc.get("EnableManagedSpotTraining", False))
            config = desc.get("ResourceConfig", {})
            groups = config.get("InstanceGroups") or []
            if groups:  # heterogeneous cluster: one entry per instance group
                for group in groups:
                    jobs.append(
                        RunningJob(name, group["InstanceType"], int(group["InstanceCount"]), spot)
                    )
            else:
                jobs.append(
                    RunningJob(
                        name,
                        str(config.get("InstanceType", "")),
                        int(config.get("InstanceCount", 1)),
                        spot,
                    )
                )
        return jobs
    except Exception as exc:
        if is_global(exc):
            raise
        return Unchecked("the running training jobs (current quota usage)", describe_error(exc))


OPEN_STATUSES = ("PENDING", "CASE_OPENED")


def gather_open_requests(clients: Clients, facts: QuotaFacts, codes: list[str]) -> None:
    """Record increases already requested for ``codes`` and still open, so none is filed twice."""
    client = clients.get("service-quotas")
    service = quota_table()["service_code"]
    for code in dict.fromkeys(codes):
        try:
            history = _paginate(
                client,
                "list_requested_service_quota_change_history_by_quota",
                "RequestedQuotas",
                ServiceCode=service,
                QuotaCode=code,
            )
        except Exception as exc:
            if is_global(exc):
                raise
            facts.notes.append(
                f"could not look up earlier increase requests for {code}: {describe_error(exc)}"
            )
            continue
        facts.open_requests[code] = [
            OpenRequest(str(r.get("Id", "?")), float(r.get("DesiredValue", 0)), str(r["Status"]))
            for r in history
            if r.get("Status") in OPEN_STATUSES
        ]
