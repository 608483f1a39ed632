"""The default, human report: verdict, memory bar, cost line and one row per finding."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..findings import Severity
from ..report import Report

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
MAX_NOTES = 8
"""Notes (what a reader skipped or could not resolve) shown in the terminal; JSON has them all."""
LABELS = {Severity.ERROR: "error", Severity.WARNING: "warn", Severity.INFO: "info"}


def memory_bar(memory: dict[str, Any], width: int = 40) -> Text:
    """``[#########.....] 15.2 / 24.0 GiB`` with the part over capacity in red."""
    peak = float(memory.get("peak_gib") or 0.0)
    cap = memory.get("capacity_gib")
    text = Text()
    if not cap:
        text.append(f"peak {peak:.1f} GiB (no GPU capacity known)")
        return text
    cap = float(cap)
    scale = max(peak, cap)
    used = round(width * min(peak, cap) / scale)
    over = round(width * max(0.0, peak - cap) / scale)
    free = max(0, width - used - over)
    style = "green" if peak <= cap * 0.9 else ("yellow" if peak <= cap else "red")
    text.append("[")
    text.append("█" * used, style=style)
    text.append("█" * over, style="bold red")
    text.append("·" * free, style="dim")
    text.append("] ")
    verdict = "fits" if memory.get("fits") else "does NOT fit"
    text.append(f"{peak:.1f} / {cap:.1f} GiB, {verdict}", style=style)
    return text


def _findings_table(report: Report) -> Table:
    table = Table(show_header=True, header_style="bold", expand=True, show_lines=False)
    table.add_column("", width=5, no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("where", overflow="fold", max_width=28)
    table.add_column("message and fix", ratio=1, overflow="fold")
    for f in report.listed():
        label = Text(LABELS[f.severity], style=STYLES[f.severity])
        if f.silenced_by:
            label = Text("off", style="dim")
        where = f.file or ""
        if f.line:
            where += f":{f.line}"
        if f.cell is not None:
            where += f" (cell {f.cell})"
        if f.places:
            where += "\nvia " + ", ".join(f.places)
        body = Text()
        if f.field:
            body.append(f.field, style="bold")
            body.append(": ")
        body.append(f.message)
        if f.fix:
            body.append("\nfix: ", style="green")
            body.append(f.fix)
        if f.silenced_by:
            body.append(f"\nsilenced: {f.silenced_by}", style="dim")
        table.add_row(label, f.rule, where, body)
    return table


def report_renderable(report: Report, *, fail_on: Severity = Severity.ERROR) -> Group:
    s = report.summary()
    failing = report.failing(fail_on)
    verdict = Text()
    if failing:
        verdict.append("✗ NOT READY TO LAUNCH", style="bold red")
    else:
        verdict.append("✓ ready to launch", style="bold green")
    verdict.append(
        f"   {s['errors']} errors · {s['warnings']} warnings · {s['infos']} infos"
        f"   (fail on {fail_on.value})"
    )
    parts: list[Any] = [verdict]
    if report.memory:
        line = Text("memory  ", style="bold")
        line.append_text(memory_bar(report.memory))
        parts.append(line)
    if report.cost:
        parts.append(_cost_line(report.cost))
    if report.versions:
        judged = ", ".join(
            f"{pkg} {v['version']} ({v['why']})" for pkg, v in report.versions.items()
        )
        parts.append(Text(f"judged for  {judged}", style="dim"))
    if report.listed():
        parts.append(_findings_table(report))
    else:
        parts.append(Text("No findings.", style="green"))
    if report.silenced_line():
        parts.append(Text(f"note: {report.silenced_line()}", style="dim"))
    skipped = [n for n in report.notes if n.startswith("skipped ")]
    others = [n for n in report.notes if not n.startswith("skipped ")]
    if skipped:
        parts.append(
            Text(f"note: skipped {len(skipped)} files that are not training configs", style="dim")
        )
    for note in others[:MAX_NOTES]:
        parts.append(Text(f"note: {note}", style="dim"))
    if len(others) > MAX_NOTES:
        more = len(others) - MAX_NOTES
        parts.append(Text(f"... and {more} more notes (--format json lists them all)", style="dim"))
    return Group(Panel(Group(*parts), title=f"preflight · {report.spec}", title_align="left"))


def _spot_range(cost: dict[str, Any]) -> str:
    """`` ($97.99-$98.02 across the interruption band)`` when the band gives a range."""
    rng = cost.get("spot_expected_usd_range")
    if not rng or None in rng or rng[0] == rng[1]:
        return ""
    lo, hi = sorted(rng)
    return f" (${lo:,.2f}-${hi:,.2f} across the interruption band)"


def _cost_line(cost: dict[str, Any]) -> Text:
    line = Text("cost    ", style="bold")
    bits = []
    if cost.get("hours") is not None:
        bits.append(f"{cost['hours']:,.1f} h")
    if cost.get("on_demand_usd") is not None:
        bits.append(f"on-demand ${cost['on_demand_usd']:,.2f}")
    if cost.get("spot_expected_usd") is not None:
        bits.append(f"spot (expected) ${cost['spot_expected_usd']:,.2f}{_spot_range(cost)}")
    if cost.get("recommendation"):
        bits.append(f"→ {cost['recommendation']}")
    line.append(" · ".join(bits))
    return line


def render_rich(report: Report, *, fail_on: Severity = Severity.ERROR, width: int = 110) -> str:
    """Plain text of the rich report (for files and tests); the CLI prints it with colour."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False)
    console.print(report_renderable(report, fail_on=fail_on))
    return buf.getvalue()
