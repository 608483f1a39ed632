"""Edge cases of PF204 (load_best_model_at_end schedules), with whole messages and fixes:
mutation testing showed the substring cases let changed bounds and defaults through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rule_case_harness import fired, make_plan, rule_findings

VALUE_ERROR = "(ValueError at start with load_best_model_at_end)"


def pf204(tmp_path: Path, training: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    plan = make_plan({"training": {"load_best_model_at_end": True, **training}}, tmp_path, facts={})
    return [(f.field, f.message, f.fix) for f in fired(rule_findings("PF204", plan))]


@pytest.mark.parametrize(
    ("training", "expected"),
    [
        (
            {"eval_strategy": "epoch", "save_strategy": "steps"},
            [
                (
                    "training.eval_strategy",
                    'load_best_model_at_end needs eval_strategy == save_strategy, got "epoch" '
                    'and "steps" (ValueError at start)',
                )
            ],
        ),
        (
            {"eval_strategy": "steps", "eval_steps": 300, "save_steps": 1000},
            [
                (
                    "training.save_steps",
                    f"save_steps 1000 is not a multiple of eval_steps 300 {VALUE_ERROR}",
                    "Set save_steps to a multiple of 300, e.g. 900.",
                )
            ],
        ),
        (
            {"eval_strategy": "steps", "eval_steps": 300, "save_steps": 100},
            [
                (
                    "training.save_steps",
                    f"save_steps 100 is not a multiple of eval_steps 300 {VALUE_ERROR}",
                    "Set save_steps to a multiple of 300, e.g. 300.",
                )
            ],
        ),
        (
            {"eval_strategy": "steps", "save_steps": 700},  # eval_steps falls back to logging 500
            [
                (
                    "training.save_steps",
                    f"save_steps 700 is not a multiple of eval_steps 500 {VALUE_ERROR}",
                    "Set save_steps to a multiple of 500, e.g. 500.",
                )
            ],
        ),
        (
            {"eval_strategy": "steps", "eval_steps": 1, "save_steps": 0.5},
            [
                (
                    "training.save_steps",
                    f"save_steps 0.5 and eval_steps 1 mix a ratio and a step count {VALUE_ERROR}",
                )
            ],
        ),
        ({"eval_strategy": "steps", "eval_steps": 500, "save_steps": 500}, []),
        ({"eval_strategy": "steps", "eval_steps": 2, "save_steps": 2}, []),
        ({"eval_strategy": "steps", "eval_steps": 0.1, "save_steps": 0.2}, []),
        (
            {"eval_strategy": "steps", "eval_steps": 0.5, "save_steps": 1},  # 1 is one step
            [
                (
                    "training.save_steps",
                    f"save_steps 1 and eval_steps 0.5 mix a ratio and a step count {VALUE_ERROR}",
                )
            ],
        ),
        ({"eval_strategy": "steps", "eval_steps": 0, "save_steps": 700}, []),
        ({"eval_strategy": "steps", "eval_steps": 300, "save_steps": 0}, []),
        ({"eval_strategy": "epoch", "save_strategy": "epoch"}, []),
        ({"eval_strategy": "no", "save_strategy": "steps"}, []),
        ({"eval_strategy": "steps", "save_strategy": "best", "eval_steps": 7}, []),
    ],
)
def test_pf204(tmp_path: Path, training: dict[str, Any], expected: list[tuple[str, ...]]) -> None:
    got = pf204(tmp_path, training)
    assert [g[: len(e)] for g, e in zip(got, expected, strict=False)] == expected
    assert len(got) == len(expected)
    for (_, _, fix), want in zip(got, expected, strict=True):
        if len(want) == 2:  # the rule's own fix text
            assert fix.startswith("Use the same eval_strategy and save_strategy"), fix
