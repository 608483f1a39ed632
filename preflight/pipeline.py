"""``check``: the one place that composes spec, memplan, costmodel, the rules and the AWS audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .engine import run_rules
from .findings import Finding, Severity
from .plan import Plan
from .report import Report
from .spec import LoadedSpec


def build_plan(loaded: LoadedSpec) -> Plan:
    """Resolve a spec into a plan: memory estimate and duration/cost, where the spec allows."""
    plan = Plan(loaded)
    plan.memory, plan.memory_note = _memory(loaded)
    plan.cost, plan.cost_note = _cost(loaded)
    return plan


def _memory(loaded: LoadedSpec) -> tuple[Any | None, str | None]:
    from .memory import plan_memory

    return plan_memory(loaded)


def _cost(loaded: LoadedSpec) -> tuple[dict[str, Any] | None, str | None]:
    from .cost import cost_summary, missing_for_cost

    summary = cost_summary(loaded)
    if summary is None:
        return None, missing_for_cost(loaded)
    return summary, None


def check_plan(plan: Plan, *, aws: bool = False, aws_session: Any = None) -> list[Any]:
    """All findings for one plan (rules, plus the AWS audit when asked)."""
    if aws:
        from .aws import gather_facts

        plan.aws = gather_facts(plan, session=aws_session)
    return run_rules(plan)


def check(
    target: str | Path | LoadedSpec | list[str | Path],
    *,
    aws: bool = False,
    aws_session: Any = None,
    input_format: str | None = None,
    versions: dict[str, str] | None = None,
) -> Report:
    """Check one or more sources and return one Report over all of them.

    ``target`` is a path (spec, and the other formats the readers know), a list of paths, or an
    already loaded spec; ``versions`` states the transformers/TRL versions (``--transformers``)
    instead of the pins found in each source's repository. Raises ``preflight.spec.SpecError`` when an input cannot be used.
    """
    from .readers import read_sources_with_notes

    walk_notes: list[str] = []
    if isinstance(target, LoadedSpec):
        sources = [target]
        label = str(target.path)
        if not target.versions:
            from .readers.versions import attach_versions

            attach_versions(target, versions)
    else:
        paths = [Path(p) for p in (target if isinstance(target, list) else [target])]
        sources, walk_notes = read_sources_with_notes(
            paths, input_format=input_format, versions=versions
        )
        label = ", ".join(str(p) for p in paths)
    report = Report(spec=label, files=[str(s.path) for s in sources], notes=list(walk_notes))
    per_source: list[tuple[str, list[Finding]]] = []
    sagemaker_jobs = 0
    for loaded in sources:
        plan = build_plan(loaded)
        per_source.append((str(loaded.path), check_plan(plan, aws=aws, aws_session=aws_session)))
        report.notes.extend(f"{loaded.path}: {n}" for n in loaded.notes)
        sagemaker_jobs += plan.has("sagemaker")
        _record_versions(report, loaded)
        if len(sources) == 1:
            report.memory = plan.memory.to_json() if plan.memory is not None else None
            report.cost = plan.cost
            report.notes.extend(f"price: {w}" for w in (plan.cost or {}).get("price_warnings", []))
    report.findings = merge_sources(per_source)
    if len(sources) > 1:
        report.findings = collapse_not_checked(report.findings)
    if sagemaker_jobs and not aws:
        from .rules import all_rules

        n = sum(1 for cls in all_rules() if "aws" in cls.requires)
        report.notes.append(
            f"the AWS account was not audited ({n} rules: quotas, IAM, buckets, image, VPC): "
            "run with --aws before launch"
        )
    return report


def _record_versions(report: Report, loaded: LoadedSpec) -> None:
    """The versions the fields were judged against: the first source's, and any that differ."""
    found = {pkg: {"version": v, "why": why} for pkg, (v, why) in loaded.versions.items()}
    if not report.versions:
        report.versions = found
    elif found != report.versions:
        from .readers.versions import describe_versions

        report.notes.append(f"{loaded.path}: judged for {describe_versions(loaded.versions)}")


def merge_sources(per_source: list[tuple[str, list[Finding]]]) -> list[Finding]:
    """One finding per root cause across sources: two notebooks that launch one script each
    produce the script's findings; they are reported once, listing the sources in ``places``."""
    out: list[Finding] = []
    seen: dict[tuple[object, ...], int] = {}
    for source, findings in per_source:
        for f in findings:
            if f.message.startswith("not checked:"):
                out.append(f)
                continue
            key = (f.rule, f.file, f.line, f.field, f.message, f.severity)
            if key in seen:
                first = out[seen[key]]
                places = list(first.places or [])
                if source not in places:
                    places.append(source)
                out[seen[key]] = first.model_copy(update={"places": places})
                continue
            seen[key] = len(out)
            out.append(f.model_copy(update={"places": [source]}))
    # a finding reached from one source only needs no "places"
    return [
        f.model_copy(update={"places": None}) if f.places and len(f.places) < 2 else f for f in out
    ]


def collapse_not_checked(findings: list[Finding]) -> list[Finding]:
    """Over many files, one "not checked" info per distinct summary (naming how many files)
    instead of one per file: a first ``preflight check .`` should show problems, not infos."""
    grouped: dict[tuple[str, str], list[Finding]] = {}
    out: list[Finding] = []
    for f in findings:
        if f.severity is Severity.INFO and f.message.startswith("not checked:"):
            grouped.setdefault((f.rule, f.message), []).append(f)
        else:
            out.append(f)
    for group in grouped.values():
        first = group[0]
        if len(group) == 1:
            out.append(first)
            continue
        out.append(
            first.model_copy(
                update={
                    "line": None,
                    "cell": None,
                    "message": f"{first.message} (in {len(group)} files, {first.file} first)",
                }
            )
        )
    return out
