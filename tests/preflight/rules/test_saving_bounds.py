"""Bounds of the PF2xx rules (preflight/rules/saving.py): each threshold at the edge and one step
either side, and the arithmetic of the counts the messages state.

Mutation testing showed the rule cases let ``<`` for ``<=``, a dropped ``+ 1`` or a changed
divisor through: they test one value far from each edge. Every expected number here is derived
in a comment from the spec it comes from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rule_case_harness import make_plan, rule_findings
from saving_findings import findings as run
from saving_findings import messages

from preflight.rules.saving import SKIP_BATCHES_WARN
from preflight.severity import LONG_RUN_HOURS

SM = {"provider": "sagemaker", "instance_type": "ml.g5.xlarge"}
LOCAL = {"provider": "local"}


# --- PF210: the first periodic save after the last step --------------------------------------


def pf210(steps: int, every: int) -> tuple[str, str, str, str]:
    tenth = max(steps // 10, 1)
    # a run of at most 100 optimizer steps is a demo: the engine lowers a "run" finding to info
    # there and says why (preflight/severity.py)
    demo = f" [info on a {steps}-step run: little to lose]" if steps <= 100 else ""
    return (
        "training.save_steps",
        "info" if demo else "warning",
        f"save_steps {every:,} is more than the run's {steps:,} optimizer steps: the only "
        f"checkpoint is the final one{demo}",
        f"Set save_steps to at most {tenth:,} (a tenth of the run).",
    )


@pytest.mark.parametrize(
    ("max_steps", "save_steps", "fires"),
    [
        (800, 799, False),
        (800, 800, False),  # the save at the last step is a periodic one: not "after the end"
        (800, 801, True),
        (12_000, 15_000, True),  # thousands separators in both numbers and the fix (1,200)
        (10, 11, True),  # 10 // 10 = 1
        (9, 10, True),  # 9 // 10 = 0, the fix still says at most 1
        (1999, 2000, True),  # 1999 // 10 = 199 (floor, not round)
    ],
)
def test_pf210_save_steps_against_max_steps(
    tmp_path: Path, max_steps: int, save_steps: int, fires: bool
) -> None:
    got = run("PF210", {"training": {"max_steps": max_steps, "save_steps": save_steps}}, tmp_path)
    assert got == ([pf210(max_steps, save_steps)] if fires else [])


def test_pf210_counts_the_cost_models_steps(tmp_path: Path) -> None:
    """No max_steps: the cost model's step count is the run's length."""
    facts = {"cost": {"total_steps": 450, "hours": 2.0}}
    assert run("PF210", {"training": {"save_steps": 500}}, tmp_path, facts=facts) == [
        pf210(450, 500)
    ]
    assert run("PF210", {"training": {"save_steps": 450}}, tmp_path, facts=facts) == []


def test_pf210_ratio_and_unknown_length(tmp_path: Path) -> None:
    # 0.5 of 800 steps is a save every 400: inside the run
    assert run("PF210", {"training": {"max_steps": 800, "save_steps": 0.5}}, tmp_path) == []
    # no step count at all: nothing to compare with
    assert run("PF210", {"training": {"save_steps": 100_000}}, tmp_path) == []


def one_epoch(epochs: float) -> tuple[str, str, str, str]:
    return (
        "training.save_strategy",
        "warning",
        f'save_strategy "epoch" with num_train_epochs {epochs:g}: the only checkpoint is written '
        "at the very end of the run",
        'Set save_strategy "steps" and save_steps 0.1 (a save every tenth of the run).',
    )


@pytest.mark.parametrize(
    ("training", "expected_epochs"),
    [
        ({"num_train_epochs": 1}, 1),
        ({"num_train_epochs": 0.5}, 0.5),
        ({"num_train_epochs": 1.5}, None),
        ({"num_train_epochs": 2}, None),
        ({}, None),  # Trainer's default: 3 epochs, two saves before the end
        ({"num_train_epochs": 1, "max_steps": -1}, 1),  # -1: no step cap, epochs decide
        ({"num_train_epochs": 1, "max_steps": 0}, 1),  # 0 is no cap either
        ({"num_train_epochs": 1, "max_steps": 1}, None),  # a step cap: epochs no longer decide
        ({"num_train_epochs": 1, "max_steps": 500}, None),
    ],
)
def test_pf210_save_per_epoch(
    tmp_path: Path, training: dict[str, Any], expected_epochs: float | None
) -> None:
    got = run("PF210", {"training": {"save_strategy": "epoch", **training}}, tmp_path)
    assert got == ([] if expected_epochs is None else [one_epoch(expected_epochs)])


@pytest.mark.parametrize(
    ("per_epoch", "fires"),
    [(801, True), (800, False), (799, False), (None, False)],  # None: the data's size unknown
)
def test_pf210_epoch_saves_under_max_steps(
    tmp_path: Path, per_epoch: int | None, fires: bool
) -> None:
    """max_steps 800 with an epoch of 801 steps: Trainer stops before the first epoch ends
    (an epoch of exactly 800 saves at the last step, a periodic save as with save_steps)."""
    training = {"save_strategy": "epoch", "num_train_epochs": 3, "max_steps": 800}
    facts = {"cost": {"total_steps": 800, "steps_per_epoch": per_epoch, "hours": 10.0}}
    got = run("PF210", {"training": training}, tmp_path, facts=facts)
    assert got == (
        [
            (
                "training.save_strategy",
                "warning",
                'save_strategy "epoch" with max_steps 800: an epoch is 801 optimizer steps, so '
                "the run stops before its first epoch save and the only checkpoint is the "
                "final one",
                'Set save_strategy "steps" and save_steps to at most 80 (a tenth of the run).',
            )
        ]
        if fires
        else []
    )


def test_pf210_epoch_fix_never_says_zero_steps(tmp_path: Path) -> None:
    """A 9-step run inside a 10-step epoch: a tenth of it is 9 // 10 = 0, the fix says 1."""
    training = {"save_strategy": "epoch", "max_steps": 9}
    facts = {"cost": {"total_steps": 9, "steps_per_epoch": 10, "hours": 0.1}}
    (got,) = run("PF210", {"training": training}, tmp_path, facts=facts)
    assert got[3] == 'Set save_strategy "steps" and save_steps to at most 1 (a tenth of the run).'


