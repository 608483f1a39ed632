"""Edges of the PF1xx helpers and of PF105's disk arithmetic: a case at each bound and one step
either side, with the arithmetic written next to every expected number.

PF105 runs on stated parameter counts (the memory facts a plan carries), so the sums are round:
a full bf16 fine-tune with AdamW stores 2 B of weights + 8 B of optimizer state per parameter,
i.e. 10 GB per 10^9 parameters, and the base model's download adds 2 B per parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from rule_case_harness import make_plan

from preflight.rules import get_rule
from preflight.rules.sync import (
    DTYPE_BYTES,
    checkpoint_gb,
    cutoff_reason,
    is_under,
    launch_code_seen,
    output_dir,
    param_counts,
    save_every_steps,
    save_strategy,
    saves_checkpoints,
    stale_checkpoints,
    synced_to_s3,
    total_steps,
    training_storage,
    training_value,
    unresolved,
)
from preflight.spec.models import Dtype

MODEL = "mistralai/Mistral-7B-v0.1"
SM = {"provider": "sagemaker", "instance_type": "ml.g5.xlarge"}
EBS_ONLY = {"compute.instance_type": "ml.p3.2xlarge"}  # no instance storage: the volume counts
VOLUME_FIX = "or lower training.save_total_limit (keeping at least 2)."
STORE_FIX = (
    "Lower training.save_total_limit (keeping at least 2), or pick a larger instance size: on "
    "this type volume_size_gb is ignored."
)


def pf105(
    tmp_path: Path,
    params: tuple[int, int],
    training: dict[str, Any],
    compute: dict[str, Any],
    *,
    lora: bool = False,
    dtype: str = "bfloat16",
    override: dict[str, Any] | None = None,
    cost: dict[str, Any] | None = None,
) -> list[tuple[str | None, str, str]]:
    fragment: dict[str, Any] = {
        "model": {"name": MODEL, "dtype": dtype},
        "training": {"output_dir": "/opt/ml/checkpoints", **training},
        "compute": {**SM, "checkpoint_s3_uri": "s3://b/c", **compute},
    }
    if lora:
        fragment["lora"] = {"r": 8}
    memory = {"total_params": params[0], "trainable_params": params[1]}
    plan = make_plan(
        fragment, tmp_path, facts={"memory": memory, "cost": cost}, override=override or {}
    )
    cls = get_rule("PF105")
    assert cls is not None
    return [(f.field, f.message, f.fix) for f in cls().check(plan)]


# --- PF105: the bound --------------------------------------------------------------------------

FULL_1B = (1_000_000_000, 1_000_000_000)  # one checkpoint 10.0 GB, base model 2 GB


def test_pf105_volume_exactly_full_is_silent_one_gb_less_fires(tmp_path: Path) -> None:
    # 2 kept x 10.0 GB + 2 GB base = 22 GB
    limit2 = {"save_total_limit": 2}
    assert pf105(tmp_path, FULL_1B, limit2, {"volume_size_gb": 22}, override=EBS_ONLY) == []
    assert pf105(tmp_path, FULL_1B, limit2, {"volume_size_gb": 21}, override=EBS_ONLY) == [
        (
            "compute.volume_size_gb",
            "2 checkpoint(s) of ~10.0 GB (save_total_limit 2) plus the 2 GB base model need "
            "~22 GB, more than volume_size_gb 21",
            # 20% headroom over 22 GB: int(26.4) + 1
            f"Set compute.volume_size_gb to at least 27, {VOLUME_FIX}",
        )
    ]


def test_pf105_one_parameter_over_the_volume_fires(tmp_path: Path) -> None:
    """LoRA with no trainable parameter: the need is the base model alone, 2 B per parameter;
    11e9 parameters are exactly 22 GB, one more is over."""
    limit2 = {"save_total_limit": 2}
    exact = (11_000_000_000, 0)
    over = (11_000_000_001, 0)
    vol = {"volume_size_gb": 22}
    assert pf105(tmp_path, exact, limit2, vol, lora=True, override=EBS_ONLY) == []
    assert pf105(tmp_path, over, limit2, vol, lora=True, override=EBS_ONLY) == [
        (
            "compute.volume_size_gb",
            "2 checkpoint(s) of ~0.0 GB (save_total_limit 2) plus the 22 GB base model need "
            "~22 GB, more than volume_size_gb 22",
            f"Set compute.volume_size_gb to at least 27, {VOLUME_FIX}",  # int(26.4) + 1
        )
    ]


def test_pf105_instance_storage_bound_ignores_volume_size(tmp_path: Path) -> None:
    """float32 weights (4 B) with Adafactor (no state counted): 4 GB per 10^9 parameters per
    checkpoint; 2 kept + 2 B/param of base = 10 B/param: 25e9 parameters fill 250 GB exactly,
    the instance storage of ml.g5.xlarge, whatever volume_size_gb says."""
    training = {"save_total_limit": 2, "optim": "adafactor"}
    compute = {"volume_size_gb": 2000}
    exact = (25_000_000_000, 25_000_000_000)
    over = (25_000_000_001, 25_000_000_001)
    assert pf105(tmp_path, exact, training, compute, dtype="float32") == []
    assert pf105(tmp_path, over, training, compute, dtype="float32") == [
        (
            "training.save_total_limit",
            "2 checkpoint(s) of ~100.0 GB (save_total_limit 2) plus the 50 GB base model need "
            "~250 GB, more than the 250 GB instance storage of ml.g5.xlarge",
            STORE_FIX,
        )
    ]


# --- PF105: how many checkpoints are kept ------------------------------------------------------


def _kept(tmp_path: Path, training: dict[str, Any], cost: dict[str, Any] | None = None) -> str:
    """The message PF105 gives on a 1 GB volume (which every case overflows)."""
    got = pf105(tmp_path, FULL_1B, training, {"volume_size_gb": 1}, override=EBS_ONLY, cost=cost)
    assert len(got) == 1, got
    return got[0][1]


BEST = {"eval_strategy": "steps", "load_best_model_at_end": True}


@pytest.mark.parametrize(
    ("training", "kept", "how"),
    [
        ({"save_total_limit": 1}, 1, "save_total_limit 1"),
        # the best checkpoint is kept next to the newest: at least 2
        ({"save_total_limit": 1, **BEST}, 2, "save_total_limit 1"),
        ({"save_total_limit": 3, **BEST}, 3, "save_total_limit 3"),
        ({"save_total_limit": 4}, 4, "save_total_limit 4"),
        # 0 rotates nothing (Trainer rotates only for a limit > 0): every save stays,
        # 1000 // 250 + 1 = 5
        (
            {"save_total_limit": 0, "max_steps": 1000, "save_steps": 250},
            5,
            "save_total_limit 0: 5 saves over 1,000 steps",
        ),
        (
            {"max_steps": 1000, "save_steps": 250},
            5,
            "save_total_limit unset: 5 saves over 1,000 steps",
        ),
        # 1000 // 300 + 1 = 4
        (
            {"max_steps": 1000, "save_steps": 300},
            4,
            "save_total_limit unset: 4 saves over 1,000 steps",
        ),
    ],
)
def test_pf105_kept_checkpoints(
    tmp_path: Path, training: dict[str, Any], kept: int, how: str
) -> None:
    need = kept * 10 + 2
    assert _kept(tmp_path, training) == (
        f"{kept} checkpoint(s) of ~10.0 GB ({how}) plus the 2 GB base model need ~{need} GB, "
        "more than volume_size_gb 1"
    )


def test_pf105_kept_from_the_cost_model_steps(tmp_path: Path) -> None:
    # 2 epochs of the cost model's 400 steps: a save every 400, 800 // 400 + 1 = 3 saves
    training = {"save_strategy": "epoch", "num_train_epochs": 2}
    cost = {"total_steps": 800, "steps_per_epoch": 400}
    assert _kept(tmp_path, training, cost=cost) == (
        "3 checkpoint(s) of ~10.0 GB (save_total_limit unset: 3 saves over 800 steps) plus the "
        "2 GB base model need ~32 GB, more than volume_size_gb 1"
    )


def test_pf105_epoch_saves_follow_the_data_not_num_train_epochs_under_max_steps(
    tmp_path: Path,
) -> None:
    """max_steps 800 with an epoch of 250 steps: Trainer ignores num_train_epochs 2 and saves at
    250, 500, 750 and the final 800, so 800 // 250 + 1 = 4 saves, not 800 / 2 -> 3."""
    training = {"save_strategy": "epoch", "num_train_epochs": 2, "max_steps": 800}
    cost = {"total_steps": 800, "steps_per_epoch": 250}
    assert _kept(tmp_path, training, cost=cost).startswith(
        "4 checkpoint(s) of ~10.0 GB (save_total_limit unset: 4 saves over 800 steps)"
    )
    # Without the data set's size an epoch's length is unknown: no count, no finding.
    unknown = {"total_steps": 800, "steps_per_epoch": None}
    assert (
        pf105(tmp_path, FULL_1B, training, {"volume_size_gb": 1}, override=EBS_ONLY, cost=unknown)
        == []
    )
    assert pf105(tmp_path, FULL_1B, training, {"volume_size_gb": 1}, override=EBS_ONLY) == []


