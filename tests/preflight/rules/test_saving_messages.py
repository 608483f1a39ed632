"""Whole findings of the PF2xx rules (preflight/rules/saving.py): key, severity, message, fix.

The rule cases (rule_cases/PF2*.yaml) match a substring of each message, so mutation testing let
changed words, dropped clauses and swapped branches through. The message and the fix are what a
user reads and acts on: here each branch of each rule is asserted as a whole. Numbers in the
messages are derived from the spec in the comment next to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from saving_findings import Found, findings, outcome, plan_of

SM = {"provider": "sagemaker", "instance_type": "ml.g5.xlarge"}
SYNCED = {**SM, "checkpoint_s3_uri": "s3://b/ckpt"}
SPOT = {**SM, "spot": True, "max_wait_hours": 30, "checkpoint_s3_uri": "s3://b/c"}
LOCAL = {"provider": "local"}

F201 = "Set training.save_strategy: steps with a save_steps the run reaches."
F202 = "Set save_total_limit to at least 2, or leave it unset."
F203 = "Set training.eval_strategy (and eval_steps), or use save_strategy: steps."
F205 = (
    "Set load_best_model_at_end: false and pick the best checkpoint afterwards from "
    "trainer_state.json's log_history."
)
F206 = "Set save_only_model: false on jobs that may resume."
F207 = "Set training.enable_jit_checkpoint: true (transformers >= 5), or launch with trainjob."
F208 = (
    "Point resume_from_checkpoint inside the synced checkpoint directory (or an input channel "
    "holding the checkpoint), or remove it."
)
F209 = "Set data.eval, or eval_strategy: no."
F211 = (
    "Set ignore_data_skip: true (and shuffle with a new seed on resume), or split the data into "
    "smaller epochs."
)
F212 = "Use hub_strategy: checkpoint with hub_always_push: true, or sync checkpoints to S3."
F213 = (
    "Set save_total_limit: null (keep every checkpoint; save less often if disk is short), or a "
    "limit that covers the whole run."
)

PF202_SYNCED = (
    "save_total_limit 1 with checkpoints synced to S3: rotation deletes the previous checkpoint "
    "(in S3 too) as soon as the new one is written, while the new one is still uploading; a stop "
    "in that window leaves S3 with no complete checkpoint to resume from"
)
LIMIT_24H = "a job with a MaxRuntime of 24 h"  # compute.max_run_hours' default, stated by a spec
NO_SIGTERM = (
    "nothing saves on SIGTERM: work since the last checkpoint is lost when it is stopped "
    "(trainjob run adds a SIGTERM save)"
)

CASES: list[Any] = [
    # --- PF201 -----------------------------------------------------------------------------
    pytest.param(
        "PF201",
        {"training": {"save_strategy": "no"}},
        {},
        [
            (
                "training.save_strategy",
                "error",
                'save_strategy is "no": a stop, timeout or crash loses the whole run',
                F201,
            )
        ],
        id="PF201-no",
    ),
    pytest.param("PF201", {"training": {"save_strategy": "epoch"}}, {}, [], id="PF201-epoch"),
    # --- PF202 -----------------------------------------------------------------------------
    pytest.param(
        "PF202",
        {
            "training": {"output_dir": "/opt/ml/checkpoints", "save_total_limit": 1},
            "compute": SYNCED,
        },
        {},
        [("training.save_total_limit", "warning", PF202_SYNCED, F202)],
        id="PF202-synced",
    ),
    pytest.param(
        "PF202",
        {
            "training": {
                "output_dir": "/opt/ml/checkpoints",
                "save_total_limit": 1,
                "load_best_model_at_end": True,
                "eval_strategy": "steps",
            },
            "compute": SYNCED,
        },
        {},
        [
            (
                "training.save_total_limit",
                "warning",
                PF202_SYNCED
                + "; and at a clean finish Trainer deletes every checkpoint but the best",
                F202,
            )
        ],
        id="PF202-synced-best",
    ),
    pytest.param(
        "PF202",
        {
            "training": {
                "save_total_limit": 1,
                "load_best_model_at_end": True,
                "eval_strategy": "steps",
            }
        },
        {},
        [
            (
                "training.save_total_limit",
                "info",
                "save_total_limit 1 with load_best_model_at_end: at a clean finish Trainer "
                "deletes every checkpoint except the best, the latest included, so the run "
                "cannot be continued from its last step",
                F202,
            )
        ],
        id="PF202-local-best",
    ),
    pytest.param(
        "PF202",
        {
            "training": {"output_dir": "/opt/ml/checkpoints", "save_total_limit": 2},
            "compute": SYNCED,
        },
        {},
        [],
        id="PF202-limit-2",
    ),
    pytest.param(
        "PF202",
        {
            "training": {"output_dir": "/opt/ml/checkpoints", "save_total_limit": 0},
            "compute": SYNCED,
        },
        {},
        [],
        id="PF202-limit-0",
    ),
    pytest.param(
        "PF202",
        {"training": {"output_dir": "./out", "save_total_limit": 1}, "compute": LOCAL},
        {},
        [],
        id="PF202-local-no-best",
    ),
    pytest.param(
        "PF202",
        {
            "training": {
                "output_dir": "/opt/ml/checkpoints",
                "save_total_limit": 1,
                "save_strategy": "best",
            },
            "compute": SYNCED,
        },
        {},
        [],  # "best" without evaluation never saves (PF203): nothing to rotate
        id="PF202-never-saves",
    ),
    # --- PF203 -----------------------------------------------------------------------------
    pytest.param(
        "PF203",
        {"training": {"save_strategy": "best"}},
        {},
        [
            (
                "training.save_strategy",
                "error",
                'save_strategy "best" with eval_strategy "no": no evaluation ever reports a best '
                "metric, so no checkpoint is ever written",
                F203,
            )
        ],
        id="PF203-best",
    ),
    pytest.param(
        "PF203",
        {"training": {"save_strategy": "best", "load_best_model_at_end": True}},
        {},
        [
            (
                "training.save_strategy",
                "error",
                'save_strategy "best" with eval_strategy "no": no evaluation ever reports a best '
                "metric, so no checkpoint is ever written",
                F203,
            )
        ],  # one root cause, one finding: the save strategy, not also load_best
        id="PF203-best-and-load-best",
    ),
    pytest.param(
        "PF203",
        {"training": {"load_best_model_at_end": True}},
        {},
        [
            (
                "training.load_best_model_at_end",
                "error",
                'load_best_model_at_end with eval_strategy "no": TrainingArguments raises a '
                "ValueError at start (the strategies must match)",
                F203,
            )
        ],
        id="PF203-load-best",
    ),
    pytest.param(
        "PF203",
        {"training": {"save_strategy": "best", "eval_strategy": "epoch"}},
        {},
        [],
        id="PF203-evaluated",
    ),
    pytest.param("PF203", {"training": {}}, {}, [], id="PF203-default"),
    # --- PF205 -----------------------------------------------------------------------------
    pytest.param(
        "PF205",
        {
            "training": {"load_best_model_at_end": True, "eval_strategy": "steps"},
            "compute": {**SM, "max_run_hours": 168},
        },
        {},
        [
            (
                "training.load_best_model_at_end",
                "warning",
                "load_best_model_at_end only acts after a clean finish, and this is a job with a "
                "MaxRuntime of 168 h; the best checkpoint also takes a save_total_limit slot",
                F205,
            )
        ],
        id="PF205-sagemaker",
    ),
    pytest.param(
        "PF205",
        {"training": {"load_best_model_at_end": False}, "compute": SM},
        {},
        [],
        id="PF205-off",
    ),
    pytest.param(
        "PF205",
        {"training": {"load_best_model_at_end": True, "eval_strategy": "steps"}, "compute": LOCAL},
        {},
        [],
        id="PF205-local",
    ),
    # --- PF206 -----------------------------------------------------------------------------
    pytest.param(
        "PF206",
        {"training": {"save_only_model": True}, "compute": SPOT},
        {},
        [
            (
                "training.save_only_model",
                "warning",
                "save_only_model on a spot job (interruptions, MaxRuntime of 24 h): a resume "
                "would restart AdamW and the LR schedule from scratch, silently",
                F206,
            )
        ],
        id="PF206-spot",
    ),
    pytest.param("PF206", {"training": {}, "compute": SPOT}, {}, [], id="PF206-default-off"),
    pytest.param(
        "PF206",
        {"training": {"save_only_model": True}, "compute": LOCAL},
        {},
        [],
        id="PF206-local",
    ),
    # --- PF207 -----------------------------------------------------------------------------
    pytest.param(
        "PF207",
        {"compute": SM},
        {},
        [
            (
                "training.enable_jit_checkpoint",
                "warning",
                f"this is {LIMIT_24H}, and {NO_SIGTERM}",
                F207,
            )
        ],
        id="PF207-sagemaker",
    ),
    pytest.param(
        "PF207", {"training": {"enable_jit_checkpoint": True}, "compute": SM}, {}, [], id="PF207-on"
    ),
    pytest.param(
        "PF207", {"training": {"save_strategy": "no"}, "compute": SM}, {}, [], id="PF207-no-save"
    ),
    pytest.param("PF207", {"compute": LOCAL}, {}, [], id="PF207-local"),
    # --- PF208 -----------------------------------------------------------------------------
    pytest.param(
        "PF208",
        {
            "training": {
                "output_dir": "/opt/ml/checkpoints",
                "resume_from_checkpoint": "/opt/ml/model/checkpoint-1000",
            },
            "compute": SM,
        },
        {},
        [
            (
                "training.resume_from_checkpoint",
                "warning",
                "`/opt/ml/model/checkpoint-1000` is outside `/opt/ml/checkpoints`, the only "
                "directory SageMaker restores from S3 when a job (re)starts",
                F208,
            )
        ],
        id="PF208-outside",
    ),
    pytest.param(
        "PF208",
        {
            "training": {"resume_from_checkpoint": "/opt/ml/ckpt/checkpoint-5"},
            "compute": {**SM, "checkpoint_local_path": "/opt/ml/ckpt"},
        },
        {},
        [],  # inside the stated checkpoint_local_path
        id="PF208-custom-local-path",
    ),
    pytest.param(
        "PF208",
        {
            "training": {"resume_from_checkpoint": "/opt/ml/checkpoints/checkpoint-5"},
            "compute": {**SM, "checkpoint_local_path": "/opt/ml/ckpt"},
        },
        {},
        [
            (
                "training.resume_from_checkpoint",
                "warning",
                "`/opt/ml/checkpoints/checkpoint-5` is outside `/opt/ml/ckpt`, the only "
                "directory SageMaker restores from S3 when a job (re)starts",
                F208,
            )
        ],  # the default directory is not the one this job restores
        id="PF208-outside-custom-local-path",
    ),
    pytest.param(
        "PF208",
        {
            "training": {
                "output_dir": "/opt/ml/checkpoints",
                "resume_from_checkpoint": "/opt/ml/model/c",
            }
        },
        {},
        [
            (
                "training.resume_from_checkpoint",
                "warning",
                "`/opt/ml/model/c` is outside `/opt/ml/checkpoints`, the only directory "
                "SageMaker restores from S3 when a job (re)starts",
                F208,
            )
        ],  # a script under /opt/ml with no launch code: the default local path
        id="PF208-script-no-compute",
    ),
    # --- PF209 -----------------------------------------------------------------------------
    pytest.param(
        "PF209",
        {"data": {"train": "s3://b/t.jsonl"}, "training": {"eval_strategy": "steps"}},
        {},
        [
            (
                "training.eval_strategy",
                "warning",
                'eval_strategy "steps" but data.eval is not set: Trainer raises a ValueError '
                "without an eval_dataset",
                F209,
            )
        ],
        id="PF209-steps",
    ),
    pytest.param(
        "PF209",
        {"data": {"train": "s3://b/t.jsonl"}, "training": {"eval_strategy": "epoch"}},
        {},
        [
            (
                "training.eval_strategy",
                "warning",
                'eval_strategy "epoch" but data.eval is not set: Trainer raises a ValueError '
                "without an eval_dataset",
                F209,
            )
        ],
        id="PF209-epoch",
    ),
    pytest.param(
        "PF209",
        {
            "data": {"train": "s3://b/t.jsonl", "eval": "s3://b/e.jsonl"},
            "training": {"eval_strategy": "steps"},
        },
        {},
        [],
        id="PF209-eval-named",
    ),
    # --- PF210 -----------------------------------------------------------------------------
    pytest.param(
        "PF210",
        {"training": {"max_steps": 800, "save_steps": 1000}},
        {},
        [
            (
                "training.save_steps",
                "warning",
                "save_steps 1,000 is more than the run's 800 optimizer steps: the only "
                "checkpoint is the final one",
                "Set save_steps to at most 80 (a tenth of the run).",  # 800 // 10
            )
        ],
        id="PF210-steps",
    ),
    pytest.param(
        "PF210",
        {"training": {"save_strategy": "epoch", "num_train_epochs": 1}},
        {},
        [
            (
                "training.save_strategy",
                "warning",
                'save_strategy "epoch" with num_train_epochs 1: the only checkpoint is written '
                "at the very end of the run",
                'Set save_strategy "steps" and save_steps 0.1 (a save every tenth of the run).',
            )
        ],
        id="PF210-one-epoch",
    ),
    # --- PF211 -----------------------------------------------------------------------------
    pytest.param(
        "PF211",
        {
            "data": {"num_examples": 19_500_000},
            "training": {"per_device_train_batch_size": 1, "gradient_accumulation_steps": 16},
        },
        {},
        [
            (
                "training.ignore_data_skip",
                "info",
                # 19,500,000 examples / (batch 1 x 1 GPU); no step count to cap it
                "a resume late in an epoch replays up to 19,500,000 batches before training "
                "continues (ignore_data_skip is false)",
                F211,
            )
        ],
        id="PF211-seed",
    ),
    # --- PF212 -----------------------------------------------------------------------------
    pytest.param(
        "PF212",
        {"training": {"push_to_hub": True, "hub_strategy": "end"}, "compute": SM},
        {},
        [
            (
                "training.hub_strategy",
                "info",
                f'hub_strategy "end" pushes only after a clean finish, and this is {LIMIT_24H} '
                "with no S3 checkpoint sync",
                F212,
            )
        ],
        id="PF212-end",
    ),
    pytest.param(
        "PF212",
        {"training": {"push_to_hub": True}, "compute": SM},
        {},
        [
            (
                "training.hub_strategy",
                "info",
                f'hub_strategy "every_save" pushes weights without optimizer state, and this is '
                f"{LIMIT_24H} with no S3 checkpoint sync",
                F212,
            )
        ],
        id="PF212-default-every-save",
    ),
    pytest.param(
        "PF212",
        {"training": {"push_to_hub": True}, "compute": SM},
        {"values": {"hub_strategy": "HubStrategy.END"}},
        [
            (
                "training.hub_strategy",
                "info",
                f'hub_strategy "end" pushes only after a clean finish, and this is {LIMIT_24H} '
                "with no S3 checkpoint sync",
                F212,
            )
        ],  # the enum as a reader writes it, normalised like Trainer does
        id="PF212-enum-spelling",
    ),
    pytest.param(
        "PF212",
        {"training": {"push_to_hub": True, "hub_strategy": "checkpoint"}, "compute": SM},
        {},
        [
            (
                "training.hub_strategy",
                "info",
                'hub_strategy "checkpoint" skips a push while the previous one is uploading '
                f"(hub_always_push false), and this is {LIMIT_24H} with no S3 checkpoint sync",
                F212,
            )
        ],
        id="PF212-checkpoint",
    ),
    pytest.param(
        "PF212",
        {"training": {"push_to_hub": True, "hub_strategy": "all_checkpoints"}, "compute": SM},
        {},
        [
            (
                "training.hub_strategy",
                "info",
                'hub_strategy "all_checkpoints" skips a push while the previous one is uploading '
                f"(hub_always_push false), and this is {LIMIT_24H} with no S3 checkpoint sync",
                F212,
            )
        ],
        id="PF212-all-checkpoints",
    ),
    pytest.param(
        "PF212",
        {
            "training": {
                "push_to_hub": True,
                "hub_strategy": "checkpoint",
                "hub_always_push": True,
            },
            "compute": SM,
        },
        {},
        [],
        id="PF212-checkpoint-always",
    ),
    pytest.param(
        "PF212",
        {
            "training": {"push_to_hub": True, "hub_strategy": "end", "hub_always_push": True},
            "compute": SM,
        },
        {},
        [
            (
                "training.hub_strategy",
                "info",
                f'hub_strategy "end" pushes only after a clean finish, and this is {LIMIT_24H} '
                "with no S3 checkpoint sync",
                F212,
            )
        ],  # always_push only helps the "checkpoint" strategy
        id="PF212-end-always",
    ),
    pytest.param(
        "PF212",
        {"training": {"push_to_hub": True, "hub_strategy": "end"}, "compute": SYNCED},
        {},
        [],
        id="PF212-s3-sync",
    ),
    pytest.param(
        "PF212",
        {"training": {"push_to_hub": True, "hub_strategy": "end"}, "compute": LOCAL},
        {},
        [],
        id="PF212-local",
    ),
    pytest.param(
        "PF212", {"training": {"hub_strategy": "end"}, "compute": SM}, {}, [], id="PF212-no-push"
    ),
]


@pytest.mark.parametrize(("rule", "fragment", "kw", "expected"), CASES)
def test_whole_finding(
    tmp_path: Path, rule: str, fragment: dict[str, Any], kw: dict[str, Any], expected: list[Found]
) -> None:
    assert findings(rule, fragment, tmp_path, **kw) == expected


def test_pf207_release_without_jit_checkpoint(tmp_path: Path) -> None:
    """A job pinned to a transformers without enable_jit_checkpoint gets a fix that exists there."""
    plan = plan_of({"compute": SM}, tmp_path)
    plan.loaded.versions["transformers"] = ("4.46.0", "requirements.txt pins it")
    assert outcome("PF207", plan) == [
        (
            "training.enable_jit_checkpoint",
            "warning",
            f"this is {LIMIT_24H}, and nothing saves on SIGTERM in transformers 4.46.0: work "
            "since the last checkpoint is lost when it is stopped",
            "Launch with trainjob (it adds a SIGTERM save), add a SIGTERM handler that calls "
            "trainer.save_model(), or move to transformers >= 5.0 and set enable_jit_checkpoint.",
        )
    ]


def test_pf207_shell_entry_point_is_silent(tmp_path: Path) -> None:
    """A launch whose entry point is train.sh: no Trainer seen, so no Trainer advice."""
    plan = plan_of({"compute": SM}, tmp_path)
    plan.loaded.entry_command = "bash train.sh"  # type: ignore[attr-defined]
    assert outcome("PF207", plan) == []


def test_pf208_local_path_missing_names_the_resolved_path(tmp_path: Path) -> None:
    """A relative path is resolved against the spec's folder, and the message shows where."""
    got = findings(
        "PF208",
        {"training": {"resume_from_checkpoint": "runs/old/checkpoint-9"}, "compute": LOCAL},
        tmp_path,
    )
    assert got == [
        (
            "training.resume_from_checkpoint",
            "warning",
            f"`runs/old/checkpoint-9` does not exist ({tmp_path / 'runs/old/checkpoint-9'}): "
            'train() fails with "Can\'t find a valid checkpoint"',
            F208,
        )
    ]


def test_pf208_absolute_local_path(tmp_path: Path) -> None:
    """An absolute path is checked as it is, not under the spec's folder."""
    there = tmp_path / "elsewhere" / "checkpoint-3"
    there.mkdir(parents=True)
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    fragment = {"training": {"resume_from_checkpoint": str(there)}, "compute": LOCAL}
    assert findings("PF208", fragment, spec_dir) == []
    gone = tmp_path / "gone"
    fragment = {"training": {"resume_from_checkpoint": str(gone)}, "compute": LOCAL}
    assert findings("PF208", fragment, spec_dir) == [
        (
            "training.resume_from_checkpoint",
            "warning",
            f"`{gone}` does not exist ({gone}): train() fails with "
            '"Can\'t find a valid checkpoint"',
            F208,
        )
    ]
