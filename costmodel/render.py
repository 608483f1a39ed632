"""Rich and markdown rendering of a :class:`Comparison`: the options table, checkpoint advice,
the seed's heuristic beside the model, what each row rests on, and a small terminal chart.
Computing happens elsewhere.  Whether a row fits is always written in words (colour vanishes
in CI logs and pipes)."""

from __future__ import annotations

import math

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from costmodel.compare import Comparison, Option
from costmodel.curves import Curve

_BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of eighth-blocks, ``value / top`` of ``width`` cells."""
    if top <= 0:
        return ""
    cells = max(min(value / top, 1.0), 0.0) * width
    full = int(cells)
    part = int(round((cells - full) * 8))
    if part == 8:
        full, part = full + 1, 0
    return "█" * full + (_BLOCKS[part] if part else "")


def terminal_chart(curve: Curve, width: int = 36, rows: int = 9) -> Text:
    """Spot expected cost per x value as bars, with the on-demand cost as a reference line."""
    pts = curve.points
    if not pts:
        return Text("")
    step = max(len(pts) // rows, 1)
    shown = pts[::step]
    top = max(max(p.spot_p90_usd for p in shown), max(p.on_demand_usd for p in shown))
    near = None
    if curve.marker is not None:
        near = min(shown, key=lambda p: abs(p.x - (curve.marker or 0.0)))
    ref = near or shown[len(shown) // 2]
    out = Text()
    out.append(
        f"spot cost vs {curve.x_label} (bars: expected; on-demand ${ref.on_demand_usd:,.0f})\n",
        style="bold",
    )
    for p in shown:
        out.append(f"{p.x:>9,.1f} │", style="dim")
        out.append(_bar(p.spot_expected_usd, top, width).ljust(width), style="cyan")
        out.append(f" ${p.spot_expected_usd:,.2f}  P90 ${p.spot_p90_usd:,.2f}")
        if p is near:
            out.append(f"  ◀ {curve.marker_label}", style="bold green")
        out.append("\n")
    od_cells = int(round(min(ref.on_demand_usd / top, 1.0) * width))
    out.append(" " * 10 + "└" + "─" * max(od_cells - 1, 0) + "┴ on-demand\n", style="dim")
    return out


def render_comparison(cmp: Comparison, curve: Curve | None = None) -> RenderableType:
    """The ``--format rich`` report."""
    table = Table(
        title=f"costmodel compare ({cmp.region}, {cmp.instance_count} instance(s))",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        caption="late: share of runs past the deadline; save: recommended save_steps; "
        "spot range: expected $ at the short and long MTBF ends of the interruption band",
    )
    for col, justify in (
        ("instance", "left"),
        ("market", "left"),
        ("$/h", "right"),
        ("hours", "right"),
        ("P90 h", "right"),
        ("$", "right"),
        ("P90 $", "right"),
        ("late", "right"),
        ("save", "right"),
        ("spot range $", "right"),
        ("fit", "left"),
    ):
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    rec = cmp.recommendation
    for o in cmp.options:
        chosen = o.instance_type == rec.instance_type and o.market == rec.market
        risk = "-" if o.deadline_risk is None else f"{o.deadline_risk:.0%}"
        table.add_row(
            o.instance_type,
            o.market,
            f"{o.usd_per_hour:,.2f}",
            f"{o.expected_hours:,.1f}",
            f"{o.p90_hours:,.1f}",
            f"${o.expected_cost_usd:,.0f}",
            f"${o.p90_cost_usd:,.0f}",
            risk,
            f"{o.save_steps:,}",
            _range_text(o),
            o.fit_short(),
            style="bold green" if chosen else ("red" if not o.feasible else None),
        )
    parts: list[RenderableType] = [table]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for o in cmp.options:
        key = (o.instance_type, o.does_not_fit)
        if o.does_not_fit and key not in seen:
            seen.add(key)
            parts.append(Text(f"{o.instance_type} {o.market}: {o.fit_text()}", style="red"))
    for name, why in cmp.skipped:
        parts.append(Text(f"skipped {name}: {why}", style="yellow"))
    if cmp.checkpoint is not None and cmp.primary is not None:
        p = cmp.params[cmp.primary]
        d = cmp.durations[cmp.primary]
        parts.append(
            Text(
                f"\n{cmp.primary}: {d.total_steps:,} steps x {d.seconds_per_step:.2f} s = "
                f"{d.hours:,.1f} h of compute ({d.throughput_basis}).\n"
                f"Checkpoint every {cmp.checkpoint.minutes:,.1f} min of work "
                f"(save_steps={cmp.checkpoint_save_steps:,}; Daly {cmp.checkpoint.daly_hours * 60:,.1f}, "
                f"Young {cmp.checkpoint.young_hours * 60:,.1f}) for MTBF {p.mtbf_hours:g} h, "
                f"save {p.checkpoint_hours * 60:.1f} min, restart {p.restart_hours * 60:.0f} min "
                f"unbilled wait + {p.billed_restart_hours * 60:.1f} min billed restore."
            )
        )
    h = cmp.seed_heuristic
    if h is not None:
        model = cmp.model_spot_expected_usd
        verdict = h.decision
        if h.decision == "spot":
            verdict += (
                f" (it picks on-demand only if finishing earlier is worth more than "
                f"${h.break_even_time_value_usd:,.2f})"
            )
        parts.append(
            Text(
                f"Seed heuristic: on-demand premium ${h.on_demand_premium_usd:,.2f} vs risk cost "
                f"{h.p_failure:.0%} x ${h.failure_cost_usd:,.2f} = ${h.risk_cost_usd:,.2f} -> "
                f"{verdict}.\n"
                f"Model with synced checkpoints: spot expected ${model or 0:,.2f} vs on-demand "
                f"${h.on_demand_usd_per_hour * h.hours:,.2f}: an interruption costs the work "
                "since the last checkpoint plus the restart, not the whole run."
            )
        )
    if curve is not None:
        parts.append(terminal_chart(curve))
    style = "bold green" if rec.instance_type else "bold red"
    label = f"{rec.market} {rec.instance_type}" if rec.instance_type else "none"
    parts.append(Text(f"Recommendation: {label}: {rec.reason}", style=style))
    if rec.range_note:
        parts.append(Text(f"The recommendation {rec.range_note}.", style=style))
    parts.append(Text("\nInputs each row rests on:", style="bold"))
    for name, rows in cmp.inputs.items():
        parts.append(Text(f"  {name}", style="bold"))
        for what, value in rows:
            parts.append(Text(f"    {what}: {value}"))
    for w in cmp.warnings:
        parts.append(Text(f"WARNING price: {w}", style="bold yellow"))
    if cmp.price_source:
        parts.append(Text(f"Prices: {cmp.price_source}", style="dim"))
    return Group(*parts)


def _range_text(o: Option) -> str:
    """``$72-$71`` style pair of a spot row's expected cost at both MTBF ends, or ``-``."""
    r = o.expected_cost_range_usd
    if o.market != "spot" or r is None or o.mtbf_range_hours is None:
        return "-"
    lo, hi = o.mtbf_range_hours
    if lo == hi:
        return f"${r[0]:,.0f} (one MTBF)"
    return f"${r[0]:,.0f} to ${r[1]:,.0f}"


