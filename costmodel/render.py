"""Rich rendering of a :class:`Comparison`: the options table, checkpoint advice, the seed's
heuristic beside the model, and a small terminal chart.  Computing happens elsewhere."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from costmodel.compare import Comparison
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
        "red: does not fit GPU memory",
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
            style="bold green" if chosen else ("red" if o.fits_memory is False else None),
        )
    parts: list[RenderableType] = [table]
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
                f"save {p.checkpoint_hours * 60:.1f} min, restart {p.restart_hours * 60:.0f} min."
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
    if cmp.price_source:
        parts.append(Text(f"Prices: {cmp.price_source}", style="dim"))
    return Group(*parts)
