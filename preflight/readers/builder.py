"""SpecBuilder: what every reader fills in, turned into one LoadedSpec the rules read.

A reader never builds a JobSpec by hand: it states keys one by one (with the line, and the
notebook cell, where the source wrote them) and says what it could not resolve. ``build`` then
validates section by section. A value the job spec cannot hold (a model memplan does not know,
an instance type costmodel does not list, a wrong type) becomes a note and stays unknown: a real
config is never refused because it says more, or less, than a job spec would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..redact import shown_value
from ..spec import LoadedSpec
from ..spec.loader import model_target
from ..spec.models import SECTIONS, JobSpec, TrainingSpec


@dataclass
class ReaderSpec(LoadedSpec):
    """A LoadedSpec with the source facts some reader-specific rules need (PF503, PF504)."""

    legacy_sagemaker: dict[str, str] = field(default_factory=dict)
    """SageMaker SDK v1 keyword used -> the dotted key its value was read into (PF504)."""
    removed_trainer_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Training keys the trainer config (e.g. SFTConfig) no longer accepts -> table entry (PF503)."""
    launch_only: bool = False
    """A launch of no Trainer job: only its SDK keywords are worth checking."""
    entry_command: str | None = None
    """The launch runs a command, not a Python script (``entry_point="train.sh"``): what trains
    and whether it is a Trainer is not seen here (PF207's Trainer advice does not apply)."""
    device_map: str | None = None
    """Where the model is loaded with a device_map that spreads it over the GPUs of one process
    (``device_map="auto" (run_clm.py:178)``): Trainer runs no DataParallel then (PF704)."""
    cli_keys: set[str] = field(default_factory=set)
    """Training keys that are hyperparameters of an entry script not at hand: its own command
    line, which may name arguments TrainingArguments does not have (PF502 leaves them)."""


