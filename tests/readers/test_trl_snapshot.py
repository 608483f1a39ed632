"""scripts/snapshot_trl_configs.py: fields by ast, removals by diffing releases, and the bundle."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from preflight.readers.trl_fields import field_owner, trl_configs, trl_version

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "snapshot_trl_configs.py"

BASE = """
from transformers import TrainingArguments
class _BaseConfig(TrainingArguments):
    logging_steps: float = 10
"""
NEW = (
    BASE
    + """
class SFTConfig(_BaseConfig):
    max_length: int | None = 1024
    packing: bool = False
"""
)
OLD = (
    BASE
    + """
class SFTConfig(_BaseConfig):
    max_seq_length: int | None = 1024
    packing: bool = False
    dataset_batch_size: int = 1000
    save_steps: int = 500
"""
)


def _load_script() -> ModuleType:  # the script is not a package module
    spec = importlib.util.spec_from_file_location("snapshot_trl_configs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_snapshot_diffs_releases_and_names_successors() -> None:
    script = _load_script()
    data = script.snapshot(
        ("9.0.0", {"trl/trainer/sft_config.py": NEW}),
        [("8.0.0", {"trl/trainer/sft_config.py": OLD})],
    )
    sft = data["configs"]["SFTConfig"]
    assert set(sft["fields"]) == {"logging_steps", "max_length", "packing"}  # base class included
    assert sft["removed"] == {
        "max_seq_length": {"last_version": "8.0.0", "replacement": "max_length"},
        "dataset_batch_size": {"last_version": "8.0.0", "replacement": None},
    }  # save_steps is still a TrainingArguments field: not removed
    assert data["trl_version"] == "9.0.0"


def test_bundled_snapshot_knows_the_trl_configs() -> None:
    configs = trl_configs()
    assert {"SFTConfig", "DPOConfig", "GRPOConfig", "KTOConfig", "RewardConfig"} <= set(configs)
    assert configs["SFTConfig"]["removed"]["max_seq_length"]["replacement"] == "max_length"
    assert "packing" in configs["SFTConfig"]["fields"]
    assert trl_version().count(".") == 2
    assert field_owner({"packing", "dataset_text_field"}) == "SFTConfig"
    assert field_owner({"beta", "max_prompt_length"}) == "DPOConfig"
    assert field_owner({"num_generations", "use_vllm"}) == "GRPOConfig"
    assert field_owner({"learning_rate"}) is None