@pytest.mark.parametrize(
    "training",
    [
        {},  # no max_steps and no cost model: the number of saves is unknown
        {"save_steps": 0.1},  # a ratio of an unknown run
        {"save_strategy": "no", "save_total_limit": 2},
        {"save_strategy": "best", "save_total_limit": 2},  # best without eval never saves
    ],
)
def test_pf105_silent_when_the_saves_are_unknown_or_none(
    tmp_path: Path, training: dict[str, Any]
) -> None:
    assert pf105(tmp_path, FULL_1B, training, {"volume_size_gb": 1}, override=EBS_ONLY) == []


def test_pf105_silent_off_sagemaker_and_without_counts(tmp_path: Path) -> None:
    cls = get_rule("PF105")
    assert cls is not None
    memory = {"memory": {"total_params": 10**12, "trainable_params": 10**12}}
    local = {
        "model": {"name": MODEL},
        "training": {"save_total_limit": 9},
        "compute": {"provider": "local"},
    }
    assert list(cls().check(make_plan(local, tmp_path, facts=memory))) == []
    no_compute = {"model": {"name": MODEL}, "training": {"save_total_limit": 9}}
    assert list(cls().check(make_plan(no_compute, tmp_path, facts=memory))) == []
    no_model = {"training": {"save_total_limit": 9}, "compute": {**SM, "volume_size_gb": 1}}
    assert list(cls().check(make_plan(no_model, tmp_path, facts={}, override=EBS_ONLY))) == []


