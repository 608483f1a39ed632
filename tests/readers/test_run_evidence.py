"""Run-size evidence read from the file, and launch facts PF704/PF207 need: the readers
benchmark's false findings (benchmarks/readers/review.md), each modelled on the real file and
checked through the real CLI, with the cases that must keep firing next to them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from preflight.cli import cli
from preflight.run_evidence import file_is_a_test, source_module, train_slice


def _check(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["check", *args, "--format", "json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else {}


def _by_rule(report: dict) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for f in report.get("findings", []):
        out.setdefault(f["rule"], []).append((f["severity"], f["message"]))
    return out


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _notebook(path: Path, *cells: str) -> Path:
    nb = {
        "cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": []} for c in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return _write(path, json.dumps(nb))


# peft examples/adamss_finetuning/test_adamss_quick.py, trimmed to what the evidence reads
QUICK = """\
from datasets import load_dataset
from transformers import Trainer, TrainingArguments
ds = load_dataset("beans")
train_val = ds["train"].train_test_split(test_size=0.2)
train_ds = train_val["train"].select(range({n}))
val_ds = train_val["test"].select(range(50))
args = TrainingArguments(output_dir="./out", num_train_epochs={epochs},
    per_device_train_batch_size=8, save_strategy="no", report_to="none")
trainer = Trainer(model=None, args=args, train_dataset=train_ds, eval_dataset=val_ds)
trainer.train()
"""


def test_small_train_slice_makes_pf201_an_info(tmp_path: Path) -> None:
    path = _write(tmp_path / "quick_run.py", QUICK.format(n=100, epochs=1))
    _, report = _check(str(path))
    found = _by_rule(report)["PF201"]
    assert found[0][0] == "info", found
    assert "100-example slice" in found[0][1], found


def test_full_size_slice_keeps_pf201_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "quick_run.py", QUICK.format(n=50_000, epochs=3))
    _, report = _check(str(path))
    assert _by_rule(report)["PF201"][0][0] == "error", report["findings"]


def test_notebook_slice_through_names_and_a_wrapper(tmp_path: Path) -> None:
    """peft cpt_train_and_inference.ipynb: range(MAX_ICL, NUM + MAX_ICL), wrapped in a dataset
    class, 5 epochs."""
    path = _notebook(
        tmp_path / "cpt.ipynb",
        "MAX_ICL_SAMPLES = 10\nNUM_TRAINING_SAMPLES = 100\n",
        "from transformers import Trainer, TrainingArguments\n"
        "train_dataset = dataset['train'].select(range(MAX_ICL_SAMPLES, "
        "NUM_TRAINING_SAMPLES + MAX_ICL_SAMPLES)).map(f)\n"
        "cpt_train_dataset = CPTDataset(train_dataset, tokenizer)\n",
        "%pip install peft\n"
        "args = TrainingArguments(output_dir='o', num_train_epochs=5, save_strategy='no',\n"
        "    per_device_train_batch_size=1)\n"
        "trainer = Trainer(model=m, args=args, train_dataset=cpt_train_dataset)\n",
    )
    module = source_module(path)
    assert module is not None and train_slice(module) == 100
    _, report = _check(str(path))
    assert _by_rule(report)["PF201"][0][0] == "info", report["findings"]


def test_whole_split_is_no_evidence(tmp_path: Path) -> None:
    text = QUICK.replace('train_val["train"].select(range({n}))', 'train_val["train"]')
    path = _write(tmp_path / "train.py", text.format(epochs=1))
    module = source_module(path)
    assert module is not None and train_slice(module) is None


def test_split_slice_string(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.py",
        "ds = load_dataset('x', split='train[:200]')\nTrainer(train_dataset=ds)\n",
    )
    module = source_module(path)
    assert module is not None and train_slice(module) == 200


def test_test_files_by_pytest_naming(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    in_tests = _write(tmp_path / "repo" / "tests" / "cpt_check.py", "def test_cpt():\n    pass\n")
    helper = _write(tmp_path / "repo" / "tests" / "helpers.py", "x = 1\n")
    config = _write(tmp_path / "repo" / "tests" / "config.yml", "save_strategy: 'no'\n")
    named = _write(tmp_path / "repo" / "examples" / "test_quick.py", "x = 1\n")
    plain = _write(tmp_path / "repo" / "examples" / "train.py", "x = 1\n")
    assert file_is_a_test(in_tests) == "a test file"
    assert file_is_a_test(named) == "a test file"
    assert file_is_a_test(plain) is None
    assert file_is_a_test(helper) is None
    assert file_is_a_test(config) is None  # a config copied into tests/ is what users run


def test_unit_test_in_tests_folder_is_info(tmp_path: Path) -> None:
    """peft tests/test_cpt.py: a Trainer run inside a unit test."""
    (tmp_path / ".git").mkdir()
    text = QUICK.replace("select(range({n}))", "shuffle()").format(epochs=2)
    path = _write(tmp_path / "tests" / "test_cpt.py", text)
    _, report = _check(str(path))
    found = _by_rule(report)["PF201"]
    assert found[0][0] == "info" and "a test file" in found[0][1], found


# aws sm-mixtral_8x7b_fine_tune_and_deploy: a HuggingFace estimator on a 4-GPU instance whose
# scripts/run_clm.py loads the 4-bit model with device_map="auto"
LAUNCH = """\
from sagemaker.huggingface import HuggingFace
est = HuggingFace(entry_point='run_clm.py', source_dir='scripts', role='r',
    instance_type='ml.g5.24xlarge', instance_count=1, transformers_version='4.36',
    pytorch_version='2.1', py_version='py310',
    hyperparameters={'epochs': 3, 'per_device_train_batch_size': 2})