# --- PF211: batches a resume replays -----------------------------------------------------------


def pf211(batches: int) -> list[tuple[str, str, str, str]]:
    return [
        (
            "training.ignore_data_skip",
            "info",
            f"a resume late in an epoch replays up to {batches:,} batches before training "
            "continues (ignore_data_skip is false)",
            "Set ignore_data_skip: true (and shuffle with a new seed on resume), or split the "
            "data into smaller epochs.",
        )
    ]


def test_pf211_threshold_is_the_documented_one() -> None:
    assert SKIP_BATCHES_WARN == 100_000  # the rule's docstring and docs/rules.md say 100,000


@pytest.mark.parametrize(
    ("fragment", "batches"),
    [
        # per_device_train_batch_size defaults to 8: 800,000 // 8 = 100,000, at the threshold
        ({"data": {"num_examples": 800_000}}, 100_000),
        ({"data": {"num_examples": 799_999}}, None),  # 99,999 batches
        ({"data": {"num_examples": 800_007}}, 100_000),  # floor division
        (
            {"data": {"num_examples": 100_000}, "training": {"per_device_train_batch_size": 1}},
            100_000,
        ),
        (
            {"data": {"num_examples": 99_999}, "training": {"per_device_train_batch_size": 1}},
            None,
        ),
        # two instances share an epoch: 200,000 // (1 x 2) = 100,000; one example less: 99,999
        (
            {
                "data": {"num_examples": 200_000},
                "training": {"per_device_train_batch_size": 1},
                "compute": {**SM, "instance_count": 2, "distributed": "ddp"},
            },
            100_000,
        ),
        (
            {
                "data": {"num_examples": 199_999},
                "training": {"per_device_train_batch_size": 1},
                "compute": {**SM, "instance_count": 2, "distributed": "ddp"},
            },
            None,
        ),
        # a run shorter than an epoch replays at most its own batches: steps x accumulation,
        # 6,250 x 16 = 100,000; 6,249 x 16 = 99,984
        (
            {
                "data": {"num_examples": 19_500_000},
                "training": {
                    "per_device_train_batch_size": 1,
                    "gradient_accumulation_steps": 16,
                    "max_steps": 6250,
                },
            },
            100_000,
        ),
        (
            {
                "data": {"num_examples": 19_500_000},
                "training": {
                    "per_device_train_batch_size": 1,
                    "gradient_accumulation_steps": 16,
                    "max_steps": 6249,
                },
            },
            None,
        ),
        # accumulation defaults to 1: 100,000 steps replay at most 100,000 batches
        (
            {
                "data": {"num_examples": 19_500_000},
                "training": {"per_device_train_batch_size": 1, "max_steps": 100_000},
            },
            100_000,
        ),
        (
            {
                "data": {"num_examples": 19_500_000},
                "training": {"per_device_train_batch_size": 1, "max_steps": 99_999},
            },
            None,
        ),
        (
            {
                "data": {"num_examples": 19_500_000},
                "training": {"per_device_train_batch_size": 1, "ignore_data_skip": True},
            },
            None,
        ),
        ({"data": {"train": "s3://b/t.jsonl"}}, None),  # size unknown
    ],
)
def test_pf211_batches_replayed(
    tmp_path: Path, fragment: dict[str, Any], batches: int | None
) -> None:
    assert run("PF211", fragment, tmp_path) == ([] if batches is None else pf211(batches))