# --- sizes -------------------------------------------------------------------------------------


def test_every_loader_dtype_has_a_byte_size() -> None:
    assert set(DTYPE_BYTES) == set(get_args(Dtype))


def test_checkpoint_gb_is_exact(tmp_path: Path) -> None:
    full = make_plan({"model": {"name": MODEL, "dtype": "bfloat16"}}, tmp_path, facts={})
    assert checkpoint_gb(full, 10**9, 10**9) == 10.0  # (2 + 8) B x 10^9 / 10^9
    no_model = make_plan({}, tmp_path, facts={})
    assert checkpoint_gb(no_model, 10**9, 0) == 4.0  # no model section: float32 weights
    none_optim = make_plan(
        {"model": {"name": MODEL}, "training": {"optim": None}}, tmp_path, facts={}
    )
    assert checkpoint_gb(none_optim, 10**9, 10**9) == 10.0  # an explicit None: AdamW's 8 B
    only = make_plan(
        {"model": {"name": MODEL}, "training": {"save_only_model": True}}, tmp_path, facts={}
    )
    assert checkpoint_gb(only, 10**9, 10**9) == 2.0  # weights only


def test_param_counts_prefer_the_memory_estimate(tmp_path: Path) -> None:
    fragment = {"model": {"name": MODEL}}
    plan = make_plan(
        fragment, tmp_path, facts={"memory": {"total_params": 10, "trainable_params": 0}}
    )
    assert param_counts(plan) == (10, 0)


