"""Issue 16, readers half: formats claimed by evidence, fields judged for the pinned release.

Each fixture is a small file of the shape seen in a public repo (named in the test), written
here by hand: open-instruct's own-dataclass YAMLs, torchtune configs, a tokenizer's vocab.json,
TRL recipes in repos that pin an older transformers, notebooks that ``pip install`` one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from preflight.cli import cli
from preflight.readers import read_sources, read_sources_with_notes
from preflight.readers.detect import claim
from preflight.readers.versions import pins_in_source, pins_in_text
from preflight.spec import SpecError


def _check(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["check", *args, "--format", "json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else {}


def _rules(report: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in report.get("findings", []):
        if f["severity"] != "info":
            out.setdefault(f["rule"], []).append(f["message"])
    return out


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- detection ------------------------------------------------------------------------------

OPEN_INSTRUCT = """\
model_name_or_path: meta-llama/Llama-3.1-8B
use_flash_attn: true
tokenizer_name: meta-llama/Llama-3.1-8B
use_slow_tokenizer: true
dataset_mixer: {allenai/tulu-3-sft-mixture: 1.0}
max_seq_length: 4096
preprocessing_num_workers: 128
per_device_train_batch_size: 1
gradient_accumulation_steps: 2
learning_rate: 5.0e-06
lr_scheduler_type: linear
warmup_ratio: 0.03
num_train_epochs: 2
output_dir: output/tulu3_8b_sft/
with_tracking: true
report_to: [wandb]
logging_steps: 1
checkpointing_steps: epoch
dataset_mix_dir: output/tulu3_8b_sft/
use_lora: false
reduce_loss: sum
"""


def test_own_dataclass_yaml_is_not_a_trl_recipe() -> None:
    """open-instruct's configs (configs/train_configs/tulu3/*.yaml) feed its own FlatArguments."""
    from ruamel.yaml import YAML

    kind, why = claim(YAML(typ="safe").load(OPEN_INSTRUCT))
    assert kind is None
    assert "only that script can judge" in why


def test_a_real_trl_recipe_is_still_claimed() -> None:
    data = {
        "model_name_or_path": "Qwen/Qwen2.5-0.5B",
        "dataset_name": "trl-lib/Capybara",
        "learning_rate": 2e-5,
        "per_device_train_batch_size": 2,
        "packing": True,
        "output_dir": "out",
        "use_peft": True,
        "lora_r": 32,
    }
    assert claim(data)[0] == "recipe"


def test_two_llamafactory_markers_without_stage_claim_nothing() -> None:
    assert claim({"template": "llama3", "cutoff_len": 1024, "foo": 1})[0] is None
    full = {"stage": "sft", "finetuning_type": "lora", "model_name_or_path": "m", "template": "x"}
    assert claim(full)[0] == "llamafactory"


TORCHTUNE = """\
model:
  _component_: torchtune.models.llama3_2.lora_llama3_2_1b
  lora_attn_modules: ['q_proj', 'v_proj']
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
batch_size: 4
epochs: 1
"""


def test_torchtune_config_named_alone_is_nothing_to_check(tmp_path: Path) -> None:
    path = _write(tmp_path / "1B_lora.yaml", TORCHTUNE)
    code, _ = _check(str(path))
    assert code == 2
    with pytest.raises(SpecError) as err:
        read_sources([path])
    assert "preflight does not read torchtune configs" in err.value.issues[0].message


def test_unsupported_formats_are_named_once_in_a_walk(tmp_path: Path) -> None:
    for n in range(3):
        _write(tmp_path / f"tt{n}.yaml", TORCHTUNE)
    _write(tmp_path / "verl.yaml", "actor_rollout_ref: {model: {path: x}}\ntrainer: {}\n")
    _write(
        tmp_path / "sft.yaml",
        "model_name_or_path: Qwen/Qwen2.5-0.5B\nlearning_rate: 2.0e-5\noutput_dir: out\n",
    )
    sources, notes = read_sources_with_notes([tmp_path])
    assert [s.path.name for s in sources] == ["sft.yaml"]
    assert "3 torchtune configs found: format not supported, not checked" in notes
    assert "1 verl config found: format not supported, not checked" in notes
    assert any(n.startswith("checked 1 files; 4 skipped") for n in notes)


