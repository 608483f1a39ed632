"""The TrainingArguments field table: read with ast, never imported; snapshot kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.pipeline import check
from preflight.spec.training_fields import (
    installed_table,
    parse_dataclass_fields,
    snapshot_table,
    training_fields,
)

SOURCE = """
from dataclasses import dataclass, field
@dataclass
class TrainingArguments:
    output_dir: str | None = field(default=None, metadata={"help": "x"})
    save_strategy: SaveStrategy | str = field(default=SaveStrategy.STEPS)
    report_to: list[str] = field(default_factory=list)
    save_steps: float = 500
    _private: int = 0
    required: int
"""


def test_parse_reads_defaults_without_executing() -> None:
    fields = parse_dataclass_fields(SOURCE, "TrainingArguments")
    assert set(fields) == {"output_dir", "save_strategy", "report_to", "save_steps", "required"}
    assert fields["save_strategy"].default == "steps"
    assert fields["report_to"].default == [] and fields["report_to"].default_kind == "factory"
    assert fields["save_steps"].default == 500
    assert fields["required"].default_kind == "required"


def test_snapshot_matches_installed_transformers() -> None:
    installed = installed_table()
    if installed is None:
        pytest.skip("transformers is not installed: only the snapshot is used")
    snap = snapshot_table()
    if installed.version != snap.version:
        pytest.fail(
            f"snapshot is of transformers {snap.version}, installed is {installed.version}: "
            "run scripts/snapshot_training_args.py"
        )
    assert set(installed.fields) == set(snap.fields)
    assert {n: f.default for n, f in installed.fields.items()} == {
        n: f.default for n, f in snap.fields.items()
    }


def test_field_table_has_v5_fields_and_lacks_removed_ones() -> None:
    names = set(training_fields().fields)
    assert {
        "save_total_limit",
        "enable_jit_checkpoint",
        "eval_strategy",
        "save_only_model",
    } <= names
    assert (
        not {"save_safetensors", "overwrite_output_dir", "evaluation_strategy", "warmup_ratio"}
        & names
    )


@pytest.mark.parametrize(
    ("key", "replacement"),
    [
        ("evaluation_strategy", "eval_strategy"),
        ("warmup_ratio", "warmup_steps"),
        ("no_cuda", "use_cpu"),
        ("save_safetensors", None),
        ("overwrite_output_dir", None),
    ],
)
def test_removed_keys_name_their_replacement(
    tmp_path: Path, key: str, replacement: str | None
) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(
        f"training:\n  {key}: 1\n" if key == "warmup_ratio" else f"training:\n  {key}: true\n"
    )
    [finding] = [f for f in check(spec).findings if f.rule == "PF501"]
    assert finding.field == f"training.{key}" and finding.line == 2
    assert "removed in transformers" in finding.message
    if replacement:
        assert f"`{replacement}`" in finding.message
    else:
        assert finding.fix


def test_unknown_key_suggests_nearest(tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text("training:\n  save_total_limt: 3\n  per_device_batch_size: 2\n")
    found = {f.field: f for f in check(spec).findings if f.rule == "PF502"}
    assert "`save_total_limit`" in found["training.save_total_limt"].message
    assert "per_device_" in found["training.per_device_batch_size"].message
