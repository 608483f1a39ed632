"""The whole message and fix of every PF1xx finding on a representative plan.

The rule cases match a substring, so mutation testing let a changed word, a dropped fix or a
wrong directory in the rest of a message through. The text is what the user reads and acts
on: it is asserted whole here. Each rule's ``check`` runs directly (the engine's provider
filter would hide the rule's own guards), on a real spec file through the real loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rule_case_harness import make_plan

from preflight.rules import get_rule

SM = {"provider": "sagemaker", "instance_type": "ml.g5.xlarge"}
URI_FIX = "compute.checkpoint_s3_uri: s3://BUCKET/checkpoints/JOB (same region)"


def found(rule_id: str, plan: Any) -> list[tuple[str | None, str, str]]:
    """(field, message, fix) of each finding the rule's own check yields."""
    cls = get_rule(rule_id)
    assert cls is not None
    return [(f.field, f.message, f.fix) for f in cls().check(plan)]


def plan_of(tmp_path: Path, fragment: dict[str, Any], **kw: Any) -> Any:
    return make_plan(fragment, tmp_path, facts=kw.pop("facts", {}), **kw)


# --- PF101 -------------------------------------------------------------------------------------


def test_pf101_wrong_dir_and_no_uri_is_one_finding(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, {"training": {"output_dir": "/opt/ml/output/data"}, "compute": SM})
    assert found("PF101", plan) == [
        (
            "training.output_dir",
            "checkpoints go to `/opt/ml/output/data`, outside `/opt/ml/checkpoints`, and "
            "compute.checkpoint_s3_uri is not set: SageMaker syncs no checkpoint to S3 while the "
            "job runs, so a timeout or interruption loses them all",
            f"Set training.output_dir: /opt/ml/checkpoints and {URI_FIX}.",
        )
    ]


def test_pf101_wrong_dir_with_uri(tmp_path: Path) -> None:
    compute = {**SM, "checkpoint_s3_uri": "s3://b/c", "checkpoint_local_path": "/opt/ml/ckpt"}
    plan = plan_of(
        tmp_path, {"training": {"output_dir": "/opt/ml/checkpoints"}, "compute": compute}
    )
    assert found("PF101", plan) == [
        (
            "training.output_dir",
            "checkpoints go to `/opt/ml/checkpoints`, outside `/opt/ml/ckpt`, the only directory "
            "SageMaker syncs to S3 during the job: a timeout or interruption loses them all",
            "Set training.output_dir: /opt/ml/ckpt (and compute.checkpoint_s3_uri).",
        )
    ]


def test_pf101_trainer_default_dir_says_so(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, {"compute": {**SM, "checkpoint_s3_uri": "s3://b/c"}})
    assert found("PF101", plan) == [
        (
            "training.output_dir",
            "checkpoints go to `trainer_output` (Trainer's default, output_dir unset), outside "
            "`/opt/ml/checkpoints`, the only directory SageMaker syncs to S3 during the job: a "
            "timeout or interruption loses them all",
            "Set training.output_dir: /opt/ml/checkpoints (and compute.checkpoint_s3_uri).",
        )
    ]


def test_pf101_synced_dir_without_uri(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, {"training": {"output_dir": "/opt/ml/checkpoints/run"}, "compute": SM})
    assert found("PF101", plan) == [
        (
            "compute.checkpoint_s3_uri",
            "compute.checkpoint_s3_uri is not set, so SageMaker syncs no checkpoint to S3 while "
            "the job runs; nothing survives a stop, timeout or interruption",
            f"Set {URI_FIX}.",
        )
    ]


def test_pf101_script_seen_without_its_launch_code(tmp_path: Path) -> None:
    """A training script writing under /opt/ml, no estimator: the directory is known, the URI
    is not (it lives in the launch code), so only the directory is reported."""
    fragment = {"training": {"output_dir": "/opt/ml/output/data"}}
    plan = plan_of(tmp_path, fragment, stated=["training.output_dir"])
    assert found("PF101", plan) == [
        (
            "training.output_dir",
            "checkpoints go to `/opt/ml/output/data`, outside `/opt/ml/checkpoints`, the only "
            "directory SageMaker syncs to S3 during the job: a timeout or interruption loses "
            "them all",
            "Set training.output_dir: /opt/ml/checkpoints (and compute.checkpoint_s3_uri).",
        )
    ]


def test_pf101_empty_checkpoint_local_path_is_the_default(tmp_path: Path) -> None:
    compute = {**SM, "checkpoint_s3_uri": "s3://b/c", "checkpoint_local_path": ""}
    synced = {"training": {"output_dir": "/opt/ml/checkpoints"}, "compute": compute}
    assert found("PF101", plan_of(tmp_path, synced)) == []