def test_pf211_needs_the_data_section(tmp_path: Path) -> None:
    plan = make_plan({"training": {"per_device_train_batch_size": 1}}, tmp_path, facts={})
    got = rule_findings("PF211", plan)
    assert [f.message.startswith("not checked:") for f in got] == [True]


# --- PF213: how many checkpoints a long run writes and keeps ---------------------------------


def pf213(
    count: int,
    counted: str,
    limit: int,
    kept: str,
    deleted: int,
    where: str = "on disk",
    cost: str = "",
) -> list[tuple[str, str, str, str]]:
    return [
        (
            "training.save_total_limit",
            "warning",
            f"the run writes {count:,} checkpoints {counted}; save_total_limit {limit} keeps "
            f"{kept} and deletes {deleted:,} {where}{cost}",
            "Set save_total_limit: null (keep every checkpoint; save less often if disk is "
            "short), or a limit that covers the whole run.",
        )
    ]


def long_local(steps: int, every: int, limit: int, hours: float = 48.0, **training: Any) -> Any:
    fragment = {
        "training": {
            "max_steps": steps,
            "save_steps": every,
            "save_total_limit": limit,
            **training,
        },
        "compute": LOCAL,
    }
    return fragment, {"cost": {"hours": hours, "total_steps": steps}}


@pytest.mark.parametrize(
    ("steps", "every", "limit", "expected"),
    [
        # 100,000 / 1,000 = 100 saves exactly (the last is the final one): 98 deleted
        (
            100_000,
            1000,
            2,
            (100, "over its 100,000 steps, one every 1,000", "the 2 newest checkpoints", 98),
        ),
        # 100,500 steps: 100 periodic saves and the forced final one at step 100,500
        (
            100_500,
            1000,
            2,
            (101, "over its 100,500 steps, one every 1,000", "the 2 newest checkpoints", 99),
        ),
        # limit 1, no best model: the newest only (PF202 is silent locally without best)
        (
            100_000,
            1000,
            1,
            (100, "over its 100,000 steps, one every 1,000", "the newest checkpoint", 99),
        ),
        (2000, 1000, 2, None),  # 2 written, 2 kept: nothing deleted
        (
            2001,
            1000,
            2,
            (3, "over its 2,001 steps, one every 1,000", "the 2 newest checkpoints", 1),
        ),
        (3000, 1000, 3, None),
        (
            3000,
            1000,
            2,
            (3, "over its 3,000 steps, one every 1,000", "the 2 newest checkpoints", 1),
        ),
    ],
)
def test_pf213_counts_on_a_long_local_run(
    tmp_path: Path, steps: int, every: int, limit: int, expected: Any
) -> None:
    fragment, facts = long_local(steps, every, limit)
    got = run("PF213", fragment, tmp_path, facts=facts)
    assert got == (
        [] if expected is None else pf213(expected[0], expected[1], limit, *expected[2:])
    )


@pytest.mark.parametrize(
    ("limit", "kept", "deleted"),
    [
        (2, "the best and the newest checkpoint", 98),  # best + 1 newest = 2 kept of 100
        (3, "the best and the 2 newest checkpoints", 97),
        (5, "the best and the 4 newest checkpoints", 95),
    ],
)
def test_pf213_best_model_takes_a_slot(tmp_path: Path, limit: int, kept: str, deleted: int) -> None:
    fragment, facts = long_local(
        100_000, 1000, limit, load_best_model_at_end=True, eval_strategy="steps", eval_steps=500
    )
    got = run("PF213", fragment, tmp_path, facts=facts)
    assert got == pf213(100, "over its 100,000 steps, one every 1,000", limit, kept, deleted)


