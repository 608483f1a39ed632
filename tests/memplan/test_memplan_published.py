"""memplan's verdict against published measurements (benchmarks/memplan/published.json).

No configuration a published run saw go out of memory may be called a fit, and no published
maximum context may be exceeded by the longest context memplan accepts. The committed table
(published.md) must be what the script computes from the committed rows. Analytic only: fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "memplan"
sys.path.insert(0, str(BENCH))

import published  # noqa: E402

CONFIGS, ROWS = published.load_rows()


def test_at_least_30_rows_each_with_source_and_metric() -> None:
    assert len(ROWS) >= 30
    for row in ROWS:
        assert row["source"] and row["metric"] in (
            "reserved",
            "allocated",
            "nvidia-smi",
            "max-context",
            "oom",
        )
        if row["outcome"] == "unmodelled":
            assert row.get("cannot_match")


@pytest.mark.parametrize("row", [r for r in ROWS if r["outcome"] == "oom"], ids=lambda r: r["id"])
def test_no_published_oom_is_called_a_fit(row: dict) -> None:  # type: ignore[type-arg]
    result = published.evaluate(row, CONFIGS)
    assert result["fits"] is False


@pytest.mark.parametrize("row", [r for r in ROWS if r["outcome"] == "fit"], ids=lambda r: r["id"])
def test_no_published_maximum_context_is_exceeded(row: dict) -> None:  # type: ignore[type-arg]
    assert published.max_fitting_length(row, CONFIGS) <= row["setup"]["seq_len"]


def test_committed_table_is_fresh() -> None:
    assert (BENCH / "published.md").read_text(encoding="utf-8") == published.render()
