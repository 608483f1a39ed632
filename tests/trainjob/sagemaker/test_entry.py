"""The container side: the shipped source dir, and the entry point run under SageMaker's layout.

The end-to-end test extracts the very ``sourcedir.tar.gz`` a launch uploads into an empty folder
and runs ``python trainjob_entry.py`` there with the environment a training container has
(SM_CHANNEL_TRAIN, SM_MODEL_DIR, SM_OUTPUT_DATA_DIR, checkpointconfig.json), training a tiny
model on CPU: the packages it imports are the copies inside the archive (the script's folder is
first on sys.path), so a file missing from the archive fails the test.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from sm_specs import SEED_FIXED

from trainjob.sagemaker.entry import entry_arguments
from trainjob.sagemaker.request import METRIC_DEFINITIONS
from trainjob.sagemaker.source import shipped_spec_text, stage_source, tarball

REPO = Path(__file__).resolve().parents[3]
TINY_DATA = REPO / "examples" / "data" / "tiny-pairs.jsonl"


def test_shipped_spec_forces_output_dir_and_keeps_the_rest(tmp_path: Path) -> None:
    text = shipped_spec_text(SEED_FIXED, "/opt/ml/checkpoints")
    data = YAML(typ="safe").load(text)
    original = YAML(typ="safe").load(SEED_FIXED.read_text(encoding="utf-8"))
    assert data["training"]["output_dir"] == "/opt/ml/checkpoints"
    original["training"]["output_dir"] = "/opt/ml/checkpoints"
    assert data == original
    assert "# The seed story's run as it should have been launched" in text  # comments kept


def test_entry_arguments_read_spec_and_force_reason(tmp_path: Path) -> None:
    spec, overrides = entry_arguments({}, tmp_path)
    assert spec == tmp_path / "job.yaml" and overrides == {}
    spec, overrides = entry_arguments(
        {"TRAINJOB_SPEC": "other.yaml", "TRAINJOB_FORCE_REASON": " rehearsal "}, tmp_path
    )
    assert spec == tmp_path / "other.yaml"
    assert overrides == {"force": True, "reason": "rehearsal"}


def test_stage_source_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        stage_source(SEED_FIXED, "/opt/ml/checkpoints", tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def _tiny_spec(folder: Path) -> Path:
    spec = {
        "name": "tiny-sm",
        "model": {"name": "tiny-mistral", "dtype": "float32"},
        "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]},
        "data": {
            "train": "s3://bucket/data/tiny-pairs.jsonl",
            "format": "pairs",
            "prompt_template": "EN: {source}\nFR: {target}",
            "max_length": 24,
        },
        "training": {
            "output_dir": "/opt/ml/output/data",  # the seed's mistake: the launch overrides it
            "max_steps": 6,
            "per_device_train_batch_size": 4,
            "learning_rate": 0.002,
            "logging_steps": 1,
            "save_strategy": "steps",
            "save_steps": 3,
            "save_total_limit": None,
            "seed": 7,
        },
        "compute": {"provider": "local"},
    }
    path = folder / "tiny.yaml"
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return path


@pytest.mark.slow
def test_entry_point_trains_with_sagemaker_layout(tmp_path: Path) -> None:
    pytest.importorskip("peft")
    ckpt = tmp_path / "opt-ml-checkpoints"
    staged = stage_source(_tiny_spec(tmp_path), str(ckpt), tmp_path / "staged")
    code = tmp_path / "code"
    code.mkdir()
    with tarfile.open(fileobj=io.BytesIO(tarball(staged))) as tar:
        tar.extractall(code, filter="data")
    config = tmp_path / "config"
    config.mkdir()
    (config / "checkpointconfig.json").write_text(json.dumps({"LocalPath": str(ckpt)}))
    channel = tmp_path / "channel-train"
    channel.mkdir()
    (channel / "train.jsonl").write_bytes(TINY_DATA.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "PYTHON"))}
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "TRAINJOB_SM_CONFIG_DIR": str(config),
            "SM_MODEL_DIR": str(tmp_path / "model"),
            "SM_OUTPUT_DATA_DIR": str(tmp_path / "output"),
            "SM_CHANNEL_TRAIN": str(channel),
            "SM_CHANNELS": '["train"]',
            "TRAINJOB_SPEC": "job.yaml",
            "TRAINJOB_HEARTBEAT_SECONDS": "1",
        }
    )

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "trainjob_entry.py"],
            cwd=code,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )

    first = run()
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    assert sorted(p.name for p in ckpt.glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-6"]
    assert (ckpt / "trainjob-manifest.json").is_file()
    assert any((tmp_path / "model").iterdir())
    assert (tmp_path / "output" / "final_model").is_dir()
    # the metric definitions of the launch request match what the container really prints
    logs = first.stdout + first.stderr
    found = {m["Name"]: re.findall(m["Regex"], logs) for m in METRIC_DEFINITIONS}
    assert found["train:checkpoint_step"] == ["3", "6"]
    assert found["train:loss"] and all(float(v) > 0 for v in found["train:loss"])
    assert found["trainjob:elapsed_seconds"], "no heartbeat line"

    # A spot restart: a fresh container finds the checkpoints SageMaker restored into LocalPath
    # and resumes from the newest instead of training from step 0 again.
    before = {
        p.parent.name: p.stat().st_mtime_ns for p in ckpt.glob("checkpoint-*/trainer_state.json")
    }
    second = run()
    assert second.returncode == 0, second.stderr[-3000:]
    after = {
        p.parent.name: p.stat().st_mtime_ns for p in ckpt.glob("checkpoint-*/trainer_state.json")
    }
    assert sorted(before) == ["checkpoint-3", "checkpoint-6"]
    assert after == before  # nothing retrained, nothing rewritten
    assert (
        re.findall(r"CHECKPOINT SAVED: \S*checkpoint-([0-9]+)", second.stdout + second.stderr) == []
    )
    assert "checkpoint-6" in second.stdout + second.stderr