@pytest.mark.parametrize(
    ("hours", "fires"),
    [(LONG_RUN_HOURS, True), (LONG_RUN_HOURS - 0.1, False), (LONG_RUN_HOURS + 0.1, True)],
)
def test_pf213_long_run_bound(tmp_path: Path, hours: float, fires: bool) -> None:
    """An expected 24 h or more is a long run; below it rotation to save disk is a choice."""
    fragment, facts = long_local(100_000, 1000, 2, hours=hours)
    got = run("PF213", fragment, tmp_path, facts=facts)
    want = pf213(100, "over its 100,000 steps, one every 1,000", 2, "the 2 newest checkpoints", 98)
    assert got == (want if fires else [])


def test_pf213_cost_of_keeping_all(tmp_path: Path) -> None:
    """With parameter counts the message says what keeping every checkpoint takes."""
    fragment, facts = long_local(100_000, 1000, 2)
    # a full fine-tune of 1e9 float32 weights (no model section: float32) with AdamW's two fp32
    # moments: 4 + 8 = 12 bytes a parameter, 12.00 GB a checkpoint, 1,200.0 GB for all 100
    facts["memory"] = {"total_params": 10**9, "trainable_params": 10**9}
    got = run("PF213", fragment, tmp_path, facts=facts)
    assert got == pf213(
        100,
        "over its 100,000 steps, one every 1,000",
        2,
        "the 2 newest checkpoints",
        98,
        cost="; keeping all 100 takes ~1,200.0 GB (~12.00 GB each) on disk and as much in S3",
    )


def sagemaker_run(
    hours: float, max_run: float, steps: int, every: int, limit: int, **compute: Any
) -> Any:
    fragment = {
        "training": {
            "output_dir": "/opt/ml/checkpoints",
            "save_steps": every,
            "save_total_limit": limit,
        },
        "compute": {**SM, "max_run_hours": max_run, **compute},
    }
    return fragment, {"cost": {"hours": hours, "total_steps": steps}}


@pytest.mark.parametrize(
    ("hours", "max_run", "steps", "expected"),
    [
        # MaxRuntime 24 h of an expected 48 h: int(100,000 x 24 / 48) = 50,000 steps reached,
        # 50 saves written; 100 if it ran to the end
        (
            48,
            24,
            100_000,
            (50, "before MaxRuntime stops it at 24 h (100 if it ran to its 100,000 steps)", 48),
        ),
        # 100,500 steps: 50,250 reached, 50 saves; 101 in full (the final save at 100,500)
        (
            48,
            24,
            100_500,
            (50, "before MaxRuntime stops it at 24 h (101 if it ran to its 100,500 steps)", 48),
        ),
        # 72 h allowed of an expected 96: 75,000 steps reached, 75 saves
        (
            96,
            72,
            100_000,
            (75, "before MaxRuntime stops it at 72 h (100 if it ran to its 100,000 steps)", 73),
        ),
        # the expected duration equals MaxRuntime: it finishes, every save counts
        (48, 48, 100_000, (100, "over its 100,000 steps, one every 1,000", 98)),
    ],
)
def test_pf213_counts_only_saves_before_max_runtime(
    tmp_path: Path, hours: float, max_run: float, steps: int, expected: Any
) -> None:
    fragment, facts = sagemaker_run(hours, max_run, steps, 1000, 2)
    got = run("PF213", fragment, tmp_path, facts=facts)
    count, counted, deleted = expected
    assert got == pf213(
        count, counted, 2, "the 2 newest checkpoints", deleted, where="on the instance"
    )


def test_pf213_says_s3_loses_them_too(tmp_path: Path) -> None:
    fragment, facts = sagemaker_run(48, 48, 100_000, 1000, 2, checkpoint_s3_uri="s3://b/ckpt")
    got = run("PF213", fragment, tmp_path, facts=facts)
    assert got == pf213(
        100,
        "over its 100,000 steps, one every 1,000",
        2,
        "the 2 newest checkpoints",
        98,
        where="on the instance and in S3 (the checkpoint sync mirrors deletions)",
    )