def test_vocab_json_is_data_by_its_shape(tmp_path: Path) -> None:
    """A tokenizer's vocab.json is classed by its shape before any positional parse (the time
    it takes is measured in benchmarks/readers/file_times.json, not here)."""
    vocab = {f"tok{i}": i for i in range(60_000)} | {"learning_rate": 1, "output_dir": 2}
    path = _write(tmp_path / "vocab.json", json.dumps(vocab))
    with pytest.raises(SpecError) as err:
        read_sources([path])
    assert "data, not a config" in err.value.issues[0].message


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("hello.py", "print(1)\n"),
        ("ds_config.json", '{"zero_optimization": {"stage": 2}, "train_batch_size": "auto"}'),
        ("xgb.py", "import xgboost\nmodel = xgboost.XGBClassifier()\nmodel.fit(X, y)\n"),
    ],
)
def test_named_file_with_nothing_to_check_is_exit_2(tmp_path: Path, name: str, text: str) -> None:
    code, _ = _check(str(_write(tmp_path / name, text)))
    assert code == 2


# --- versions -------------------------------------------------------------------------------


def test_pins_from_requirements_pyproject_notebook_and_estimator() -> None:
    assert pins_in_text("torch\ntransformers==4.56.2\ntrl>=0.19,<0.20\n") == {
        "transformers": "4.56.2",
        "trl": "0.19.1",
    }
    assert pins_in_text('dependencies = ["transformers[torch]~=4.44.0", "peft"]') == {
        "transformers": "4.44.0"
    }
    assert pins_in_text("transformers>=4.40\n") == {}  # pip installs the newest: no pin
    nb = '"!pip install -q transformers==4.56.2 peft==0.13.0 trl==0.12.2\\n",'
    assert pins_in_source(nb) == {"transformers": "4.56.2", "peft": "0.13.0", "trl": "0.12.2"}
    est = 'HuggingFace(entry_point="train.py", transformers_version="4.36", pytorch_version="2.1")'
    assert pins_in_source(est) == {"transformers": "4.36"}


RECIPE_OLD_KEYS = """\
model_name_or_path: Qwen/Qwen2.5-0.5B
dataset_name: trl-lib/Capybara
evaluation_strategy: steps
save_safetensors: true
overwrite_output_dir: true
learning_rate: 2.0e-5
output_dir: out
"""


def test_keys_valid_in_the_pinned_transformers_are_not_errors(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    _write(tmp_path / "requirements.txt", "transformers==4.44.2\ntrl==0.9.6\n")
    recipe = _write(tmp_path / "recipes" / "sft.yaml", RECIPE_OLD_KEYS)
    code, report = _check(str(recipe))
    assert "PF501" not in _rules(report), _rules(report)
    assert report["versions"]["transformers"]["version"] == "4.44.2"
    assert "requirements.txt" in report["versions"]["transformers"]["why"]
    # the same file judged for transformers 5 (the flag wins over the pins)
    code, report = _check(str(recipe), "--transformers", "5.3")
    assert code == 1
    assert len(_rules(report)["PF501"]) == 3
    assert report["versions"]["transformers"] == {"version": "5.3", "why": "--transformers"}


def test_a_key_newer_than_the_pinned_release_is_named_with_when_it_came(tmp_path: Path) -> None:
    recipe = _write(
        tmp_path / "sft.yaml",
        "model_name_or_path: Qwen/Qwen2.5-0.5B\neval_strategy: steps\nlearning_rate: 2.0e-5\n",
    )
    code, report = _check(str(recipe), "--transformers", "4.36")
    assert code == 1
    (message,) = _rules(report)["PF502"]
    assert "transformers 4.36" in message and "added in 4.41" in message


def test_trl_field_history_max_prompt_length_stayed_in_grpo_until_0_27(tmp_path: Path) -> None:
    recipe = _write(
        tmp_path / "grpo.yaml",
        "model_name_or_path: Qwen/Qwen2.5-0.5B\nnum_generations: 8\nmax_prompt_length: 512\n"
        "max_completion_length: 256\nlearning_rate: 1.0e-6\n",
    )
    _, report = _check(str(recipe), "--trl", "0.26")
    assert "PF510" not in _rules(report), _rules(report)
    _, report = _check(str(recipe), "--trl", "1.16")
    (message,) = _rules(report)["PF510"]
    assert "last in trl 0.27" in message


def test_bad_version_flag_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["check", "x.yaml", "--transformers", "latest"])
    assert result.exit_code == 2


