"""Load a job spec: YAML with positions -> validated JobSpec, or one SpecError listing everything.

Sections are validated one by one, so a typo in ``compute`` does not hide a wrong type in
``lora``; the pydantic error locations are turned into dotted keys and looked up in the YAML's
line map. Unknown keys get a did-you-mean. ``training:`` keys are only type-checked here: an
unknown or removed TrainingArguments key is a rule finding (PF40x), reported with everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..redact import shown_value
from ..suggest import did_you_mean
from .cross_checks import cross_field_problems
from .errors import SpecError, SpecIssue
from .models import SECTIONS, IgnoreEntry, JobSpec, TrainingSpec
from .training_checks import range_problem
from .training_fields import training_fields
from .value_types import describe, fits
from .yaml_source import YamlDocument, join_key, load_yaml, nearest


@dataclass
class LoadedSpec:
    """A validated spec and where each of its keys was written."""

    path: Path
    spec: JobSpec
    lines: dict[str, int] = field(default_factory=dict)
    kind: str = "spec"
    """What the source was: "spec", or a reader's kind ("python", "notebook", "axolotl", ...)."""
    cells: dict[str, int] = field(default_factory=dict)
    """Notebook cell index of each dotted key, for sources read from a notebook."""
    stated: set[str] | None = None
    """Dotted keys the source really stated; None for a spec, where unstated keys take defaults.
    Readers of partial sources (a script with only TrainingArguments) set it, so rules can tell
    an unknown fact from a default."""
    notes: list[str] = field(default_factory=list)
    """What a reader could not resolve (e.g. a value computed at run time)."""
    trainer_config: str = "TrainingArguments"
    """The arguments class the training keys are for (TRL's SFTConfig, DPOConfig, ...)."""
    extra_training_fields: set[str] = field(default_factory=set)
    """Fields that class adds to TrainingArguments (read from its own field snapshot)."""
    key_files: dict[str, Path] = field(default_factory=dict)
    """Keys read from another file than ``path`` (an estimator's entry script), by dotted key."""
    versions: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Package (transformers, trl, peft) -> (version the source runs with, why that one); empty
    means the installed packages (see ``preflight.readers.versions``)."""

    def issue(self, key: str, message: str) -> SpecIssue:
        """A SpecIssue about dotted ``key`` of this spec, at its line."""
        return SpecIssue(str(self.path), self.line_of(key), key, message)

    def model_target(self) -> str | None:
        """What memplan should load for model.name: see :func:`model_target`."""
        return None if self.spec.model is None else model_target(self.path, self.spec.model.name)

    def file_of(self, key: str | None) -> Path:
        """The file a dotted key was read from: ``path`` unless a reader noted another."""
        return nearest(self.key_files, key) or self.path

    def line_of(self, key: str) -> int | None:
        """Line of a dotted key, or of its nearest written parent; None if nothing matches."""
        return nearest(self.lines, key)


def model_target(spec_path: Path, name: str) -> str:
    """model.name as memplan loads it: a local config directory, relative to the spec's folder,
    when one exists there, else the name itself (a catalog name or a hub id)."""
    local = spec_path.parent / name  # an absolute name stays absolute
    return str(local) if local.is_dir() else name


def load_spec(path: str | Path, *, resolve: bool = True) -> LoadedSpec:
    """Read and validate a spec file; raise SpecError with every problem found.

    ``resolve`` also checks that the model and the instance type are known (memplan's and
    costmodel's catalogs); it is what makes ``model.name: mistral-8b`` an error with a suggestion.
    """
    p = Path(path)
    doc = load_yaml(p)
    spec, issues = validate_document(doc)
    if spec is not None and resolve:  # a spec comes only without issues
        issues = _resolution_issues(spec, doc)
    if spec is None or issues:
        raise SpecError(issues)
    return LoadedSpec(p, spec, dict(doc.lines))


def validate_document(doc: YamlDocument) -> tuple[JobSpec | None, list[SpecIssue]]:
    """Validate plain YAML data as a JobSpec, collecting every issue."""
    file = str(doc.path)
    data = doc.data
    if data is None:
        return None, [SpecIssue(file, None, "", "the spec is empty")]
    if not isinstance(data, dict):
        return None, [
            SpecIssue(file, 1, "", f"the spec must be a mapping of sections, not {_kind(data)}")
        ]

    issues: list[SpecIssue] = []

    def issue(key: str, message: str) -> None:
        issues.append(SpecIssue(file, doc.line_of(key), key, message))

    known = set(JobSpec.model_fields)
    parts: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            issue(str(key), f"section names must be text, not {key!r}")
        elif key not in known:
            issue(
                key, f"unknown section{did_you_mean(key, known)}; known: {', '.join(sorted(known))}"
            )
        elif key in SECTIONS:
            section = _section(key, value, SECTIONS[key], issue)
            if section is not None:
                parts[key] = section
        elif key == "training":
            parts[key] = _training(value, issue)
        elif key == "ignore":
            parts[key] = _ignore(value, issue)
        elif key == "name":
            if isinstance(value, str | int) and not isinstance(value, bool):
                parts["name"] = str(value)  # `name: 42` is a fine job name; `name: true` is not
            elif value is not None:
                issue("name", "must be text")

    if issues:
        return None, issues
    spec = JobSpec(**parts)
    for key, message in cross_field_problems(spec):
        issue(key, message)
    return (None if issues else spec), issues


def _section(name: str, value: Any, model: type[BaseModel], issue: Any) -> BaseModel | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        issue(name, f"must be a mapping of keys, not {_kind(value)}")
        return None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        for err in exc.errors():
            _report_pydantic(name, err, model, issue)
        return None


def _report_pydantic(prefix: str, err: Any, model: type[BaseModel], issue: Any) -> None:
    loc = [str(part) for part in err["loc"]]
    key = prefix
    for part in loc:
        key = join_key(key, part)
    if err["type"] == "extra_forbidden":
        hint = did_you_mean(loc[-1], model.model_fields)
        issue(key, f"unknown key{hint}; {prefix} accepts: {', '.join(model.model_fields)}")
    elif err["type"] == "missing":
        issue(key, "required key is missing")
    else:
        got = err.get("input")
        shown = shown_value(key, got) if not isinstance(got, dict | list) else _kind(got)
        issue(key, f"{err['msg']} (got {shown})")


def _training(value: Any, issue: Any) -> TrainingSpec:
    if value is None:
        return TrainingSpec()
    if not isinstance(value, dict):
        issue("training", f"must be a mapping of TrainingArguments fields, not {_kind(value)}")
        return TrainingSpec()
    table = training_fields()
    for key, val in value.items():
        if not isinstance(key, str):
            issue(join_key("training", key), f"keys must be text, not {key!r}")
            continue
        info = table.fields.get(key)
        if info is not None and not fits(info.type, val):
            issue(
                f"training.{key}",
                f"expects {describe(info.type)} (TrainingArguments.{key}: {info.type}), "
                f"got {shown_value(key, val)}",
            )
            continue
        problem = range_problem(key, val)
        if problem is not None:
            issue(f"training.{key}", problem)
    return TrainingSpec({k: v for k, v in value.items() if isinstance(k, str)})


def _ignore(value: Any, issue: Any) -> list[IgnoreEntry]:
    if value is None:
        return []
    if not isinstance(value, list):
        issue("ignore", "must be a list of {rule: PF..., reason: ...} entries")
        return []
    out = []
    for index, entry in enumerate(value):
        key = f"ignore.{index}"
        if not isinstance(entry, dict):
            issue(key, "must be a mapping {rule: PF..., reason: ...}")
            continue
        try:
            out.append(IgnoreEntry.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors():
                _report_pydantic(key, err, IgnoreEntry, issue)
    return out


def _kind(value: Any) -> str:
    return {
        list: "a list",
        dict: "a mapping",
        str: "text",
        int: "a number",
        float: "a number",
        bool: "true/false",
    }.get(type(value), type(value).__name__)


def _resolution_issues(spec: JobSpec, doc: YamlDocument) -> list[SpecIssue]:
    """Unknown instance type: usable input is impossible, so exit 2 with a suggestion.

    An unknown or unreadable model is not an input error: only the memory estimate needs it,
    so ``preflight check`` reports memory as "not checked" and runs every other rule, and
    ``memplan estimate`` (which needs nothing else) exits 2 with the same message.
    """
    import costmodel

    file = str(doc.path)
    issues: list[SpecIssue] = []
    if spec.compute is not None and spec.compute.instance_type:
        try:
            costmodel.load_catalog().instance(spec.compute.instance_type)
        except costmodel.UnknownInstanceError as exc:  # its message lists the nearest names
            key = "compute.instance_type"
            issues.append(SpecIssue(file, doc.line_of(key), key, str(exc)))
    return issues