def test_param_counts_fall_back_to_memplan(tmp_path: Path) -> None:
    import memplan

    full = make_plan({"model": {"name": MODEL}}, tmp_path, facts={"memory": {"total_params": 0}})
    counts = memplan.count_params(memplan.load_architecture(MODEL))
    assert param_counts(full) == (counts.total, counts.total)  # full fine-tune: all trainable
    lora = make_plan({"model": {"name": MODEL}, "lora": {"r": 8}}, tmp_path, facts={})
    got = param_counts(lora)
    assert got is not None
    assert 0 < got[1] < got[0] / 100  # adapters only
    assert param_counts(make_plan({}, tmp_path, facts={})) is None
    unknown = make_plan(
        {"model": {"name": MODEL}}, tmp_path, facts={}, override={"model.name": "nobody/none-such"}
    )
    assert param_counts(unknown) is None


def test_training_storage(tmp_path: Path) -> None:
    assert training_storage(make_plan({}, tmp_path, facts={})) is None
    g5 = make_plan({"compute": SM}, tmp_path, facts={})
    assert training_storage(g5) == (250.0, "the 250 GB instance storage of ml.g5.xlarge", False)
    for instance in ("ml.p3.2xlarge", None):
        ebs = make_plan(
            {"compute": {**SM, "volume_size_gb": 40}},
            tmp_path,
            facts={},
            override={"compute.instance_type": instance},
        )
        assert training_storage(ebs) == (40.0, "volume_size_gb 40", True)


# --- plan facts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "root", "under"),
    [
        ("/opt/ml/checkpoints", "/opt/ml/checkpoints", True),
        ("/opt/ml/checkpoints/", "/opt/ml/checkpoints", True),
        ("/opt/ml/checkpoints/run/x", "/opt/ml/checkpoints/", True),
        ("/opt/ml/checkpoints2", "/opt/ml/checkpoints", False),
        ("/opt/ml", "/opt/ml/checkpoints", False),
        ("/mnt/Y", "/mnt/X", False),  # a sibling is not inside
        ("/anything", "/", True),
        ("/opt/ml/a/../checkpoints/r", "/opt/ml/checkpoints", True),
    ],
)
def test_is_under(path: str, root: str, under: bool) -> None:
    assert is_under(path, root) is under


def test_unresolved(tmp_path: Path) -> None:
    key = "compute.checkpoint_s3_uri"
    full = make_plan({"compute": SM}, tmp_path, facts={}, lines={key: 3})
    assert unresolved(full, key) is False  # a whole spec has no unevaluated value
    by_line = make_plan(
        {"compute": SM}, tmp_path, facts={}, stated=["compute.provider"], lines={key: 3}
    )
    assert unresolved(by_line, key) is True
    stated = make_plan({"compute": SM}, tmp_path, facts={}, stated=[key], lines={key: 3})
    assert unresolved(stated, key) is False  # evaluated: in stated, and on its line
    noted = make_plan(
        {"compute": SM},
        tmp_path,
        facts={},
        stated=["compute.provider"],
        notes=[f"{key}: could not be resolved (f-string)"],
    )
    assert unresolved(noted, key) is True
    other = make_plan(
        {"compute": SM},
        tmp_path,
        facts={},
        stated=["compute.provider"],
        notes=[f"{key}_other: could not be resolved", "compute.checkpoint: x"],
    )
    assert unresolved(other, key) is False


def test_training_value_and_strategies(tmp_path: Path) -> None:
    plan = make_plan({"training": {"save_steps": 10}}, tmp_path, facts={})
    assert training_value(plan, "save_steps", 500) == 10
    assert training_value(plan, "max_steps") == -1  # Trainer's default, from the field table
    assert training_value(plan, "not_a_field", 7) == 7
    assert training_value(plan, "not_a_field") is None
    # a reader's value: an enum written in a script, and an explicit None
    plan.spec.training.root["save_strategy"] = "SaveStrategy.NO"
    assert save_strategy(plan) == "no"
    assert saves_checkpoints(plan) is False
    plan.spec.training.root["save_strategy"] = None
    plan.spec.training.root["eval_strategy"] = None
    assert save_strategy(plan) == "steps"
    plan.spec.training.root["save_strategy"] = "best"
    assert saves_checkpoints(plan) is False  # eval None reads as "no": best never saves


