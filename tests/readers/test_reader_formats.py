"""Readers one behaviour at a time: detection, forcing, errors, safety, positions, PF510/PF511."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from preflight.pipeline import build_plan, check_plan
from preflight.readers import read_file, read_sources
from preflight.readers.detect import kind_of_mapping
from preflight.spec import SpecError

for _module in ("preflight.rules.trl", "preflight.rules.sagemaker_sdk"):
    importlib.import_module(_module)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _rules(path: Path) -> dict[tuple[str, str | None], tuple[int | None, int | None]]:
    findings = check_plan(build_plan(read_file(path)))
    return {
        (f.rule, f.field): (f.line, f.cell)
        for f in findings
        if not f.message.startswith("not checked")
    }


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"training": {"output_dir": "x"}, "model": {"name": "tiny-mistral"}}, "spec"),
        ({"distributed_type": "MULTI_GPU", "num_processes": 2}, "accelerate"),
        ({"zero_optimization": {"stage": 2}}, "deepspeed"),
        ({"base_model": "m", "micro_batch_size": 1, "sequence_len": 512}, "axolotl"),
        ({"model_name_or_path": "m", "learning_rate": 1e-4}, "recipe"),
        ({"stage": "sft", "finetuning_type": "lora", "output_dir": "o"}, "llamafactory"),
        ({"save_steps": 10, "save_total_limit": 2, "logging_steps": 5}, "recipe"),
        ({"name": "docs", "version": "1.0"}, None),
        ([{"source": "a", "target": "b"}], None),
    ],
)
def test_format_is_found_from_the_content(data: object, kind: str | None) -> None:
    assert kind_of_mapping(data) == kind


def test_input_format_forces_the_reader(tmp_path: Path) -> None:
    # Two training keys only: not enough for detection, enough when the user says it is a recipe.
    path = _write(tmp_path / "params.yaml", "save_total_limit: 1\noutput_dir: /opt/ml/model\n")
    with pytest.raises(SpecError):
        read_file(path)  # read as a job spec: unknown sections
    loaded = read_sources([path], input_format="recipe")[0]
    assert loaded.kind == "recipe"
    assert loaded.spec.training.values == {"save_total_limit": 1, "output_dir": "/opt/ml/model"}
    assert loaded.lines["training.output_dir"] == 2


def test_unknown_input_format_is_refused() -> None:
    with pytest.raises(SpecError, match="unknown input format"):
        read_sources([Path("x.yaml")], input_format="toml")


def test_unparsable_file_named_by_the_user_is_exit_2(tmp_path: Path) -> None:
    bad = _write(tmp_path / "train.py", "def broken(:\n    pass\n")
    with pytest.raises(SpecError) as err:
        read_file(bad)
    assert err.value.issues[0].line == 1
    assert "syntax error" in err.value.issues[0].message
    yaml = _write(tmp_path / "r.yaml", "a: [1, 2\n")
    with pytest.raises(SpecError, match="invalid YAML"):
        read_file(yaml)


def test_unparsable_files_in_a_walk_are_skipped_with_a_note(tmp_path: Path) -> None:
    _write(tmp_path / "bad.yaml", "a: [1, 2\n")
    _write(tmp_path / "old.py", "print 'python 2'\nTrainingArguments(\n")
    good = _write(tmp_path / "recipe.yaml", "model_name_or_path: m\nsave_total_limit: 1\n")
    sources = read_sources([tmp_path])
    assert [s.path for s in sources] == [good]
    notes = "\n".join(sources[0].notes)
    assert "bad.yaml: does not parse" in notes
    assert "old.py: does not parse" in notes


def test_a_walk_with_nothing_to_check_is_exit_2(tmp_path: Path) -> None:
    _write(tmp_path / "README.md", "hello")
    _write(tmp_path / "util.py", "def f():\n    return 1\n")
    with pytest.raises(SpecError, match="no training configs found"):
        read_sources([tmp_path])


def test_nested_gitignore_and_never_entered_dirs(tmp_path: Path) -> None:
    recipe = "model_name_or_path: m\nsave_total_limit: 1\n"
    kept = _write(tmp_path / "configs" / "a.yaml", recipe)
    _write(tmp_path / "configs" / ".gitignore", "drafts/\n")
    _write(tmp_path / "configs" / "drafts" / "b.yaml", recipe)
    _write(tmp_path / ".venv" / "lib" / "c.yaml", recipe)
    _write(tmp_path / "node_modules" / "d.yaml", recipe)
    assert [s.path for s in read_sources([tmp_path])] == [kept]


def test_user_code_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    script = _write(
        tmp_path / "train.py",
        f"open({str(marker)!r}, 'w').write('x')\n"
        f"import os\nos.system('touch ' + {str(marker)!r})\n"
        "from transformers import TrainingArguments\n"
        "args = TrainingArguments(output_dir=__import__('os').getcwd(), save_steps=5)\n",
    )
    loaded = read_file(script)
    assert not marker.exists()
    assert loaded.spec.training.values == {"save_steps": 5}
    assert any("output_dir: could not be resolved" in n for n in loaded.notes)


def test_notebook_positions_are_cell_and_line_within_the_cell(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# title"]},
        {"cell_type": "code", "metadata": {}, "source": ["%pip install x\n", "import os"]},
        {
            "cell_type": "code",
            "metadata": {},
            "source": [
                "\n",
                "from transformers import TrainingArguments\n",
                "a = TrainingArguments(\n",
                "    output_dir='/opt/ml/model',\n",
                "    save_total_limit=1,\n",
                ")",
            ],
        },
    ]
    nb = _write(tmp_path / "n.ipynb", json.dumps({"cells": cells, "nbformat": 4, "metadata": {}}))
    loaded = read_file(nb)
    assert (loaded.lines["training.output_dir"], loaded.cells["training.output_dir"]) == (4, 3)
    assert (
        loaded.lines["training.save_total_limit"],
        loaded.cells["training.save_total_limit"],
    ) == (5, 3)
    found = _rules(nb)
    assert found[("PF101", "training.output_dir")] == (4, 3)  # PF102 folds into PF101


def test_rich_output_names_the_cell(tmp_path: Path) -> None:
    from preflight.cli import cli

    corpus = Path(__file__).parent / "corpus" / "notebooks" / "seed_broken.ipynb"
    result = CliRunner().invoke(cli, ["check", str(corpus)], terminal_width=200)
    assert result.exit_code == 1
    assert "(cell 4)" in result.stdout and "(cell 5)" in result.stdout


def test_argparse_defaults_and_hyperparameters_are_followed(tmp_path: Path) -> None:
    _write(
        tmp_path / "src" / "train.py",
        "import argparse\nfrom transformers import TrainingArguments\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--out', default='/opt/ml/checkpoints')\n"
        "p.add_argument('--keep', type=int, default=5)\n"
        "a = p.parse_args()\n"
        "TrainingArguments(output_dir=a.out, save_total_limit=a.keep)\n",
    )
    launch = _write(
        tmp_path / "launch.py",
        "from sagemaker.pytorch import PyTorch\n"
        "PyTorch(entry_point='train.py', source_dir='src', instance_type='ml.g5.xlarge',\n"
        "        hyperparameters={'keep': 1}, checkpoint_s3_uri='s3://b/c')\n",
    )
    loaded = read_file(launch)
    assert loaded.spec.training.values == {
        "output_dir": "/opt/ml/checkpoints",
        "save_total_limit": 1,
    }
    assert loaded.spec.compute is not None and loaded.spec.compute.checkpoint_s3_uri == "s3://b/c"
    assert any("a.keep = 1 (hyperparameter)" in n for n in loaded.notes)
    script = read_file(tmp_path / "src" / "train.py")
    assert script.spec.training.values["save_total_limit"] == 5


def test_pf510_fires_for_removed_trl_fields_and_not_for_current_ones(tmp_path: Path) -> None:
    old = _write(tmp_path / "a.py", "from trl import SFTConfig\nSFTConfig(max_seq_length=512)\n")
    new = _write(tmp_path / "b.py", "from trl import SFTConfig\nSFTConfig(max_length=512)\n")
    assert ("PF510", "training.max_seq_length") in _rules(old)
    assert ("PF502", "training.max_seq_length") not in _rules(old)  # one finding, not two
    assert not [k for k in _rules(new) if k[0] in {"PF510", "PF502"}]


def test_pf511_fires_for_sdk_v1_keywords_only(tmp_path: Path) -> None:
    v1 = _write(
        tmp_path / "a.py",
        "from sagemaker.huggingface import HuggingFace\n"
        "HuggingFace(entry_point='t.py', train_instance_type='ml.g5.xlarge',\n"
        "            train_volume_size=100, image_name='x')\n",
    )
    v2 = _write(
        tmp_path / "b.py",
        "from sagemaker.huggingface import HuggingFace\n"
        "HuggingFace(entry_point='t.py', instance_type='ml.g5.xlarge', volume_size=100)\n",
    )
    found = _rules(v1)
    assert found[("PF511", "compute.instance_type")] == (2, None)
    assert ("PF511", "compute.volume_size_gb") in found
    assert ("PF511", "compute.image_uri") in found
    loaded = read_file(v1)
    assert loaded.spec.compute is not None and loaded.spec.compute.volume_size_gb == 100
    assert not [k for k in _rules(v2) if k[0] == "PF511"]


def test_notebook_file_line_points_into_the_raw_json() -> None:
    from preflight.readers.notebook import notebook_file_line

    nb = Path(__file__).parent / "corpus" / "notebooks" / "seed_broken.ipynb"
    raw = nb.read_text().splitlines()
    file_line = notebook_file_line(nb, 4, 3)  # PF101's position: cell 4, line 3
    assert file_line is not None
    assert '"    output_dir=\\"/opt/ml/output/data\\",\\n"' in raw[file_line - 1]
    assert notebook_file_line(nb, 4, 99) is None
    assert notebook_file_line(nb, 42, 1) is None


def test_set_hyperparameters_after_the_estimator_is_built(tmp_path: Path) -> None:
    # the SDK v1 notebooks' pattern: Estimator(...) then estimator.set_hyperparameters(...)
    launch = _write(
        tmp_path / "launch.py",
        "from sagemaker.estimator import Estimator\n"
        "est = Estimator(image_uri='x', instance_type='ml.g5.xlarge')\n"
        "est.set_hyperparameters(save_total_limit=1, output_dir='/opt/ml/model')\n",
    )
    loaded = read_file(launch)
    assert loaded.spec.training.values == {"save_total_limit": 1, "output_dir": "/opt/ml/model"}
    assert loaded.lines["training.output_dir"] == 3


def test_hf_parser_yaml_file_and_attribute_assignment(tmp_path: Path) -> None:
    _write(
        tmp_path / "recipe.yaml",
        "model_name_or_path: mistralai/Mistral-7B-v0.1\nsave_total_limit: 1\nmax_seq_length: 512\n",
    )
    script = _write(
        tmp_path / "run.py",
        "from trl import ModelConfig, ScriptArguments, SFTConfig, TrlParser\n"
        "from transformers import AutoModelForCausalLM\n"
        "parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))\n"
        "script_args, training_args, model_args = parser.parse_yaml_file('recipe.yaml')\n"
        "model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)\n"
        "training_args.save_total_limit = 3\n",
    )
    loaded = read_file(script)
    # model_name_or_path belongs to ModelConfig, not to the trainer config
    assert loaded.spec.training.values == {"save_total_limit": 3, "max_seq_length": 512}
    assert loaded.lines["training.save_total_limit"] == 6
    assert loaded.spec.model is not None and loaded.spec.model.name == "mistralai/Mistral-7B-v0.1"
    assert loaded.trainer_config == "SFTConfig"


def test_cell_magics_writefile_is_python_bash_is_skipped(tmp_path: Path) -> None:
    cells = [
        {
            "cell_type": "code",
            "metadata": {},
            "source": ["%%bash\n", "pip install -q trl\n", "ls -la"],
        },
        {
            "cell_type": "code",
            "metadata": {},
            "source": [
                "%%writefile scripts/train.py\n",
                "from transformers import TrainingArguments\n",
                "TrainingArguments(output_dir='/opt/ml/model', save_steps=10)",
            ],
        },
    ]
    nb = _write(tmp_path / "n.ipynb", json.dumps({"cells": cells, "nbformat": 4, "metadata": {}}))
    loaded = read_file(nb)
    assert loaded.spec.training.values == {"output_dir": "/opt/ml/model", "save_steps": 10}
    assert (loaded.lines["training.output_dir"], loaded.cells["training.output_dir"]) == (3, 2)
    assert any("cell 1 is a %%bash cell" in n for n in loaded.notes)


def test_a_walk_does_not_parse_big_data_files(tmp_path: Path) -> None:
    rows = [{"source": "Kedu", "target": "Hello", "id": i} for i in range(40_000)]
    _write(tmp_path / "data" / "train.json", json.dumps({"rows": rows}))  # > 1 MB
    good = _write(tmp_path / "recipe.yaml", "model_name_or_path: m\nsave_total_limit: 1\n")
    sources = read_sources([tmp_path])
    assert [s.path for s in sources] == [good]
    assert any("train.json" in n and "too large" in n for n in sources[0].notes)


def test_gitignore_above_the_walked_directory_applies(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    _write(tmp_path / ".gitignore", "configs/old/\n")
    recipe = "model_name_or_path: m\nsave_total_limit: 1\n"
    kept = _write(tmp_path / "configs" / "a.yaml", recipe)
    _write(tmp_path / "configs" / "old" / "b.yaml", recipe)
    assert [s.path for s in read_sources([tmp_path / "configs"])] == [kept]


def test_vpc_keywords_of_sdk_v2_estimators_and_v3_networking(tmp_path: Path) -> None:
    v2 = _write(
        tmp_path / "launch_vpc.py",
        "from sagemaker.huggingface import HuggingFace\n"
        "SUBNETS = ['subnet-0a1b2c3d', 'subnet-0e1f2a3b']\n"
        "est = HuggingFace(entry_point='train.py', instance_type='ml.g5.xlarge',\n"
        "                  subnets=SUBNETS,\n"
        "                  security_group_ids=('sg-0123abcd',))\n",
    )
    loaded = read_file(v2)
    assert loaded.spec.compute is not None
    assert loaded.spec.compute.subnets == ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]
    assert loaded.spec.compute.security_group_ids == ["sg-0123abcd"]
    assert loaded.line_of("compute.subnets") == 4
    assert loaded.line_of("compute.security_group_ids") == 5

    v3 = _write(
        tmp_path / "v3" / "trainer_vpc.py",
        "from sagemaker.train import ModelTrainer\n"
        "from sagemaker.train.configs import Compute, Networking\n"
        "trainer = ModelTrainer(\n"
        "    training_image='img',\n"
        "    compute=Compute(instance_type='ml.g5.2xlarge'),\n"
        "    networking=Networking(\n"
        "        subnets=['subnet-0a1b2c3d'],\n"
        "        security_group_ids=['sg-0123abcd', 'sg-0456ef01'],\n"
        "    ),\n"
        ")\n",
    )
    loaded = read_file(v3)
    assert loaded.spec.compute is not None
    assert loaded.spec.compute.subnets == ["subnet-0a1b2c3d"]
    assert loaded.spec.compute.security_group_ids == ["sg-0123abcd", "sg-0456ef01"]
    assert loaded.line_of("compute.subnets") == 7
    assert loaded.line_of("compute.security_group_ids") == 8

    unresolved = _write(
        tmp_path / "u" / "launch.py",
        "import os\nfrom sagemaker.pytorch import PyTorch\n"
        "PyTorch(entry_point='t.py', instance_type='ml.g5.xlarge',\n"
        "        subnets=[os.environ['SUBNET']], security_group_ids=['sg-0123abcd'])\n",
    )
    loaded = read_file(unresolved)
    assert loaded.spec.compute is not None and loaded.spec.compute.subnets is None
    assert any("compute.subnets" in note for note in loaded.notes)