def unknown_length(limit: int, kept: str, first: int, reason: str, where: str) -> str:
    return (
        f"save_total_limit {limit} keeps only {kept}, and this is {reason} whose length in steps "
        f"is not known here: every save after the first {first} deletes the oldest {where}, for "
        "good"
    )


@pytest.mark.parametrize(
    ("compute", "training", "expected"),
    [
        (
            {**SM, "max_run_hours": 24},
            {"save_total_limit": 3},
            unknown_length(
                3,
                "the 3 newest checkpoints",
                3,
                "a job with a MaxRuntime of 24 h",
                "on the instance",
            ),
        ),
        (
            {**SM, "max_run_hours": 168, "checkpoint_s3_uri": "s3://b/c"},
            {"save_total_limit": 3, "load_best_model_at_end": True, "eval_strategy": "steps"},
            unknown_length(
                3,
                "the best and the 2 newest checkpoints",
                3,
                "a job with a MaxRuntime of 168 h",
                "on the instance and in S3 (the checkpoint sync mirrors deletions)",
            ),
        ),
        # best with limit 2: rotation keeps max(2, ...) = the best and the newest
        (
            {**SM, "max_run_hours": 24},
            {"save_total_limit": 2, "load_best_model_at_end": True, "eval_strategy": "steps"},
            unknown_length(
                2,
                "the best and the newest checkpoint",
                2,
                "a job with a MaxRuntime of 24 h",
                "on the instance",
            ),
        ),
        ({**SM, "max_run_hours": 23.9}, {"save_total_limit": 3}, None),  # not a day: not long
        ({**SM, "max_run_hours": 0.5}, {"save_total_limit": 3}, None),  # a demo
        (LOCAL, {"save_total_limit": 3}, None),  # local and of unknown length: no reason to stop
        ({**SM, "max_run_hours": 24}, {"save_total_limit": 0}, None),  # 0 keeps every checkpoint
        ({**SM, "max_run_hours": 24}, {"save_total_limit": None}, None),
        ({**SM, "max_run_hours": 24}, {"save_total_limit": 3, "save_strategy": "no"}, None),
        (
            {**SM, "max_run_hours": 24},
            {"save_total_limit": 3, "save_strategy": "best", "eval_strategy": "steps"},
            None,  # saves only on a new best: rotation keeps the best, nothing counted here
        ),
    ],
)
def test_pf213_length_unknown(
    tmp_path: Path, compute: dict[str, Any], training: dict[str, Any], expected: str | None
) -> None:
    got = messages("PF213", {"training": training, "compute": compute}, tmp_path)
    assert got == ([] if expected is None else [expected])


def test_pf213_ignores_a_bool_limit(tmp_path: Path) -> None:
    """True == 1 in Python: a reader's ``save_total_limit=True`` is not a limit of one."""
    fragment = {"training": {"save_total_limit": 3}, "compute": {**SM, "max_run_hours": 24}}
    assert messages("PF213", fragment, tmp_path, values={"save_total_limit": True}) == []


# --- PF202: the limit of one ------------------------------------------------------------------


def test_pf202_ignores_a_bool_limit(tmp_path: Path) -> None:
    fragment = {
        "training": {"output_dir": "/opt/ml/checkpoints", "save_total_limit": 2},
        "compute": {**SM, "checkpoint_s3_uri": "s3://b/c"},
    }
    assert messages("PF202", fragment, tmp_path, values={"save_total_limit": True}) == []
    assert len(messages("PF202", fragment, tmp_path, values={"save_total_limit": 1})) == 1


# --- PF208: where a resume path is restored from --------------------------------------------


@pytest.mark.parametrize(
    ("value", "fires"),
    [
        ("/opt/ml/checkpoints", False),  # the directory itself
        ("/opt/ml/checkpoints/checkpoint-1000", False),
        ("/opt/ml/checkpoints-old/checkpoint-1000", True),  # a sibling with the same prefix
        ("/opt/ml/input/data", False),  # the channels' root
        ("/opt/ml/input/data/train/ckpt", False),
        ("/opt/ml/input/data2/ckpt", True),
        ("/opt/ml/input/config/ckpt", True),
        ("true", False),  # the string forms of the boolean: the latest checkpoint in output_dir
        ("True", False),
        ("FALSE", False),
        ("", False),
    ],
)
def test_pf208_sagemaker_paths(tmp_path: Path, value: str, fires: bool) -> None:
    fragment = {
        "training": {"output_dir": "/opt/ml/checkpoints", "resume_from_checkpoint": value},
        "compute": SM,
    }
    want = (
        [
            f"`{value}` is outside `/opt/ml/checkpoints`, the only directory SageMaker restores "
            "from S3 when a job (re)starts"
        ]
        if fires
        else []
    )
    assert messages("PF208", fragment, tmp_path) == want


