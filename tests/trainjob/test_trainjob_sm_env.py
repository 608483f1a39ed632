"""SageMaker's container contract, read from an environment built in the test."""

from __future__ import annotations

import json
from pathlib import Path

from trainjob.sm_env import in_sagemaker, read_sagemaker_env


def test_paths_from_env_and_checkpoint_config(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "checkpointconfig.json").write_text(json.dumps({"LocalPath": str(tmp_path / "ckpt")}))
    env = {
        "SM_MODEL_DIR": str(tmp_path / "model"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "output"),
        "SM_CHANNEL_TRAIN": str(tmp_path / "train"),
        "SM_CHANNEL_VALIDATION": str(tmp_path / "val"),
        "TRAINJOB_SM_CONFIG_DIR": str(config),
    }
    sm = read_sagemaker_env(env)
    assert in_sagemaker(env)
    assert sm.checkpoint_dir == tmp_path / "ckpt"
    assert sm.model_dir == tmp_path / "model"
    assert sm.output_data_dir == tmp_path / "output"
    assert sm.channels == {"train": tmp_path / "train", "validation": tmp_path / "val"}


def test_documented_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    sm = read_sagemaker_env({"TRAINJOB_SM_CONFIG_DIR": str(tmp_path)})
    assert sm.checkpoint_dir == Path("/opt/ml/checkpoints")
    assert sm.model_dir == Path("/opt/ml/model")
    assert sm.output_data_dir == Path("/opt/ml/output/data")
    assert not in_sagemaker({})


def test_unreadable_checkpoint_config_keeps_the_default(tmp_path: Path) -> None:
    (tmp_path / "checkpointconfig.json").write_text("{broken")
    assert read_sagemaker_env({"TRAINJOB_SM_CONFIG_DIR": str(tmp_path)}).checkpoint_dir == Path(
        "/opt/ml/checkpoints"
    )