# --- values ---------------------------------------------------------------------------------


def test_value_typos_exit_1_with_field_and_did_you_mean(tmp_path: Path) -> None:
    recipe = _write(
        tmp_path / "sft.yaml",
        "model_name_or_path: Qwen/Qwen2.5-0.5B\noptim: adamw_torch_fusd\n"
        "lr_scheduler_type: cosin\nlearning_rate: 2.0e-5\n",
    )
    code, report = _check(str(recipe))
    assert code == 1
    found = {f["field"]: f for f in report["findings"] if f["rule"] == "PF505"}
    assert "did you mean `adamw_torch_fused`?" in found["training.optim"]["message"]
    assert "did you mean `cosine`?" in found["training.lr_scheduler_type"]["message"]
    assert found["training.optim"]["line"] == 2


def test_a_value_newer_than_the_pinned_release_is_an_error(tmp_path: Path) -> None:
    recipe = _write(
        tmp_path / "sft.yaml",
        "model_name_or_path: Qwen/Qwen2.5-0.5B\nsave_strategy: best\neval_strategy: steps\n"
        "learning_rate: 2.0e-5\n",
    )
    assert "PF505" not in _rules(_check(str(recipe))[1])
    _, report = _check(str(recipe), "--transformers", "4.45")
    assert "PF505" in _rules(report)


# --- TRL defaults ---------------------------------------------------------------------------


def test_sft_recipe_memory_uses_sftconfig_defaults(tmp_path: Path) -> None:
    """SFTConfig turns gradient checkpointing on from trl 0.22: same recipe, less memory."""
    recipe = _write(
        tmp_path / "sft.yaml",
        "model_name_or_path: Qwen/Qwen2.5-7B\nper_device_train_batch_size: 8\n"
        "learning_rate: 2.0e-5\n",
    )
    _, new = _check(str(recipe), "--trl", "1.16")
    _, old = _check(str(recipe), "--trl", "0.19")
    assert new["memory"]["peak_gib"] < old["memory"]["peak_gib"]
    assert any("gradient_checkpointing=True" in n for n in new["notes"])
    assert not any("gradient_checkpointing=True" in n for n in old["notes"])


# --- Python reading -------------------------------------------------------------------------

SCRIPT_EXPR = """\
from transformers import TrainingArguments

do_eval = True
args = TrainingArguments(
    output_dir="out",
    evaluation_strategy="steps" if do_eval else "no",
    save_total_limit=2,
)
if do_eval:
    args.save_total_limit = 10
"""


def test_removed_key_with_an_expression_value_is_still_the_removed_key(tmp_path: Path) -> None:
    script = _write(tmp_path / "train.py", SCRIPT_EXPR)
    _, report = _check(str(script), "--transformers", "5.0")
    (message,) = _rules(report)["PF501"]
    assert "`evaluation_strategy` was removed" in message


def test_attribute_set_inside_an_if_is_maybe_set(tmp_path: Path) -> None:
    (loaded,) = read_sources([_write(tmp_path / "train.py", SCRIPT_EXPR)])
    assert "training.save_total_limit" not in (loaded.stated or set())
    assert any("only when the `if` at line 9 holds" in n for n in loaded.notes), loaded.notes


def test_attribute_set_under_the_main_guard_is_set(tmp_path: Path) -> None:
    text = SCRIPT_EXPR.replace("if do_eval:", 'if __name__ == "__main__":')
    (loaded,) = read_sources([_write(tmp_path / "train.py", text)])
    assert loaded.spec.training.values["save_total_limit"] == 10


# --- ownership ------------------------------------------------------------------------------

AXOLOTL = """\
base_model: Qwen/Qwen2.5-0.5B
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
sequence_len: 2048
micro_batch_size: 2
num_epochs: 1
group_by_length: true
save_safetensors: true
include_tokens_per_second: true
saves_per_epoch: 1
output_dir: ./outputs
"""


def test_axolotl_own_keys_are_not_judged_as_training_arguments(tmp_path: Path) -> None:
    """axolotl maps group_by_length / include_tokens_per_second itself; save_safetensors is
    its own saving option (axolotl-ai-cloud/axolotl core/builders, utils/schemas/model.py)."""
    config = _write(tmp_path / "lora.yml", AXOLOTL)
    _, report = _check(str(config), "--transformers", "5.24")
    rules = _rules(report)
    assert "PF501" not in rules and "PF502" not in rules, rules