@pytest.mark.parametrize("value", ["true", "False", ""])
def test_pf208_local_boolean_strings_are_not_paths(tmp_path: Path, value: str) -> None:
    fragment = {"training": {"resume_from_checkpoint": value}, "compute": LOCAL}
    assert messages("PF208", fragment, tmp_path) == []


def test_pf208_local_relative_path_that_exists(tmp_path: Path) -> None:
    fragment = {"training": {"resume_from_checkpoint": "runs/old/checkpoint-9"}, "compute": LOCAL}
    assert messages("PF208", fragment, tmp_path, dirs=["runs/old/checkpoint-9"]) == []


def test_pf208_non_string_value_is_left_alone(tmp_path: Path) -> None:
    """A reader may record ``resume_from_checkpoint=True``: Trainer's "latest", not a path."""
    fragment = {"training": {"output_dir": "/opt/ml/checkpoints"}, "compute": SM}
    assert messages("PF208", fragment, tmp_path, values={"resume_from_checkpoint": True}) == []


# --- PF209: a partial source that says nothing about data ------------------------------------


def test_pf209_partial_source_without_data_is_unknown(tmp_path: Path) -> None:
    fragment = {"data": {"train": "s3://b/t.jsonl"}, "training": {"eval_strategy": "steps"}}
    assert messages("PF209", fragment, tmp_path, stated=["training.eval_strategy"]) == []
    got = messages("PF209", fragment, tmp_path, stated=["training.eval_strategy", "data.train"])
    assert got == [
        'eval_strategy "steps" but data.eval is not set: Trainer raises a ValueError without an '
        "eval_dataset"
    ]


def test_pf209_does_not_apply_without_evaluation(tmp_path: Path) -> None:
    """No evaluation: the rule does not apply, so a missing data section is not 'not checked'."""
    plan = make_plan({"training": {}}, tmp_path, facts={})
    assert rule_findings("PF209", plan) == []
    plan = make_plan({"training": {"eval_strategy": "steps"}}, tmp_path, facts={})
    assert [f.message.startswith("not checked:") for f in rule_findings("PF209", plan)] == [True]


# --- values a script states as None read as Trainer's default (training_value's contract) ----


def test_pf204_none_save_steps_reads_as_500(tmp_path: Path) -> None:
    training = {"load_best_model_at_end": True, "eval_strategy": "steps", "eval_steps": 300}
    got = run("PF204", {"training": training}, tmp_path, values={"save_steps": None})
    # 500 / 300 = 1.67: not a multiple; the nearest multiple is round(1.67) = 2 x 300 = 600
    assert [(m, fix) for _, _, m, fix in got] == [
        (
            "save_steps 500 is not a multiple of eval_steps 300 (ValueError at start with "
            "load_best_model_at_end)",
            "Set save_steps to a multiple of 300, e.g. 600.",
        )
    ]


def test_pf204_none_logging_steps_reads_as_500(tmp_path: Path) -> None:
    """eval_steps unset falls back to logging_steps, itself 500 when a script passes None."""
    training = {"load_best_model_at_end": True, "eval_strategy": "steps", "save_steps": 700}
    got = run("PF204", {"training": training}, tmp_path, values={"logging_steps": None})
    assert [m for _, _, m, _ in got] == [
        "save_steps 700 is not a multiple of eval_steps 500 (ValueError at start with "
        "load_best_model_at_end)"
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"save_steps": "every_epoch"}, []),  # not a number: nothing to compare, no crash
        ({"eval_steps": "often"}, []),
        ({"save_steps": 500, "eval_steps": 500}, []),  # 500 / 500 = 1: a multiple
        ({"save_steps": 0.2, "eval_steps": 0.1}, []),  # 2.0000000000000004: a multiple
        ({"save_steps": 1500, "eval_steps": 500}, []),
    ],
)
def test_pf204_multiples_and_non_numbers(
    tmp_path: Path, values: dict[str, Any], expected: list[str]
) -> None:
    training = {"load_best_model_at_end": True, "eval_strategy": "steps"}
    assert messages("PF204", {"training": training}, tmp_path, values=values) == expected