est.fit()
"""
RUN_CLM = """\
import argparse
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer, TrainingArguments
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--per_device_train_batch_size", type=int, default=1)
args, _ = parser.parse_known_args()
model = AutoModelForCausalLM.from_pretrained(args.model_id, use_cache=False,
    device_map={device_map},
    quantization_config=BitsAndBytesConfig(load_in_4bit=True))
targs = TrainingArguments(output_dir="/tmp", num_train_epochs=args.epochs,
    per_device_train_batch_size=args.per_device_train_batch_size, save_strategy="no")
Trainer(model=model, args=targs, train_dataset=ds).train()
"""


def test_device_map_auto_is_no_dataparallel(tmp_path: Path) -> None:
    _write(tmp_path / "scripts" / "run_clm.py", RUN_CLM.format(device_map='"auto"'))
    _, report = _check(str(_write(tmp_path / "launch.py", LAUNCH)))
    assert "PF704" not in _by_rule(report), report["findings"]


def test_single_device_map_still_pf704(tmp_path: Path) -> None:
    _write(tmp_path / "scripts" / "run_clm.py", RUN_CLM.format(device_map='{"": 0}'))
    _, report = _check(str(_write(tmp_path / "launch.py", LAUNCH)))
    assert "PF704" in _by_rule(report), report["findings"]


def test_shell_entry_point_gets_no_trainer_advice(tmp_path: Path) -> None:
    """sm-smddp_bert: PyTorch(entry_point="train.sh") runs NVIDIA's BERT script, no Trainer."""
    text = (
        "from sagemaker.pytorch import PyTorch\n"
        "est = PyTorch(entry_point='train.sh', source_dir='.', role='r', framework_version="
        "'1.13', py_version='py39', instance_type='ml.p4d.24xlarge', instance_count=2,\n"
        "    distribution={'smdistributed': {'dataparallel': {'enabled': True}}})\n"
        "est.fit()\n"
    )
    _, report = _check(str(_write(tmp_path / "launch.py", text)))
    found = _by_rule(report)
    assert "PF207" not in found, report.get("findings")
    assert "PF101" in found  # no S3 checkpoint sync holds whatever the script is


def test_python_entry_point_still_judged(tmp_path: Path) -> None:
    text = (
        "from sagemaker.pytorch import PyTorch\n"
        "est = PyTorch(entry_point='train.py', source_dir='.', role='r', framework_version="
        "'2.1', py_version='py310', instance_type='ml.g5.xlarge', instance_count=1)\n"
        "est.fit()\n"
    )
    _, report = _check(str(_write(tmp_path / "launch.py", text)))
    assert "PF207" in _by_rule(report), report.get("findings")


def _ddp_notebook(path: Path, script: str) -> Path:
    """archived/sagemaker_job_tracking: the notebook writes its entry script itself."""
    return _notebook(
        path,
        "%%writefile mnist_ddp.py\n" + script,
        "from sagemaker.pytorch import PyTorch\n"
        "est = PyTorch(entry_point='./mnist_ddp.py', role='r', framework_version='1.13',\n"
        "    py_version='py39', instance_type='ml.g4dn.12xlarge', instance_count=2,\n"
        "    hyperparameters={'epochs': 10})\n"
        "est.fit()\n",
    )


def test_entry_script_written_by_the_notebook_is_read_as_evidence(tmp_path: Path) -> None:
    mnist = "import torch\nimport torch.distributed as dist\nmodel = torch.nn.Linear(784, 10)\n"
    code, report = _check(str(_ddp_notebook(tmp_path / "a" / "nb.ipynb", mnist)))
    assert code == 2 and "PF704" not in _by_rule(report)  # no Trainer job to judge
    hf = "from transformers import Trainer, TrainingArguments\nTrainer(model=m).train()\n"
    _, report = _check(str(_ddp_notebook(tmp_path / "b" / "nb.ipynb", hf)))
    assert "PF704" in _by_rule(report), report.get("findings")


SPREAD_LAUNCH = LAUNCH.replace("ml.g5.24xlarge", "ml.g5.12xlarge").replace(
    "'epochs': 3,", "'epochs': 3, 'model_id': 'meta-llama/Meta-Llama-3-70B',"
)
SPREAD_SCRIPT = RUN_CLM.replace(
    "targs = ",
    "from peft import LoraConfig\nLoraConfig(r=16, target_modules=['q_proj', 'v_proj'])\ntargs = ",
)


def test_model_spread_by_device_map_is_judged_against_all_gpus(tmp_path: Path) -> None:
    """A 70B QLoRA: ~35 GiB of 4-bit weights overflow one 22 GiB A10G, not the four that
    device_map="auto" spreads it over. The 4-bit dtype comes from the script's loader although
    the model's name comes from the estimator's hyperparameters."""
    _write(tmp_path / "a" / "scripts" / "run_clm.py", SPREAD_SCRIPT.format(device_map='"auto"'))
    _, report = _check(str(_write(tmp_path / "a" / "launch.py", SPREAD_LAUNCH)))
    assert report["memory"]["peak_gib"] < 4 * 22, report["memory"]  # nf4 was read
    assert "PF401" not in _by_rule(report), report["findings"]
    _write(tmp_path / "b" / "scripts" / "run_clm.py", SPREAD_SCRIPT.format(device_map='{"": 0}'))
    _, report = _check(str(_write(tmp_path / "b" / "launch.py", SPREAD_LAUNCH)))
    assert "PF401" in _by_rule(report), report["findings"]
