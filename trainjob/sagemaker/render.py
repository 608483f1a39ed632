"""Plain-text views of a watch report and a checkpoint audit (JSON is ``to_json`` on each)."""

from __future__ import annotations

from datetime import datetime

from .checkpoint_audit import Audit
from .watch import WatchReport

_MARK = {"error": "ERROR", "warning": "WARN ", "info": "info "}


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def audit_lines(audit: Audit) -> list[str]:
    """One line per checkpoint, then the totals."""
    lines = [
        f"checkpoints in {audit.location}" + (" (manifest found)" if audit.manifest_found else "")
    ]
    if not audit.checkpoints:
        lines.append("  none")
    for c in audit.checkpoints:
        if not c.present:
            verdict = f"GONE ({c.manifest_status})"
        else:
            verdict = "ok" if c.valid else "BROKEN"
        lines.append(
            f"  {verdict:<16} {c.name:<20} {len(c.files):>3} files {_size(c.total_bytes):>10}  "
            f"{_when(c.last_modified)}"
        )
        for problem in c.problems:
            lines.append(f"      - {problem}")
    newest = audit.newest_valid
    lines.append(
        f"total: {len(audit.present)} present, "
        f"{sum(1 for c in audit.checkpoints if c.valid)} valid, {len(audit.broken)} broken; "
        f"newest valid: {newest.name if newest else 'none'}"
    )
    return lines


def watch_lines(report: WatchReport) -> list[str]:
    """The watch screen: status, time, money, checkpoints, then the alarms."""
    secondary = f" / {report.secondary_status}" if report.secondary_status else ""
    spot = " spot" if report.spot else ""
    lines = [
        f"{report.job_name}: {report.status}{secondary}   "
        f"({report.instance_count} x {report.instance_type}{spot}) at {_when(report.now)}",
    ]
    if report.transitions:
        path = " -> ".join(str(t["status"]) for t in report.transitions)
        lines.append(f"  transitions   {path}")
    limit = f" of {_dur(report.max_runtime_s)} max" if report.max_runtime_s else ""
    lines.append(f"  training      {_dur(report.training_seconds)}{limit}")
    if report.billable_seconds is not None:
        lines.append(f"  billable      {_dur(report.billable_seconds)}")
    cost = f"${report.cost_usd:,.2f}" if report.cost_usd is not None else "-"
    projected = (
        f"${report.projected_cost_usd:,.2f}" if report.projected_cost_usd is not None else "-"
    )
    lines.append(f"  cost so far   {cost}  ({report.cost_basis}); projected {projected}")
    lines.append(f"  ETA           {_dur(report.eta_seconds)}")
    if report.loss is not None:
        lines.append(f"  loss          {report.loss:.4f}")
    if report.checkpoints is not None:
        n = len(report.checkpoints.present)
        newest = report.checkpoints.newest_valid
        lines.append(
            f"  checkpoints   {n} in {report.checkpoint_uri}; newest valid "
            f"{newest.name if newest else 'none'}; "
            + (
                f"last one {_dur(report.since_last_checkpoint_s)} ago"
                if report.since_last_checkpoint_s is not None
                else "none yet"
            )
        )
    else:
        lines.append("  checkpoints   no CheckpointConfig: nothing is synced to S3 during the job")
    for finding in report.findings:
        lines.append(
            f"  {_MARK.get(finding.severity, finding.severity)} [{finding.id}] {finding.message}"
        )
    if not report.findings:
        lines.append("  no alarms")
    return lines