def test_placeholders_are_unknown_values_not_paths(tmp_path: Path) -> None:
    """axolotl's .runpod config: `resume_from_checkpoint: ${RESUME_FROM_CHECKPOINT}`."""
    text = (
        AXOLOTL + "resume_from_checkpoint: ${RESUME_FROM_CHECKPOINT}\nhub_model_id: '{{ hub }}'\n"
    )
    _, report = _check(str(_write(tmp_path / "config.yaml", text)))
    assert "PF208" not in _rules(report), _rules(report)
    assert any("filled in at run time" in n for n in report["notes"])


def test_axolotl_own_optimizer_is_not_a_value_error(tmp_path: Path) -> None:
    text = AXOLOTL + "optimizer: muon\nlr_scheduler: rex\n"
    _, report = _check(str(_write(tmp_path / "config.yaml", text)))
    assert "PF505" not in _rules(report), _rules(report)
    _, report = _check(
        str(_write(tmp_path / "typo.yaml", AXOLOTL + "optimizer: adamw_torch_fusd\n"))
    )
    assert "PF505" in _rules(report)


def test_a_projects_own_training_arguments_class_is_not_transformers(tmp_path: Path) -> None:
    """LLaMA-Factory v1 (tests_v1/core/utils/test_batching.py) has its own TrainingArguments."""
    text = (
        "from llamafactory.v1.config import TrainingArguments\n\n"
        "args = TrainingArguments(output_dir='o', micro_batch_size=1, cutoff_len=10)\n"
    )
    code, _ = _check(str(_write(tmp_path / "test_batching.py", text)))
    assert code == 2  # nothing of transformers' to check


SAGEMAKER_SPEC = """\
model: {name: Qwen/Qwen2.5-0.5B}
training: {output_dir: /opt/ml/checkpoints, save_steps: 100, max_steps: 5000}
compute:
  provider: sagemaker
  instance_type: ml.g5.xlarge
  checkpoint_s3_uri: s3://bucket/ckpt
  max_run_hours: 24
"""


def test_pf207_fix_exists_in_the_release_the_job_runs_with(tmp_path: Path) -> None:
    spec = _write(tmp_path / "job.yaml", SAGEMAKER_SPEC)
    _, new = _check(str(spec), "--transformers", "5.3")
    _, old = _check(str(spec), "--transformers", "4.56")
    (f_new,) = [f for f in new["findings"] if f["rule"] == "PF207"]
    (f_old,) = [f for f in old["findings"] if f["rule"] == "PF207"]
    assert "enable_jit_checkpoint: true" in f_new["fix"]
    assert "transformers 4.56" in f_old["message"]
    assert "SIGTERM handler" in f_old["fix"] and "enable_jit_checkpoint: true" not in f_old["fix"]


def test_pins_in_notebook_cells_with_continuations_and_pep723_blocks() -> None:
    """unslothai/notebooks: `!uv pip install ... \\` over lines; molab scripts: PEP 723."""
    from preflight.readers.versions import notebook_code

    nb = json.dumps(
        {
            "cells": [
                {"cell_type": "markdown", "source": ["pip install transformers==9.9.9"]},
                {
                    "cell_type": "code",
                    "source": [
                        "%%capture\n",
                        "!uv pip install -qqq \\\n",
                        '    "torch>=2.8.0" transformers==4.56.2 \\\n',
                        "    trl==0.22.2\n",
                    ],
                },
            ],
            "nbformat": 4,
        }
    )
    assert pins_in_source(notebook_code(nb)) == {"transformers": "4.56.2", "trl": "0.22.2"}
    script = '# /// script\n# dependencies = [\n#     "trl==0.22.2",\n# ]\n# ///\nimport trl\n'
    assert pins_in_source(script) == {"trl": "0.22.2"}


XGBOOST_LAUNCH = """\
import sagemaker
from sagemaker.estimator import Estimator

container = sagemaker.image_uris.retrieve("xgboost", "us-east-1", "1.7-1")
xgb = Estimator(
    image_uri=container,
    role="arn:aws:iam::111122223333:role/sm",
    {count}
    output_path="s3://bucket/out",
)
xgb.set_hyperparameters(max_depth=5, eta=0.2, num_round=100)
xgb.fit({{"train": "s3://bucket/train"}})
"""