@dataclass
class SpecBuilder:
    """Collects stated keys, their positions and notes, for one source file."""

    path: Path
    kind: str
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    cells: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    trainer_config: str = "TrainingArguments"
    legacy_sagemaker: dict[str, str] = field(default_factory=dict)
    key_files: dict[str, Path] = field(default_factory=dict)
    extra_fields: set[str] = field(default_factory=set)
    """Training fields the arguments class adds (beyond TRL's table, e.g. LLaMA-Factory's)."""
    unstated: set[str] = field(default_factory=set)
    """Keys filled in because the spec needs them, not because the source said so."""
    name: str | None = None
    launch_only: bool = False
    """The source launches a job that is no Trainer job (see python_source): no training plan."""
    device_map: str | None = None
    """A splitting device_map the model is loaded with (see ReaderSpec.device_map)."""
    entry_command: str | None = None
    """A non-Python entry point the launch runs (see ReaderSpec.entry_command)."""
    tolerant_config: bool = False
    """The arguments class drops retired keys itself (unsloth's patched TRL configs)."""
    cli_keys: set[str] = field(default_factory=set)
    """Training keys read from an estimator's hyperparameters (an unseen script's command line)."""

    def state(self, key: str, value: Any, line: int | None = None, cell: int | None = None) -> None:
        """Record ``value`` for the dotted key ``section.name`` (or ``training.<field>``).

        A placeholder (``${RESUME_FROM_CHECKPOINT}``, ``{{ output_dir }}``, ``$SM_MODEL_DIR``
        alone) is filled in by a launcher or template at run time: the key is stated, its value
        unknown (None), so no rule reads the placeholder as a path or a setting.
        """
        if isinstance(value, str) and is_placeholder(value):
            self.note(f"{key} = {value!r} is filled in at run time; value unknown")
            value = None
        section, _, name = key.partition(".")
        self.unstated.discard(key)
        if key == "name":
            self.name = str(value)
        elif section == "training":
            self.training[name] = value
        else:
            self.values.setdefault(section, {})[name] = value
        self.position(key, line, cell)

    def position(self, key: str, line: int | None, cell: int | None = None) -> None:
        if line is not None:
            self.lines[key] = line
            section = key.partition(".")[0]
            self.lines.setdefault(section, line)
        if cell is not None:
            self.cells[key] = cell
            self.cells.setdefault(key.partition(".")[0], cell)

    def has(self, key: str) -> bool:
        section, _, name = key.partition(".")
        if section == "training":
            return name in self.training
        return name in self.values.get(section, {})

    def get(self, key: str, default: Any = None) -> Any:
        section, _, name = key.partition(".")
        if section == "training":
            return self.training.get(name, default)
        return self.values.get(section, {}).get(name, default)

    def drop(self, key: str) -> None:
        section, _, name = key.partition(".")
        if section == "training":
            self.training.pop(name, None)
        else:
            self.values.get(section, {}).pop(name, None)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def build(self) -> ReaderSpec:
        """Validate what was stated into a JobSpec; what does not fit becomes a note."""
        self._resolve_catalogs()
        parts: dict[str, Any] = {}
        stated: set[str] = set()
        for section, model in SECTIONS.items():
            data = dict(self.values.get(section, {}))
            if not data:
                continue
            if section == "model" and "name" not in data:
                self.note(f"model settings {sorted(data)} found but no model name; model unknown")
                continue
            for _ in range(len(data) + 1):
                try:
                    parts[section] = model.model_validate(data)
                    break
                except ValidationError as exc:
                    bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
                    if not bad or not bad & set(data):
                        self.note(f"{section}: {exc.errors()[0]['msg']}; section left unknown")
                        break
                    for key in sorted(bad & set(data)):
                        self.note(
                            f"{section}.{key} = {shown_value(key, data[key])} is not a valid job-spec "
                            "value; "
                            "left unknown"
                        )
                        data.pop(key)
            if section in parts:
                stated |= {f"{section}.{k}" for k in data}
        stated -= self.unstated
        if self.name is not None:
            stated.add("name")
        training = dict(self.training)
        parts["training"] = TrainingSpec(training)
        stated |= {f"training.{k}" for k in training}
        spec = JobSpec(name=self.name, **parts)
        extra, removed = trainer_config_fields(self.trainer_config)
        removed_used = {k: removed[k] for k in training if k in removed}
        if self.tolerant_config:  # no TypeError for a retired key: PF501/PF510 have nothing
            from ..rules.arguments import removed_arguments

            extra |= {k for k in training if k in removed_arguments() or k in removed}
            removed_used = {}
        return ReaderSpec(
            path=self.path,
            spec=spec,
            lines=dict(self.lines),
            kind=self.kind,
            cells=dict(self.cells),
            stated=stated,
            notes=list(self.notes),
            trainer_config=self.trainer_config,
            # Removed names are PF503's to report (with their successor), not PF502's "unknown".
            extra_training_fields=extra | set(removed_used) | self.extra_fields,
            legacy_sagemaker=dict(self.legacy_sagemaker),
            removed_trainer_fields=removed_used,
            key_files=dict(self.key_files),
            launch_only=self.launch_only,
            device_map=self.device_map,
            entry_command=self.entry_command,
            cli_keys=set(self.cli_keys),
        )

    def _resolve_catalogs(self) -> None:
        """Drop a model or instance the bundled catalogs do not know, with a note saying so.

        The pipeline estimates memory and cost from these names; an unknown one would stop the
        whole check, while for a config read as it is, "unknown" is the honest answer.
        """
        import costmodel
        import memplan

        name = self.get("model.name")
        if isinstance(name, str) and hasattr(memplan, "load_architecture"):
            try:
                memplan.load_architecture(model_target(self.path, name))
            except ValueError as exc:
                close = getattr(exc, "suggestions", None) or []
                hint = f" (closest: {close[0]})" if close else ""
                self.note(
                    f"model {name!r} is not in memplan's catalog{hint}; memory not estimated "
                    "(state model.name in a job spec: preflight init)"
                )
                self.values.get("model", {}).clear()
        instance = self.get("compute.instance_type")
        if isinstance(instance, str) and hasattr(costmodel, "load_catalog"):
            try:
                costmodel.load_catalog().instance(instance)
            except ValueError as exc:
                close = getattr(exc, "suggestions", None) or []
                hint = f" (closest: {close[0]})" if close else ""
                self.note(f"instance type {instance!r} is not in the catalog{hint}; left unknown")
                del exc
                self.drop("compute.instance_type")


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\{\{.*?\}\}|^\$[A-Z_][A-Z0-9_]*$|^<[a-z_ -]+>$")


def is_placeholder(text: str) -> bool:
    """True for a value a launcher or template fills in (``${VAR}``, ``{{ x }}``, ``$VAR``)."""
    return _PLACEHOLDER.search(text.strip()) is not None


def trainer_config_fields(name: str) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """(fields the config class adds, fields it removed -> entry) for a TRL config name."""
    from .trl_fields import SEQ2SEQ_FIELDS, trl_configs

    if name == "Seq2SeqTrainingArguments":
        return set(SEQ2SEQ_FIELDS), {}
    entry = trl_configs().get(name)
    if entry is None:
        return set(), {}
    return set(entry["fields"]), dict(entry["removed"])