def test_pf210_none_max_steps_is_no_step_cap(tmp_path: Path) -> None:
    fragment = {"training": {"save_strategy": "epoch", "num_train_epochs": 1}}
    assert run("PF210", fragment, tmp_path, values={"max_steps": None}) == [one_epoch(1)]


def test_pf210_none_epochs_reads_as_three(tmp_path: Path) -> None:
    fragment = {"training": {"save_strategy": "epoch"}}
    assert run("PF210", fragment, tmp_path, values={"num_train_epochs": None}) == []


@pytest.mark.parametrize(
    ("fragment", "values", "batches"),
    [
        # batch None reads as 8: 800,000 // 8 = 100,000
        ({"data": {"num_examples": 800_000}}, {"per_device_train_batch_size": None}, 100_000),
        # accumulation None reads as 1: 100,000 steps x 1 = 100,000 (not 19,500,000 // 8)
        (
            {"data": {"num_examples": 19_500_000}, "training": {"max_steps": 100_000}},
            {"gradient_accumulation_steps": None},
            100_000,
        ),
    ],
)
def test_pf211_none_values_read_as_trainer_defaults(
    tmp_path: Path, fragment: dict[str, Any], values: dict[str, Any], batches: int
) -> None:
    assert run("PF211", fragment, tmp_path, values=values) == pf211(batches)


def test_pf212_none_hub_strategy_reads_as_every_save(tmp_path: Path) -> None:
    fragment = {"training": {"push_to_hub": True}, "compute": SM}
    assert messages("PF212", fragment, tmp_path, values={"hub_strategy": None}) == [
        'hub_strategy "every_save" pushes weights without optimizer state, and this is a job '
        "with a MaxRuntime of 24 h with no S3 checkpoint sync"
    ]


# --- PF213 edges not reached above ------------------------------------------------------------


def test_pf213_max_runtime_under_an_hour(tmp_path: Path) -> None:
    """MaxRuntime 0.5 h of an expected 48 h run: int(100,000 x 0.5 / 48) = 1,041 steps are
    reached, 10 saves of every 100; 1,000 in full."""
    fragment, facts = sagemaker_run(48, 0.5, 100_000, 100, 2)
    got = run("PF213", fragment, tmp_path, facts=facts)
    assert got == pf213(
        10,
        "before MaxRuntime stops it at 0.5 h (1,000 if it ran to its 100,000 steps)",
        2,
        "the 2 newest checkpoints",
        8,
        where="on the instance",
    )


def test_pf213_training_script_without_launch_code(tmp_path: Path) -> None:
    """A script writing under /opt/ml with no compute section: SageMaker's default MaxRuntime of
    a day makes it a possible long run."""
    fragment = {"training": {"output_dir": "/opt/ml/checkpoints", "save_total_limit": 3}}
    got = messages(
        "PF213", fragment, tmp_path, stated=["training.output_dir", "training.save_total_limit"]
    )
    assert got == [
        unknown_length(
            3,
            "the 3 newest checkpoints",
            3,
            "a SageMaker job (MaxRuntime, 1 day by default)",
            "on the instance",
        )
    ]


def test_pf213_unusable_save_steps_on_a_long_run(tmp_path: Path) -> None:
    """A script's save_steps=0 gives no save count: PF213 says nothing rather than guess."""
    fragment, facts = sagemaker_run(48, 24, 100_000, 1000, 2)
    assert run("PF213", fragment, tmp_path, facts=facts, values={"save_steps": 0}) == []


def test_pf213_best_model_with_limit_one_on_its_own(tmp_path: Path) -> None:
    """Limit 1 with best tracking keeps two (rotation never deletes the best): what PF213 says
    where PF202 does not run. In a full check PF202 states it on the same key and this is
    dropped (covered_by), so the check is called directly here."""
    from preflight.rules.saving import RetentionDeletesLongRun

    fragment, facts = long_local(
        100_000, 1000, 1, load_best_model_at_end=True, eval_strategy="steps", eval_steps=500
    )
    plan = make_plan(fragment, tmp_path, facts=facts)
    got = [f.message for f in RetentionDeletesLongRun().check(plan)]
    assert got == [
        "the run writes 100 checkpoints over its 100,000 steps, one every 1,000; "
        "save_total_limit 1 keeps the best and the newest checkpoint and deletes 98 on disk"
    ]