@pytest.mark.parametrize(
    ("stated", "fires"),
    [
        # an estimator with nothing about checkpoints and no training argument: a merge, a
        # download, or an entry script not read: nothing to sync
        (["compute.provider", "compute.instance_type"], False),
        (["compute.provider", "compute.instance_type", "compute.distributed"], True),
        (["compute.provider", "compute.instance_type", "compute.checkpoint_local_path"], True),
    ],
)
def test_pf101_applies_to_an_estimator_only_with_checkpoint_evidence(
    tmp_path: Path, stated: list[str], fires: bool
) -> None:
    plan = plan_of(tmp_path, {"compute": SM}, stated=stated)
    want = [
        (
            "compute.checkpoint_s3_uri",
            "compute.checkpoint_s3_uri is not set, so SageMaker syncs no checkpoint to S3 while "
            "the job runs; nothing survives a stop, timeout or interruption",
            f"Set {URI_FIX}.",
        )
    ]
    assert found("PF101", plan) == (want if fires else [])


def test_pf101_silent_where_nothing_is_saved_or_not_on_sagemaker(tmp_path: Path) -> None:
    never = {"training": {"output_dir": "/opt/ml/output", "save_strategy": "no"}, "compute": SM}
    assert found("PF101", plan_of(tmp_path, never)) == []
    best_without_eval = {
        "training": {"output_dir": "/opt/ml/output", "save_strategy": "best"},
        "compute": SM,
    }
    assert found("PF101", plan_of(tmp_path, best_without_eval)) == []
    local = {"training": {"output_dir": "/opt/ml/output"}, "compute": {"provider": "local"}}
    assert found("PF101", plan_of(tmp_path, local)) == []


# --- PF102 -------------------------------------------------------------------------------------

END = "by SageMaker only when the job ends: checkpoints written there are lost on a timeout or "
END += "interruption"
PF102_FIX = "Write checkpoints to /opt/ml/checkpoints; save only the final model to /opt/ml/model."


@pytest.mark.parametrize(
    ("where", "place"),
    [
        ("/opt/ml/model", "`/opt/ml/model` is uploaded"),
        ("/opt/ml/model/", "`/opt/ml/model/` is uploaded"),
        ("/opt/ml/output/data", "`/opt/ml/output/data` is uploaded"),
        (
            "/opt/ml/output/data/run",
            "`/opt/ml/output/data/run` is under `/opt/ml/output/data`, which is uploaded",
        ),
        ("/opt/ml/output/run", "`/opt/ml/output/run` is under `/opt/ml/output`, which is uploaded"),
        ("/opt/ml/model/run1", "`/opt/ml/model/run1` is under `/opt/ml/model`, which is uploaded"),
    ],
)
def test_pf102_message(tmp_path: Path, where: str, place: str) -> None:
    compute = {**SM, "checkpoint_s3_uri": "s3://b/c", "checkpoint_local_path": where}
    plan = plan_of(tmp_path, {"training": {"output_dir": where}, "compute": compute})
    assert found("PF102", plan) == [("training.output_dir", f"{place} {END}", PF102_FIX)]


def test_pf102_script_without_compute_and_its_silences(tmp_path: Path) -> None:
    script = plan_of(
        tmp_path, {"training": {"output_dir": "/opt/ml/model"}}, stated=["training.output_dir"]
    )
    assert found("PF102", script) == [
        ("training.output_dir", f"`/opt/ml/model` is uploaded {END}", PF102_FIX)
    ]
    local = {"training": {"output_dir": "/opt/ml/model"}, "compute": {"provider": "local"}}
    assert found("PF102", plan_of(tmp_path, local)) == []
    never = {"training": {"output_dir": "/opt/ml/model", "save_strategy": "no"}, "compute": SM}
    assert found("PF102", plan_of(tmp_path, never)) == []
    alike = {"training": {"output_dir": "/opt/ml/modeling"}, "compute": SM}
    assert found("PF102", plan_of(tmp_path, alike)) == []


# --- PF103 -------------------------------------------------------------------------------------


def test_pf103_message_and_guards(tmp_path: Path) -> None:
    spot = {**SM, "spot": True, "max_wait_hours": 48}
    assert found("PF103", plan_of(tmp_path, {"compute": spot})) == [
        (
            "compute.spot",
            "spot training without compute.checkpoint_s3_uri: each interruption restarts the job "
            "from step 0 with nothing restored",
            "Set compute.checkpoint_s3_uri, or run on demand (spot: false).",
        )
    ]
    local_spot = {"provider": "local", "spot": True, "max_wait_hours": 48}
    assert found("PF103", plan_of(tmp_path, {"compute": local_spot})) == []
    assert found("PF103", plan_of(tmp_path, {"training": {"output_dir": "o"}})) == []
    assert found("PF103", plan_of(tmp_path, {"compute": SM})) == []


# --- PF104 -------------------------------------------------------------------------------------

