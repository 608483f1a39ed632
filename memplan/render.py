"""Rich rendering of a MemoryPlan: the breakdown against the GPU's capacity, with a bar.

Kept apart from the engines: nothing here computes a byte, and rich is imported lazily so that
importing memplan stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memplan.constants import GIB

if TYPE_CHECKING:
    from memplan.plan import MemoryPlan
    from memplan.suggest import Suggestion
    from memplan.trace import TraceResult

BAR_WIDTH = 40
_LABELS = {
    "weights": "weights",
    "gradients": "gradients",
    "optimizer": "optimizer state",
    "activations": "activations",
    "logits_and_loss": "logits and loss",
    "recompute": "recomputed layer",
    "allocator_and_workspace": "allocator + cuBLAS",
    "cuda_context": "CUDA context",
}


def _bar(used: float, capacity: float, width: int = BAR_WIDTH) -> str:
    if capacity <= 0:
        return ""
    filled = min(width, round(width * used / capacity))
    over = used > capacity
    colour = "red" if over else ("yellow" if used > 0.9 * capacity else "green")
    return f"[{colour}]" + "█" * filled + "[/]" + "░" * (width - filled)


def plan_table(plan: MemoryPlan, title: str, headroom: float | None = None) -> Any:
    """A rich Table of the breakdown, the peak, the capacity and the verdict."""
    from rich.table import Table

    cap = plan.capacity_gib
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("component")
    table.add_column("GiB", justify="right")
    table.add_column("share", justify="right")
    table.add_column("" if cap is None else f"of {cap:.2f} GiB", no_wrap=True)
    for key, value in sorted(plan.breakdown.items(), key=lambda kv: -kv[1]):
        gib = value / GIB
        share = f"{100 * value / plan.peak_bytes:.0f}%" if plan.peak_bytes else ""
        table.add_row(_LABELS.get(key, key), f"{gib:.2f}", share, _bar(gib, cap or 0.0))
    table.add_section()
    table.add_row(
        f"[bold]peak ({plan.peak_phase})[/]",
        f"[bold]{plan.peak_gib:.2f}[/]",
        "",
        _bar(plan.peak_gib, cap or 0.0),
    )
    return table


def verdict(plan: MemoryPlan, headroom: float | None = None) -> str:
    """One line: fits / does not fit, with the margin (memplan.verdict.judge decides)."""
    from memplan.verdict import judge

    v = judge(plan, headroom=headroom)
    cap = v.capacity_gib
    if v.fits is None or cap is None:
        return (
            "[yellow]capacity unknown[/]: name compute.instance_type, compute.gpu_memory_gib "
            "or --gpu to get a verdict"
        )
    free = cap - v.peak_gib
    share = v.free_share or 0.0
    if v.peak_gib > cap:
        return f"[bold red]does not fit[/]: {-free:.2f} GiB over the {cap:.2f} GiB of the GPU"
    if not v.fits:
        return (
            f"[bold red]does not fit with {v.headroom:.0%} headroom[/]: only {free:.2f} GiB "
            f"({share:.1%}) of {cap:.2f} GiB would stay free"
        )
    if v.tight:
        return (
            f"[bold yellow]fits, tight[/]: {free:.2f} GiB ({share:.1%}) of {cap:.2f} GiB stays "
            f"free (under {v.comfort:.0%})"
        )
    return f"[bold green]fits[/]: {free:.2f} GiB ({share:.1%}) of {cap:.2f} GiB stays free"


def trace_table(result: TraceResult, analytic: MemoryPlan) -> Any:
    """Traced vs analytic tensor memory, per phase."""
    from rich.table import Table

    table = Table(title="traced step (FakeTensorMode) vs analytic", title_justify="left")
    table.add_column("phase")
    table.add_column("traced GiB", justify="right")
    table.add_column("analytic GiB", justify="right")
    table.add_column("difference", justify="right")
    for phase, traced in result.phase_peaks.items():
        ana = analytic.phase_peaks.get(phase, 0)
        diff = f"{100 * (ana - traced) / traced:+.1f}%" if traced else ""
        table.add_row(phase, f"{traced / GIB:.2f}", f"{ana / GIB:.2f}", diff)
    return table


def suggestions_table(found: list[Suggestion], headroom: float | None = None) -> Any:
    """The best settings that fit, with what changes and the peak of each."""
    from rich.table import Table

    table = Table(
        title=(
            "settings that fit memplan's headroom rule (best first)"
            if headroom is None
            else f"settings that fit with {headroom:.0%} headroom (best first)"
        ),
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("change")
    table.add_column("peak GiB", justify="right")
    table.add_column("rel. speed", justify="right")
    for n, s in enumerate(found, 1):
        change = "; ".join(s.changes) or "(as is)"
        table.add_row(str(n), change, f"{s.plan.peak_gib:.2f}", f"{s.relative_speed:.2f}")
    return table
