"""``--format markdown``: a CI job summary or PR comment."""

from __future__ import annotations

from ..findings import Severity
from ..report import Report

ICONS = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, *, fail_on: Severity = Severity.ERROR) -> str:
    s = report.summary()
    verdict = "fails" if report.failing(fail_on) else "passes"
    lines = [
        f"## preflight: `{report.spec}` {verdict} (fail on {fail_on.value})",
        "",
        f"**{s['errors']}** errors, **{s['warnings']}** warnings, **{s['infos']}** infos",
        "",
    ]
    if report.memory:
        m = report.memory
        fits = "fits" if m.get("fits") else "does NOT fit"
        lines.append(
            f"**Memory**: peak {m.get('peak_gib', 0):.1f} GiB of {m.get('capacity_gib') or '?'} GiB: {fits}"
        )
    if report.cost:
        c = report.cost
        parts = [f"{c['hours']:.1f} h" if c.get("hours") is not None else None]
        if c.get("on_demand_usd") is not None:
            parts.append(f"on-demand ${c['on_demand_usd']:,.2f}")
        if c.get("spot_expected_usd") is not None:
            rng = c.get("spot_expected_usd_range")
            band = (
                f" (${min(rng):,.2f}-${max(rng):,.2f} across the interruption band)"
                if rng and None not in rng and rng[0] != rng[1]
                else ""
            )
            parts.append(f"spot expected ${c['spot_expected_usd']:,.2f}{band}")
        if c.get("recommendation"):
            parts.append(f"recommendation: {c['recommendation']}")
        lines.append("**Cost**: " + ", ".join(p for p in parts if p))
        lines.extend(f"- price warning: {w}" for w in c.get("price_warnings") or [])
    if report.memory or report.cost:
        lines.append("")
    listed = report.listed()
    if listed:
        lines += ["| | Rule | Where | Key | Message | Fix |", "|---|---|---|---|---|---|"]
        for f in listed:
            where = f"{f.file}:{f.line}" if f.line else (f.file or "")
            if f.places:
                where += " (checked from " + ", ".join(f.places) + ")"
            icon = "🔇" if f.silenced_by else ICONS[f.severity]
            lines.append(
                f"| {icon} | `{f.rule}` | {_cell(where)} | `{_cell(f.field or '-')}` | "
                f"{_cell(f.message)} | {_cell(f.fix)} |"
            )
    else:
        lines.append("No findings.")
    if report.silenced_line():
        lines += ["", f"_{report.silenced_line()}_"]
    return "\n".join(lines) + "\n"