PF104_TAIL = ": rotation counts them and resume would pick the highest, possibly from another run"
PF104_FIX = "Use a fresh output_dir, or move the old checkpoint-* directories away first."


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        # Trainer's order is numeric: (length, name); the five highest are named
        (5, "checkpoint-1, checkpoint-2, checkpoint-3, checkpoint-4, checkpoint-10"),
        (6, "checkpoint-2, checkpoint-3, checkpoint-4, checkpoint-10, checkpoint-20 and 1 more"),
        (7, "checkpoint-3, checkpoint-4, checkpoint-10, checkpoint-20, checkpoint-30 and 2 more"),
    ],
)
def test_pf104_lists_the_highest_five(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, shown: str
) -> None:
    monkeypatch.chdir(tmp_path)
    steps = [1, 2, 3, 4, 10, 20, 30][:count]
    dirs = [f"runs/demo/checkpoint-{n}" for n in steps]
    plan = make_plan(
        {"training": {"output_dir": "runs/demo"}, "compute": {"provider": "local"}},
        tmp_path,
        facts={},
        dirs=dirs,
    )
    target = tmp_path / "runs" / "demo"
    assert found("PF104", plan) == [
        (
            "training.output_dir",
            f"{target} already holds {count} checkpoint dir(s) ({shown}){PF104_TAIL}",
            PF104_FIX,
        )
    ]


def test_pf104_silent_on_sagemaker_and_for_an_unresolved_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sm = {"training": {"output_dir": "runs/demo"}, "compute": SM}
    assert found("PF104", make_plan(sm, tmp_path, facts={}, dirs=["runs/demo/checkpoint-5"])) == []
    # a script whose output_dir the reader could not evaluate: Trainer's default folder is
    # not where that job writes, whatever it holds
    plan = make_plan(
        {"training": {"learning_rate": 1e-4}},
        tmp_path,
        facts={},
        stated=["training.learning_rate"],
        dirs=["trainer_output/checkpoint-5"],
        notes=["training.output_dir: TrainingArguments(output_dir=...) could not be resolved"],
    )
    assert found("PF104", plan) == []


def test_pf104_empty_output_dir_is_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trainer joins checkpoint-N onto an empty output_dir: the current directory."""
    work = tmp_path / "work"
    (work / "checkpoint-7").mkdir(parents=True)
    monkeypatch.chdir(work)
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    plan = make_plan(
        {"training": {"output_dir": ""}, "compute": {"provider": "local"}}, spec_dir, facts={}
    )
    assert found("PF104", plan) == [
        (
            "training.output_dir",
            f"{work} already holds 1 checkpoint dir(s) (checkpoint-7){PF104_TAIL}",
            PF104_FIX,
        )
    ]


# --- PF106 -------------------------------------------------------------------------------------


def _pf106(tmp_path: Path, training: dict[str, Any], **compute: Any) -> Any:
    c = {**SM, "instance_type": "ml.g5.12xlarge", "distributed": "ddp", **compute}
    return plan_of(tmp_path, {"training": training, "compute": c})


def test_pf106_message_and_bounds(tmp_path: Path) -> None:
    each = {"output_dir": "/opt/ml/checkpoints", "save_on_each_node": True}
    assert found(
        "PF106", _pf106(tmp_path, each, instance_count=3, checkpoint_s3_uri="s3://b/c")
    ) == [
        (
            "training.save_on_each_node",
            "save_on_each_node on 3 instances: each writes the same checkpoint-N names to one "
            "checkpoint_s3_uri prefix, overwriting the others",
            "Set save_on_each_node: false (the default) so only the main process saves.",
        )
    ]
    two = _pf106(tmp_path, each, instance_count=2, checkpoint_s3_uri="s3://b/c")
    assert [f[1].partition(":")[0] for f in found("PF106", two)] == [
        "save_on_each_node on 2 instances"
    ]
    one = _pf106(tmp_path, each, instance_count=1, checkpoint_s3_uri="s3://b/c")
    assert found("PF106", one) == []
    assert found("PF106", _pf106(tmp_path, each, instance_count=2)) == []  # nothing synced
    never = {**each, "save_strategy": "no"}
    assert (
        found("PF106", _pf106(tmp_path, never, instance_count=2, checkpoint_s3_uri="s3://b/c"))
        == []
    )
    main_only = {"output_dir": "/opt/ml/checkpoints"}
    assert (
        found("PF106", _pf106(tmp_path, main_only, instance_count=2, checkpoint_s3_uri="s3://b/c"))
        == []
    )
    local = {
        "provider": "local",
        "instance_count": 2,
        "distributed": "ddp",
        "checkpoint_s3_uri": "s3://b/c",
    }
    assert found("PF106", plan_of(tmp_path, {"training": each, "compute": local})) == []
    assert found("PF106", plan_of(tmp_path, {"training": each})) == []


def test_pf104_script_stating_its_output_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A training script read alone (a partial source) that writes into a folder already
    holding checkpoints."""
    monkeypatch.chdir(tmp_path)
    plan = make_plan(
        {"training": {"output_dir": "runs/demo"}},
        tmp_path,
        facts={},
        stated=["training.output_dir"],
        dirs=["runs/demo/checkpoint-500"],
    )
    assert found("PF104", plan) == [
        (
            "training.output_dir",
            f"{tmp_path / 'runs/demo'} already holds 1 checkpoint dir(s) (checkpoint-500)"
            f"{PF104_TAIL}",
            PF104_FIX,
        )
    ]
