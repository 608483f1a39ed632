"""Which files of a command ``trainjob exec`` hands to preflight (real files in a tmp dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainjob.exec.command import command_files
from trainjob.exec.launcher import INJECT_DIR, child_env


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("train.py", "recipe.yaml", "llama3_lora_sft.yaml", "config.yml", "acc.yaml"):
        (tmp_path / name).write_text("x: 1\n")
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "script", "configs", "kind"),
    [
        (["python", "train.py", "--config", "recipe.yaml"], "train.py", ["recipe.yaml"], "python"),
        (
            ["python3", "-u", "train.py", "--config=recipe.yaml"],
            "train.py",
            ["recipe.yaml"],
            "python",
        ),
        (
            [
                "accelerate",
                "launch",
                "--num_processes",
                "8",
                "--config_file",
                "acc.yaml",
                "train.py",
                "recipe.yaml",
            ],
            "train.py",
            ["recipe.yaml"],
            "accelerate",
        ),
        (["torchrun", "--nproc_per_node", "2", "train.py"], "train.py", [], "torchrun"),
        (
            ["torchrun", "--nproc-per-node=2", "train.py", "--lr", "1e-4"],
            "train.py",
            [],
            "torchrun",
        ),
        (
            ["llamafactory-cli", "train", "llama3_lora_sft.yaml"],
            None,
            ["llama3_lora_sft.yaml"],
            "llamafactory",
        ),
        (["axolotl", "train", "config.yml"], None, ["config.yml"], "axolotl"),
        (["python", "-m", "axolotl.cli.train", "config.yml"], None, ["config.yml"], "axolotl"),
        (["python", "-m", "mypackage.train", "recipe.yaml"], None, [], "python"),
        (["python", "missing.py"], None, [], "python"),
        (["bash", "run.sh"], None, [], "other"),
    ],
)
def test_command_files(
    files: Path, argv: list[str], script: str | None, configs: list[str], kind: str
) -> None:
    found = command_files(argv, cwd=files)
    assert found.kind == kind
    assert found.script == (files / script if script else None)
    assert found.configs == [files / c for c in configs]


def test_accelerate_config_file_is_found_but_not_a_training_source(files: Path) -> None:
    found = command_files(
        ["accelerate", "launch", "--config_file", "acc.yaml", "train.py"], cwd=files
    )
    assert found.launcher_config == files / "acc.yaml"


def test_child_env_puts_the_hook_first_and_keeps_the_users_path(tmp_path: Path) -> None:
    env = child_env({"canary_steps": 5}, tmp_path, base={"PYTHONPATH": "/user/lib", "HOME": "/h"})
    parts = env["PYTHONPATH"].split(":")
    assert parts[0] == str(INJECT_DIR) and parts[1] == "/user/lib"
    assert (INJECT_DIR / "sitecustomize.py").is_file()
    assert env["TRAINJOB_EXEC_CONFIG"] == '{"canary_steps": 5}'
    assert env["HOME"] == "/h"


def test_the_hook_runs_the_sitecustomize_it_shadows(tmp_path: Path) -> None:
    import subprocess
    import sys

    theirs = tmp_path / "site"
    theirs.mkdir()
    (theirs / "sitecustomize.py").write_text("import os\nos.environ['THEIRS_RAN'] = 'yes'\n")
    env = child_env({}, tmp_path, base={"PYTHONPATH": str(theirs), "PATH": "/usr/bin:/bin"})
    code = "import os, sys; print(os.environ.get('THEIRS_RAN'), type(sys.meta_path[0]).__name__)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["yes", "_Finder"], done.stderr


@pytest.mark.parametrize(
    ("words", "command", "spec"),
    [
        (["python", "train.py"], ["python", "train.py"], None),
        (["job.yaml", "--", "python", "train.py"], ["python", "train.py"], "job.yaml"),
        (["python", "train.py", "--", "x"], ["python", "train.py", "--", "x"], None),
        (["--", "python", "train.py"], ["python", "train.py"], None),
    ],
)
def test_split_spec(words: list[str], command: list[str], spec: str | None) -> None:
    from trainjob.cli_exec import split_spec

    assert split_spec(words) == (command, Path(spec) if spec else None)
