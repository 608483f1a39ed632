"""The SageMaker training-container contract, read from the environment.

Inside a training job the data channels arrive as ``SM_CHANNEL_<NAME>`` directories, the final
model goes to ``SM_MODEL_DIR`` and extra output to ``SM_OUTPUT_DATA_DIR`` (both uploaded only at
the end of the job), and the one folder synced to S3 *during* the job is the checkpoint dir named
in ``/opt/ml/input/config/checkpointconfig.json`` (``LocalPath``, default
``/opt/ml/checkpoints``); there is no ``SM_`` variable for it (sagemaker-training-toolkit
ENVIRONMENT_VARIABLES.md; docs "Use checkpoints in Amazon SageMaker"). The config dir can be
moved with ``TRAINJOB_SM_CONFIG_DIR`` (or ``SM_INPUT_CONFIG_DIR``) so tests run this mode locally.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CHECKPOINT_DIR = "/opt/ml/checkpoints"
DEFAULT_CONFIG_DIR = "/opt/ml/input/config"


@dataclass(frozen=True)
class SageMakerEnv:
    """Where a SageMaker job keeps its inputs and outputs."""

    checkpoint_dir: Path
    model_dir: Path
    output_data_dir: Path
    channels: dict[str, Path] = field(default_factory=dict)


def in_sagemaker(env: Mapping[str, str] | None = None) -> bool:
    """True inside a SageMaker training container (it always sets SM_MODEL_DIR or SM_CHANNELS)."""
    env = os.environ if env is None else env
    return any(k in env for k in ("SM_MODEL_DIR", "SM_CHANNELS", "SM_TRAINING_ENV"))


def read_sagemaker_env(env: Mapping[str, str] | None = None) -> SageMakerEnv:
    """Resolve the container paths, honouring the test overrides."""
    env = os.environ if env is None else env
    config_dir = Path(
        env.get("TRAINJOB_SM_CONFIG_DIR") or env.get("SM_INPUT_CONFIG_DIR") or DEFAULT_CONFIG_DIR
    )
    checkpoint_dir = Path(DEFAULT_CHECKPOINT_DIR)
    config_file = config_dir / "checkpointconfig.json"
    if config_file.is_file():
        try:
            local = json.loads(config_file.read_text(encoding="utf-8")).get("LocalPath")
            if local:
                checkpoint_dir = Path(local)
        except (OSError, ValueError, AttributeError):
            pass  # SageMaker writes this file; if it is unreadable the documented default holds
    channels = {
        key[len("SM_CHANNEL_") :].lower(): Path(value)
        for key, value in env.items()
        if key.startswith("SM_CHANNEL_") and value
    }
    return SageMakerEnv(
        checkpoint_dir=checkpoint_dir,
        model_dir=Path(env.get("SM_MODEL_DIR", "/opt/ml/model")),
        output_data_dir=Path(env.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")),
        channels=channels,
    )
