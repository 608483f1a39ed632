"""The rich report, the terminal chart and the PNG."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from costmodel import SpotParams, Workload, compare
from costmodel.curves import cost_vs_interval, cost_vs_mtbf
from costmodel.plot import plot_curves
from costmodel.render import render_comparison, terminal_chart

SMALL = Workload(
    params_total=7_241_732_096,
    params_trainable=6_815_744,
    num_layers=32,
    hidden_size=4096,
    tokens_per_example=64,
    num_examples=1_000_000,
    grad_accum=16,
    gradient_checkpointing=True,
)
PARAMS = SpotParams(41.0, 1 / 60, 0.5)


def test_interval_curve_has_its_minimum_near_the_optimum() -> None:
    curve = cost_vs_interval(100.0, PARAMS, 0.58, 1.41, n=15, runs=2_000)
    best = min(curve.points, key=lambda p: p.spot_expected_usd)
    assert curve.marker is not None
    assert 0.5 < best.x / curve.marker < 2.0
    # On-demand is flat up to the checkpoint overhead and above spot everywhere here.
    assert all(p.on_demand_usd > p.spot_p90_usd for p in curve.points)


def test_mtbf_curve_falls_as_interruptions_get_rarer() -> None:
    curve = cost_vs_mtbf(100.0, PARAMS, 0.58, 1.41, n=8, runs=2_000)
    costs = [p.spot_expected_usd for p in curve.points]
    assert costs == sorted(costs, reverse=True)


def test_rich_report_and_chart() -> None:
    cmp = compare(SMALL, ["ml.g5.xlarge"], runs=2_000, budget_usd=100.0, deadline_hours=100.0)
    curve = cost_vs_interval(
        cmp.durations["ml.g5.xlarge"].hours, PARAMS, 0.58, 1.41, n=9, runs=1_000
    )
    console = Console(record=True, width=160)
    console.print(render_comparison(cmp, curve))
    text = console.export_text()
    assert "ml.g5.xlarge" in text and "spot" in text and "on-demand" in text
    assert "Seed heuristic" in text and "Recommendation" in text
    assert "◀ optimum" in terminal_chart(curve).plain


def test_png_is_written_and_never_overwritten_silently(tmp_path: Path) -> None:
    a = cost_vs_interval(50.0, PARAMS, 0.58, 1.41, n=6, runs=500)
    b = cost_vs_mtbf(50.0, PARAMS, 0.58, 1.41, n=6, runs=500)
    out = plot_curves(a, b, tmp_path / "cost.png", title="test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mine = tmp_path / "notes.txt"
    mine.write_text("keep me")
    with pytest.raises(FileExistsError):
        plot_curves(a, b, mine)
    assert mine.read_text() == "keep me"
    plot_curves(a, b, out, overwrite=True)