def _mtbf(v: float) -> str:
    return "never" if math.isinf(v) else f"{v:,.0f} h"


def render_markdown(cmp: Comparison) -> str:
    """The ``--format markdown`` report: the same rows, fit in words, inputs and warnings."""
    lines = [
        f"### costmodel compare ({cmp.region}, {cmp.instance_count} instance(s))",
        "",
        "| instance | market | $/h | hours | P90 h | $ | P90 $ | spot $ at MTBF ends | "
        "P90 $ at MTBF ends | MTBF range | save | fit |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    rec = cmp.recommendation
    for o in cmp.options:
        chosen = o.instance_type == rec.instance_type and o.market == rec.market
        name = f"**{o.instance_type}**" if chosen else o.instance_type
        if o.market == "spot" and o.mtbf_range_hours and o.expected_cost_range_usd:
            e = o.expected_cost_range_usd
            p = o.p90_cost_range_usd or e
            ends = f"${e[0]:,.2f} / ${e[1]:,.2f}"
            p90s = f"${p[0]:,.2f} / ${p[1]:,.2f}"
            mtbf = f"{_mtbf(o.mtbf_range_hours[0])} to {_mtbf(o.mtbf_range_hours[1])}"
        else:
            ends = p90s = mtbf = "-"
        lines.append(
            f"| {name} | {o.market} | {o.usd_per_hour:,.2f} | {o.expected_hours:,.1f} | "
            f"{o.p90_hours:,.1f} | ${o.expected_cost_usd:,.2f} | ${o.p90_cost_usd:,.2f} | "
            f"{ends} | {p90s} | {mtbf} | {o.save_steps:,} | {o.fit_text()} |"
        )
    for name, why in cmp.skipped:
        lines.append(f"\nskipped {name}: {why}")
    label = f"{rec.market} {rec.instance_type}" if rec.instance_type else "none"
    lines += ["", f"**Recommendation**: {label}: {rec.reason}"]
    if rec.range_note:
        lines.append(f"The recommendation {rec.range_note}.")
    lines += ["", "**Inputs each row rests on**", ""]
    for name, rows in cmp.inputs.items():
        lines.append(f"- `{name}`")
        lines += [f"  - {what}: {value}" for what, value in rows]
    if cmp.warnings:
        lines += ["", "**Warnings**", ""]
        lines += [f"- WARNING price: {w}" for w in cmp.warnings]
    if cmp.price_source:
        lines += ["", f"Prices: {cmp.price_source}"]
    return "\n".join(lines)