def test_builtin_algorithm_job_gets_no_checkpoint_findings(tmp_path: Path) -> None:
    """amazon-sagemaker-examples: XGBoost / BlazingText notebooks drew PF101 and PF207."""
    v2 = XGBOOST_LAUNCH.format(count='instance_count=1, instance_type="ml.m5.xlarge",')
    code, _ = _check(str(_write(tmp_path / "v2.py", v2)))
    assert code == 2  # nothing of a Trainer job to check
    v1 = XGBOOST_LAUNCH.format(count='train_instance_count=1, train_instance_type="ml.m5.xlarge",')
    _, report = _check(str(_write(tmp_path / "v1.py", v1)))
    rules = _rules(report)
    assert "PF511" in rules and "PF101" not in rules and "PF207" not in rules, rules


def test_modeltrainer_running_a_shell_command_is_not_judged(tmp_path: Path) -> None:
    text = (
        "from sagemaker.train import ModelTrainer\n"
        "from sagemaker.train.configs import SourceCode, Compute\n"
        "trainer = ModelTrainer(\n"
        '    training_image="123.dkr.ecr.us-east-1.amazonaws.com/my:latest",\n'
        '    source_code=SourceCode(source_dir="scripts", command="bash run.sh"),\n'
        '    compute=Compute(instance_type="ml.p4d.24xlarge", instance_count=1),\n'
        ")\ntrainer.train()\n"
    )
    code, _ = _check(str(_write(tmp_path / "launch.py", text)))
    assert code == 2


SFT_SCRIPT = """\
from dataclasses import dataclass
from trl import ModelConfig, SFTConfig, SFTTrainer, TrlParser


@dataclass
class ScriptArguments:
    dataset_name: str = "trl-lib/Capybara"
    max_seq_length: int = 2048
    use_liger: bool = False


if __name__ == "__main__":
    parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))
    script_args, training_args, model_args = parser.parse_args_and_config()
    SFTTrainer(model=model_args.model_name_or_path, args=training_args).train()
"""
RECIPE_SCRIPT_KEYS = """\
model_name_or_path: Qwen/Qwen2.5-0.5B
dataset_name: trl-lib/Capybara
max_seq_length: 2048
use_liger: true
learning_rate: 2.0e-5
output_dir: out
"""


def test_keys_of_the_scripts_own_dataclass_are_the_scripts(tmp_path: Path) -> None:
    """TrlParser gives `max_seq_length`/`use_liger` to the script's ScriptArguments."""
    recipe = _write(tmp_path / "recipes" / "sft.yaml", RECIPE_SCRIPT_KEYS)
    _, report = _check(str(recipe))
    assert "PF510" in _rules(report)  # no script in sight: SFTConfig would get them
    (tmp_path / ".git").mkdir()
    _write(tmp_path / "scripts" / "sft.py", SFT_SCRIPT)
    _, report = _check(str(recipe))
    assert "PF510" not in _rules(report), _rules(report)
    assert any("read by ScriptArguments in scripts/sft.py" in n for n in report["notes"])


def test_trl_bf16_default_follows_fp16(tmp_path: Path) -> None:
    """trl examples/notebooks/grpo_qwen3_vl.ipynb: GRPOConfig(fp16=True) is no fp16+bf16."""
    text = (
        "from trl import GRPOConfig\n"
        "args = GRPOConfig(output_dir='o', fp16=True, max_steps=100, learning_rate=2e-5)\n"
    )
    _, report = _check(str(_write(tmp_path / "grpo.py", text)))
    assert "PF504" not in _rules(report), _rules(report)


def test_builtin_algorithm_hyperparameters_are_not_training_arguments(tmp_path: Path) -> None:
    """sm-deepar_example.ipynb: DeepAR's `learning_rate`/`epochs` hyperparameters."""
    text = (
        "import sagemaker\n"
        'image = sagemaker.image_uris.retrieve("forecasting-deepar", "us-east-1")\n'
        "est = sagemaker.estimator.Estimator(image_uri=image, role='r', "
        "train_instance_count=1, train_instance_type='ml.c4.2xlarge')\n"
        "est.set_hyperparameters(epochs=400, learning_rate=1e-3, time_freq='H')\n"
    )
    _, report = _check(str(_write(tmp_path / "deepar.py", text)))
    rules = _rules(report)
    assert "PF511" in rules and not {"PF101", "PF207"} & set(rules), rules


