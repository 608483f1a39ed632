"""``memplan estimate``: exit codes 0/1/2, the JSON contract, and bad input without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.cli_memplan import cli
from preflight.cli_support import run_cli

SEED_START = """\
name: seed-oom-start
model:
  name: mistralai/Mistral-7B-v0.1
  dtype: float16
lora:
  r: 16
  alpha: 32
  dropout: 0.05
  target_modules: [q_proj, k_proj, v_proj, o_proj]
data:
  max_length: 512
training:
  output_dir: /opt/ml/checkpoints
  per_device_train_batch_size: 2
  gradient_accumulation_steps: 8
  fp16: true
compute:
  provider: sagemaker
  instance_type: ml.g5.xlarge
"""

SEED_FINAL = (
    SEED_START.replace("[q_proj, k_proj, v_proj, o_proj]", "[q_proj, v_proj]")
    .replace("max_length: 512", "max_length: 256")
    .replace("per_device_train_batch_size: 2", "per_device_train_batch_size: 1")
    .replace(
        "gradient_accumulation_steps: 8",
        "gradient_accumulation_steps: 16\n  gradient_checkpointing: true",
    )
)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run_cli(cli, args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def _write(tmp_path: Path, text: str, name: str = "job.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_seed_start_exits_1_and_suggests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        ["estimate", _write(tmp_path, SEED_START), "--suggest", "--format", "json"], capsys
    )
    assert code == 1
    data = json.loads(out)
    assert data["fits_with_headroom"] is False
    assert data["memory"]["capacity_gib"] == pytest.approx(22.03)
    room = 22.03 * (1 - data["headroom"])
    assert data["suggestions"] and all(s["peak_gib"] <= room for s in data["suggestions"])


def test_seed_final_exits_0_with_contract_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["estimate", _write(tmp_path, SEED_FINAL), "--format", "json"], capsys)
    assert code == 0
    mem = json.loads(out)["memory"]
    assert mem["fits"] is True
    assert mem["trainable_params"] == 6_815_744
    assert set(mem) >= {"peak_gib", "capacity_gib", "fits", "breakdown_gib", "total_params"}


def test_rich_output_names_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["estimate", _write(tmp_path, SEED_START)], capsys)
    assert code == 1
    assert "does not fit" in out and "weights" in out


def test_unknown_model_exits_2_with_file_line_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, SEED_START.replace("mistralai/Mistral-7B-v0.1", "mistral-7b-v0.2"))
    code, _, err = _run(["estimate", path], capsys)
    assert code == 2
    assert f"{path}:3: model.name:" in err and "Mistral-7B-v0.1" in err
    assert "Traceback" not in err


def test_bad_lora_target_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED_START.replace("mistralai/Mistral-7B-v0.1", "microsoft/Phi-3-mini-4k-instruct")
    code, _, err = _run(["estimate", _write(tmp_path, text)], capsys)
    assert code == 2
    assert "lora.target_modules" in err and "qkv_proj" in err


def test_missing_file_and_bad_headroom_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["estimate", str(tmp_path / "nope.yaml")], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = _run(["estimate", _write(tmp_path, SEED_START), "--headroom", "1.5"], capsys)
    assert code == 2 and "--headroom" in err


def test_trace_flag_reports_both_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("transformers")
    text = SEED_FINAL.replace("mistralai/Mistral-7B-v0.1", "tiny-mistral")
    code, out, _ = _run(["estimate", _write(tmp_path, text), "--trace", "--format", "json"], capsys)
    assert code == 0
    tr = json.loads(out)["trace"]
    assert abs(tr["analytic_vs_traced"]) < 0.05


def test_importing_memplan_and_the_cli_stays_light() -> None:
    code = (
        "import sys, memplan, preflight.cli_memplan, memplan.suggest, memplan.render;"
        "heavy = [m for m in ('torch', 'transformers', 'peft') if m in sys.modules];"
        "print(heavy); raise SystemExit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_trace_of_a_quantized_model_is_refused_with_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SEED_FINAL.replace("dtype: float16", "dtype: nf4")
    code, _, err = _run(["estimate", _write(tmp_path, text), "--trace"], capsys)
    assert code == 2
    assert ":4: model.dtype:" in err and "bitsandbytes" in err


def test_without_an_instance_the_verdict_is_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SEED_FINAL.split("compute:")[0]
    code, out, _ = _run(["estimate", _write(tmp_path, text), "--format", "json"], capsys)
    assert code == 0
    mem = json.loads(out)["memory"]
    assert mem["fits"] is None and mem["capacity_gib"] is None and mem["peak_gib"] > 13


def test_without_a_model_exits_2_naming_the_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "training:\n  output_dir: /tmp/out\n"
    code, _, err = _run(["estimate", _write(tmp_path, text)], capsys)
    assert code == 2 and "model" in err and "Traceback" not in err