@pytest.mark.parametrize(
    ("training", "saves"),
    [
        ({}, True),
        ({"save_strategy": "no"}, False),
        ({"save_strategy": "best"}, False),
        ({"save_strategy": "best", "eval_strategy": "steps"}, True),
        ({"save_strategy": "best", "eval_strategy": "epoch"}, True),
        ({"save_strategy": "epoch", "eval_strategy": "no"}, True),
    ],
)
def test_saves_checkpoints(tmp_path: Path, training: dict[str, Any], saves: bool) -> None:
    assert saves_checkpoints(make_plan({"training": training}, tmp_path, facts={})) is saves


def test_output_dir(tmp_path: Path) -> None:
    assert output_dir(make_plan({}, tmp_path, facts={})) == "trainer_output"
    assert output_dir(make_plan({"training": {"output_dir": None}}, tmp_path, facts={})) == (
        "trainer_output"
    )
    assert output_dir(make_plan({"training": {"output_dir": ""}}, tmp_path, facts={})) == "."
    assert output_dir(make_plan({"training": {"output_dir": "o/x"}}, tmp_path, facts={})) == "o/x"


@pytest.mark.parametrize(
    ("stated", "compute", "seen"),
    [
        (None, SM, True),
        (None, None, False),
        (["compute.provider"], SM, False),  # inferred from /opt/ml, not launch code
        (["training.output_dir"], SM, False),
        (["compute.provider", "compute.instance_type"], SM, True),
    ],
)
def test_launch_code_seen(
    tmp_path: Path, stated: list[str] | None, compute: dict[str, Any] | None, seen: bool
) -> None:
    fragment = {"compute": compute} if compute else {}
    assert launch_code_seen(make_plan(fragment, tmp_path, facts={}, stated=stated)) is seen


ESTIMATOR = ["compute.provider", "compute.instance_type", "training.output_dir"]


@pytest.mark.parametrize(
    ("out", "compute", "stated", "notes", "synced"),
    [
        ("/opt/ml/checkpoints", {**SM, "checkpoint_s3_uri": "s3://b/c"}, None, [], True),
        ("/opt/ml/checkpoints", SM, None, [], False),  # no URI
        ("/opt/ml/output/data", {**SM, "checkpoint_s3_uri": "s3://b/c"}, None, [], False),
        (
            "/opt/ml/checkpoints",
            {"provider": "local", "checkpoint_s3_uri": "s3://b/c"},
            None,
            [],
            False,
        ),
        # a custom local path: only inside it is synced
        (
            "/opt/ml/ckpt/r",
            {**SM, "checkpoint_s3_uri": "s3://b/c", "checkpoint_local_path": "/opt/ml/ckpt"},
            None,
            [],
            True,
        ),
        (
            "/opt/ml/checkpoints",
            {**SM, "checkpoint_s3_uri": "s3://b/c", "checkpoint_local_path": "/opt/ml/ckpt"},
            None,
            [],
            False,
        ),
        (
            "/opt/ml/checkpoints",
            {**SM, "checkpoint_s3_uri": "s3://b/c", "checkpoint_local_path": ""},
            None,
            [],
            True,
        ),
        # a training script alone, writing into the sync directory: synced; elsewhere: not
        ("/opt/ml/checkpoints/run", None, ["training.output_dir"], [], True),
        ("/opt/ml/output/data", None, ["training.output_dir"], [], False),
        # inferred SageMaker, launch code not seen: the URI is unknown, the directory decides
        ("/opt/ml/checkpoints", SM, ["compute.provider", "training.output_dir"], [], True),
        # an estimator seen without a URI, and one whose URI could not be evaluated
        ("/opt/ml/checkpoints", SM, ESTIMATOR, [], False),
        (
            "/opt/ml/checkpoints",
            SM,
            ESTIMATOR,
            ["compute.checkpoint_s3_uri: HuggingFace(checkpoint_s3_uri=...) is an f-string"],
            True,
        ),
    ],
)
def test_synced_to_s3(
    tmp_path: Path,
    out: str,
    compute: dict[str, Any] | None,
    stated: list[str] | None,
    notes: list[str],
    synced: bool,
) -> None:
    fragment: dict[str, Any] = {"training": {"output_dir": out}}
    if compute is not None:
        fragment["compute"] = compute
    plan = make_plan(fragment, tmp_path, facts={}, stated=stated, notes=notes)
    assert synced_to_s3(plan) is synced