def test_unsloth_patched_configs_drop_retired_keys(tmp_path: Path) -> None:
    """unslothai/notebooks: `from unsloth import ...` before GRPOConfig(max_prompt_length=...,
    warmup_ratio=...): unsloth's config compat drops or maps them (rl_config_compat.py)."""
    body = (
        "from trl import GRPOConfig\n"
        "args = GRPOConfig(output_dir='o', max_prompt_length=256, warmup_ratio=0.1,\n"
        "                  learning_rate=5e-6, max_steps=500)\n"
    )
    _, plain = _check(str(_write(tmp_path / "plain.py", body)))
    assert {"PF501", "PF510"} <= set(_rules(plain))
    _, patched = _check(str(_write(tmp_path / "uns.py", "from unsloth import FastModel\n" + body)))
    assert not {"PF501", "PF502", "PF510"} & set(_rules(patched)), _rules(patched)


def test_handbook_dataset_mixture_test_split_is_eval_data(tmp_path: Path) -> None:
    """alignment-handbook recipes: `dataset_mixture.test_split_size` gives the eval split."""
    text = (
        "model_name_or_path: mistralai/Mistral-7B-v0.1\n"
        "dataset_mixture:\n  datasets:\n    - id: HuggingFaceH4/ultrachat_200k\n"
        "      split: train_sft\n  test_split_size: 1000\n"
        "eval_strategy: epoch\ndo_eval: true\nlearning_rate: 2.0e-5\noutput_dir: out\n"
    )
    _, report = _check(str(_write(tmp_path / "config.yaml", text)))
    assert "PF209" not in _rules(report), _rules(report)


def test_hyperparameters_of_an_unseen_script_are_not_pf502(tmp_path: Path) -> None:
    """smp-train-gptj notebook: `activation_checkpointing: 1` is its script's own flag."""
    text = (
        "from sagemaker.huggingface import HuggingFace\n"
        "est = HuggingFace(entry_point='train_gptj.py', source_dir='code', role='r',\n"
        "    instance_type='ml.p4d.24xlarge', instance_count=1, transformers_version='4.21',\n"
        "    pytorch_version='1.10', py_version='py38',\n"
        "    hyperparameters={'activation_checkpointing': 1, 'save_total_limit': 3})\n"
        "est.fit()\n"
    )
    _, report = _check(str(_write(tmp_path / "launch.py", text)))
    assert "PF502" not in _rules(report), _rules(report)
    assert report["versions"]["transformers"]["version"] == "4.21"


def test_old_evaluation_strategy_counts_as_the_eval_strategy(tmp_path: Path) -> None:
    """sm-finetuning_huggingface_with_your_own_scripts: transformers 4.17 and
    `evaluation_strategy="epoch"` with load_best_model_at_end is no PF203."""
    text = (
        "from transformers import Seq2SeqTrainingArguments\n"
        "args = Seq2SeqTrainingArguments(output_dir='o', load_best_model_at_end=True,\n"
        "    evaluation_strategy='epoch', save_strategy='epoch')\n"
    )
    _, report = _check(str(_write(tmp_path / "train.py", text)), "--transformers", "4.40")
    rules = _rules(report)
    assert "PF203" not in rules and "PF501" not in rules, rules


def test_pytorch_estimator_whose_script_is_no_trainer_job(tmp_path: Path) -> None:
    """sm-distributed_data_parallelism_pytorch: an MNIST script launched with PyTorch(...)."""
    _write(tmp_path / "code" / "mnist.py", "import torch\nmodel = torch.nn.Linear(784, 10)\n")
    text = (
        "from sagemaker.pytorch import PyTorch\n"
        "est = PyTorch(entry_point='mnist.py', source_dir='code', role='r', framework_version="
        "'2.1', py_version='py310', instance_type='ml.p3.16xlarge', instance_count=2)\n"
        "est.fit()\n"
    )
    code, _ = _check(str(_write(tmp_path / "launch.py", text)))
    assert code == 2  # no Trainer job to judge
