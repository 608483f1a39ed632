"""The arithmetic PF1xx/PF2xx rules share (save interval, steps, checkpoint size), pinned to
exact values: mutation testing showed the rule cases alone let a changed default or operator
through. Each expected number is worked out in the comment next to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rule_case_harness import make_plan

from preflight.rules.sync import (
    checkpoint_gb,
    cutoff_reason,
    optimizer_bytes_per_param,
    save_every_steps,
    total_steps,
)


def plan_of(tmp_path: Path, training: dict[str, Any], **sections: Any) -> Any:
    fragment: dict[str, Any] = {"training": training, **sections}
    return make_plan(fragment, tmp_path, facts=sections.pop("facts", None) or {})


@pytest.mark.parametrize(
    ("training", "cost", "expected"),
    [
        ({"save_strategy": "no"}, None, None),
        ({"save_strategy": "best", "save_steps": 10}, None, None),
        ({"save_strategy": "steps", "save_steps": 250}, None, 250),
        ({}, None, 500),  # Trainer's default save_steps
        ({"save_steps": 0.1, "max_steps": 1000}, None, 100),  # a ratio of the run
        ({"save_steps": 0.1}, None, None),  # a ratio of an unknown run
        ({"save_steps": 0.0001, "max_steps": 100}, None, 1),  # never below one step
        ({"save_steps": 0}, None, None),
        # An epoch is one pass over the data, which only the cost model knows: under max_steps
        # Trainer ignores num_train_epochs, so max_steps / num_train_epochs is not an epoch.
        ({"save_strategy": "epoch", "max_steps": 900, "num_train_epochs": 3}, None, None),
        ({"save_strategy": "epoch"}, None, None),
        ({"save_strategy": "epoch", "num_train_epochs": 2}, {"total_steps": 800}, None),
        ({"save_strategy": "epoch", "num_train_epochs": 2}, {"steps_per_epoch": 400}, 400),
        ({"save_strategy": "epoch", "max_steps": 900}, {"steps_per_epoch": 250}, 250),
        ({"save_steps": 0.5}, {"total_steps": 800}, 400),  # the cost model's steps win
    ],
)
def test_save_every_steps(
    tmp_path: Path, training: dict[str, Any], cost: dict[str, Any] | None, expected: int | None
) -> None:
    plan = make_plan({"training": training}, tmp_path, facts={"cost": cost} if cost else {})
    assert save_every_steps(plan) == expected


@pytest.mark.parametrize(
    ("training", "cost", "expected"),
    [
        ({"max_steps": 120}, None, 120),
        ({"max_steps": -1}, None, None),
        ({"max_steps": 0}, None, None),
        ({}, None, None),
        ({"max_steps": 120}, {"total_steps": 77}, 77),
        ({"max_steps": 120}, {"total_steps": 0}, 120),
    ],
)
def test_total_steps(
    tmp_path: Path, training: dict[str, Any], cost: dict[str, Any] | None, expected: int | None
) -> None:
    plan = make_plan({"training": training}, tmp_path, facts={"cost": cost} if cost else {})
    assert total_steps(plan) == expected


@pytest.mark.parametrize(
    ("optim", "expected"),
    [
        ("adamw_torch", 8.0),
        ("ADAMW_TORCH_FUSED", 8.0),
        ("adamw_bnb_8bit", 2.0),
        ("paged_adamw_8bit", 2.0),
        ("sgd", 4.0),
        ("SGD", 4.0),
        ("adafactor", 0.0),
        ("Adafactor", 0.0),
    ],
)
def test_optimizer_bytes(optim: str, expected: float) -> None:
    assert optimizer_bytes_per_param(optim) == expected


def test_checkpoint_gb_lora_full_and_model_only(tmp_path: Path) -> None:
    lora = make_plan(
        {"model": {"name": "tiny-mistral", "dtype": "bfloat16"}, "lora": {"r": 8}},
        tmp_path,
        facts={},
    )
    # LoRA: adapters in fp32 (4 B) + AdamW's two fp32 moments (8 B) per trainable parameter
    assert checkpoint_gb(lora, 7_000_000_000, 1_000_000) == pytest.approx(0.012)
    full = make_plan({"model": {"name": "tiny-mistral", "dtype": "bfloat16"}}, tmp_path, facts={})
    # full: every weight in bf16 (2 B) + 8 B of optimizer state per (trainable) weight
    assert checkpoint_gb(full, 1_000_000_000, 1_000_000_000) == pytest.approx(10.0)
    fp32 = make_plan({"model": {"name": "tiny-mistral", "dtype": "float32"}}, tmp_path, facts={})
    assert checkpoint_gb(fp32, 1_000_000_000, 0) == pytest.approx(4.0)
    nf4 = make_plan(  # the loader wants LoRA with nf4; a reader of a script may still say so
        {"model": {"name": "tiny-mistral"}}, tmp_path, facts={}, override={"model.dtype": "nf4"}
    )
    assert checkpoint_gb(nf4, 1_000_000_000, 0) == pytest.approx(0.5)
    only = make_plan(
        {
            "model": {"name": "tiny-mistral", "dtype": "bfloat16"},
            "training": {"save_only_model": True},
        },
        tmp_path,
        facts={},
    )
    assert checkpoint_gb(only, 1_000_000_000, 1_000_000_000) == pytest.approx(2.0)
    sgd = make_plan(
        {"model": {"name": "tiny-mistral", "dtype": "float16"}, "training": {"optim": "sgd"}},
        tmp_path,
        facts={},
    )
    assert checkpoint_gb(sgd, 1_000_000_000, 500_000_000) == pytest.approx(4.0)  # 2 + 0.5*4


@pytest.mark.parametrize(
    ("compute", "expected"),
    [
        ({"provider": "local"}, None),
        (
            {"provider": "sagemaker", "instance_type": "ml.g5.xlarge", "max_run_hours": 48},
            "a job with a MaxRuntime of 48 h",
        ),
        (
            {
                "provider": "sagemaker",
                "instance_type": "ml.g5.xlarge",
                "spot": True,
                "max_run_hours": 10,
                "max_wait_hours": 20,
            },
            "a spot job (interruptions, MaxRuntime of 10 h)",
        ),
    ],
)
def test_cutoff_reason(tmp_path: Path, compute: dict[str, Any], expected: str | None) -> None:
    plan = make_plan({"compute": compute}, tmp_path, facts={})
    assert cutoff_reason(plan) == expected


def test_cutoff_reason_of_a_partial_source(tmp_path: Path) -> None:
    compute = {"provider": "sagemaker", "instance_type": "ml.g5.xlarge", "max_run_hours": 48}
    plan = make_plan({"compute": compute}, tmp_path, facts={}, stated=["compute.instance_type"])
    assert cutoff_reason(plan) == "a SageMaker job (MaxRuntime, 1 day by default)"
    spot = {**compute, "spot": True, "max_wait_hours": 50}
    plan = make_plan({"compute": spot}, tmp_path, facts={}, stated=["compute.spot"])
    assert cutoff_reason(plan) == "a spot job (interruptions, MaxRuntime, 1 day by default)"