def test_cutoff_reason_with_a_stated_limit_in_a_partial_source(tmp_path: Path) -> None:
    compute = {**SM, "max_run_hours": 48}
    stated = ["compute.instance_type", "compute.max_run_hours"]
    plan = make_plan({"compute": compute}, tmp_path, facts={}, stated=stated)
    assert cutoff_reason(plan) == "a job with a MaxRuntime of 48 h"


@pytest.mark.parametrize(
    ("training", "expected"),
    [
        ({"max_steps": 1}, 1),
        ({"max_steps": 2}, 2),
        ({"max_steps": 0}, None),
    ],
)
def test_total_steps_bound(tmp_path: Path, training: dict[str, Any], expected: int | None) -> None:
    assert total_steps(make_plan({"training": training}, tmp_path, facts={})) == expected


@pytest.mark.parametrize(
    ("training", "expected"),
    [
        ({"save_steps": 1, "max_steps": 100}, 1),  # 1 is a step count, not 100% of the run
        ({"save_steps": 2, "max_steps": 100}, 2),
        ({"save_steps": 0.99, "max_steps": 100}, 99),  # a ratio: int(0.99 * 100)
        ({"save_steps": 0, "max_steps": 100}, None),  # never saves on a step count
        # an epoch's length needs the data set's size (the cost model), whatever the epochs
        ({"save_strategy": "epoch", "num_train_epochs": 0, "max_steps": 900}, None),
    ],
)
def test_save_every_steps_bounds(
    tmp_path: Path, training: dict[str, Any], expected: int | None
) -> None:
    assert save_every_steps(make_plan({"training": training}, tmp_path, facts={})) == expected


def test_save_every_steps_of_a_reader_none(tmp_path: Path) -> None:
    plan = make_plan({"training": {"max_steps": 100}}, tmp_path, facts={})
    plan.spec.training.root["save_steps"] = None  # what a reader records for save_steps=None
    assert save_every_steps(plan) is None


# --- stale checkpoint directories --------------------------------------------------------------


def test_stale_checkpoints_where_they_are_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec_dir, cwd = tmp_path / "spec", tmp_path / "cwd"
    spec_dir.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    relative = {"training": {"output_dir": "runs/a"}, "compute": {"provider": "local"}}
    plan = make_plan(relative, spec_dir, facts={})
    assert stale_checkpoints(plan) == (spec_dir / "runs/a", [])  # nothing: the spec's folder
    (cwd / "runs/a/checkpoint-3").mkdir(parents=True)
    (cwd / "runs/a/checkpoint-9").write_text("a file, not a checkpoint")
    assert stale_checkpoints(plan) == (cwd / "runs/a", ["checkpoint-3"])
    (spec_dir / "runs/a/checkpoint-1").mkdir(parents=True)
    assert stale_checkpoints(plan) == (spec_dir / "runs/a", ["checkpoint-1"])  # spec's first
    absolute = tmp_path / "abs"
    (absolute / "checkpoint-20").mkdir(parents=True)
    (absolute / "checkpoint-100").mkdir()
    plan = make_plan({"training": {"output_dir": str(absolute)}}, spec_dir, facts={})
    assert stale_checkpoints(plan) == (absolute, ["checkpoint-20", "checkpoint-100"])


def test_stale_checkpoints_of_an_unlistable_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    long = "x" * 300  # longer than a file name may be: listing it raises ENAMETOOLONG
    plan = make_plan({"training": {"output_dir": long}}, tmp_path, facts={})
    assert stale_checkpoints(plan) == (tmp_path / long, [])
