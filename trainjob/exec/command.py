"""Which files of the user's command preflight should read: the training script, and the recipe
or config it is given.

``trainjob exec`` never rewrites the command; it only looks at it. Known shapes:
``python [-u ...] train.py ARGS``, ``accelerate launch [OPTS] train.py ARGS``,
``torchrun [OPTS] train.py ARGS``, ``llamafactory-cli train x.yaml`` and ``axolotl train x.yaml``
(also ``python -m axolotl.cli.train x.yaml``). A YAML/JSON file among the script's own arguments
(``--config recipe.yaml``, TRL's and alignment-handbook's way) is read too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
# Options of the launchers that take a value (so the value is not mistaken for the script).
LAUNCHER_VALUE_OPTIONS = {
    "accelerate": {
        "--config_file",
        "--config-file",
        "--num_processes",
        "--num-processes",
        "--num_machines",
        "--num-machines",
        "--machine_rank",
        "--main_process_ip",
        "--main_process_port",
        "--mixed_precision",
        "--gpu_ids",
        "--deepspeed_config_file",
        "--dynamo_backend",
        "--rdzv_backend",
        "--fsdp_config",
    },
    "torchrun": {
        "--nproc_per_node",
        "--nproc-per-node",
        "--nnodes",
        "--node_rank",
        "--node-rank",
        "--master_addr",
        "--master-addr",
        "--master_port",
        "--master-port",
        "--rdzv_backend",
        "--rdzv-backend",
        "--rdzv_endpoint",
        "--rdzv-endpoint",
        "--rdzv_id",
        "--max_restarts",
        "--monitor_interval",
        "--log_dir",
        "--redirects",
        "--tee",
        "--role",
    },
}


@dataclass
class CommandFiles:
    """The files in a command that describe the training, for the preflight gate."""

    script: Path | None = None
    configs: list[Path] = field(default_factory=list)
    launcher_config: Path | None = None  # accelerate --config_file
    kind: str = "python"  # python | accelerate | torchrun | llamafactory | axolotl | other

    @property
    def sources(self) -> list[Path]:
        out = [p for p in (self.script, *self.configs, self.launcher_config) if p is not None]
        return list(dict.fromkeys(out))


def _launcher(word: str) -> str:
    name = Path(word).name
    if name.startswith("python"):
        return "python"
    if name in ("accelerate", "torchrun", "llamafactory-cli", "axolotl"):
        return {"llamafactory-cli": "llamafactory"}.get(name, name)
    return "other"


def _after_options(args: list[str], takes_value: set[str]) -> int | None:
    """Index of the first positional argument, skipping ``--opt value`` and ``--opt=value``."""
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            return i + 1 if i + 1 < len(args) else None
        if word.startswith("-"):
            if "=" not in word and word in takes_value:
                i += 1
            i += 1
            continue
        return i
    return None


def _configs_in(args: list[str], cwd: Path) -> list[Path]:
    out = []
    for word in args:
        value = word.split("=", 1)[1] if word.startswith("--") and "=" in word else word
        if value.endswith(CONFIG_SUFFIXES):
            path = (cwd / value) if not Path(value).is_absolute() else Path(value)
            if path.is_file():
                out.append(path)
    return out


def command_files(argv: list[str], cwd: Path | None = None) -> CommandFiles:
    """What preflight should read in ``argv``; nothing is guessed that is not a file on disk."""
    cwd = cwd or Path.cwd()
    if not argv:
        return CommandFiles(kind="other")
    kind = _launcher(argv[0])
    rest = argv[1:]
    found = CommandFiles(kind=kind)
    if kind in ("llamafactory", "axolotl") or (
        kind == "python" and rest[:2] in (["-m", "axolotl.cli.train"], ["-m", "llamafactory.cli"])
    ):
        found.configs = _configs_in(rest, cwd)[:1]
        if kind == "python":
            found.kind = "axolotl" if "axolotl" in rest[1] else "llamafactory"
        return found
    if kind == "accelerate":
        if rest[:1] == ["launch"]:
            rest = rest[1:]
        for i, word in enumerate(rest):
            if word in ("--config_file", "--config-file") and i + 1 < len(rest):
                found.launcher_config = cwd / rest[i + 1]
            elif word.startswith(("--config_file=", "--config-file=")):
                found.launcher_config = cwd / word.split("=", 1)[1]
    if kind == "python":
        takes: set[str] = {"-W", "-X", "-c"}
        if "-m" in rest or "-c" in rest:
            return found  # a module or inline code: no script file to read
    else:
        takes = LAUNCHER_VALUE_OPTIONS.get(kind, set())
    start = _after_options(rest, takes)
    if start is None:
        return found
    word = rest[start]
    if kind == "accelerate" or kind == "torchrun":
        if word == "-m":
            return found
    script = cwd / word if not Path(word).is_absolute() else Path(word)
    if script.suffix == ".py" and script.is_file():
        found.script = script
    found.configs = _configs_in(rest[start + 1 :], cwd)
    if found.launcher_config is not None and not found.launcher_config.is_file():
        found.launcher_config = None
    return found
