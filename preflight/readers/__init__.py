"""Readers: turn whatever the user has into the LoadedSpecs the rules read.

``read_sources`` is the single entry point that ``preflight check`` uses. A path may be a job
spec, a training script, a notebook, a flat TRL/alignment-handbook/LLaMA-Factory recipe, an
axolotl config, an accelerate or DeepSpeed config, or a directory, which is walked like ruff
walks one (``.gitignore`` honoured, files that are not training configs skipped with a note).
The format is found from the content; ``input_format`` forces it.

Exit-code contract: a SpecError (exit 2) is raised only for a file named on the command line
that cannot be parsed at all, for a job spec with errors, or when a walk finds nothing to check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..spec import LoadedSpec, SpecError, load_spec
from ..spec.errors import SpecIssue
from ..spec.yaml_source import YamlDocument, load_yaml, read_text
from .builder import ReaderSpec, SpecBuilder
from .detect import (
    KINDS,
    UNSUPPORTED,
    YAML_SUFFIXES,
    claim,
    python_is_training,
    suffix_kind,
)
from .walk import walk

__all__ = ["KINDS", "ReaderSpec", "read_file", "read_sources", "read_sources_with_notes"]


def read_sources(
    paths: list[Path], input_format: str | None = None, versions: dict[str, str] | None = None
) -> list[LoadedSpec]:
    """Every plan source found at ``paths``; raises SpecError for a file that cannot be used.

    What a directory walk left out is noted on the first source (the pipeline reports each
    source's notes); ``read_sources_with_notes`` returns those notes apart instead.
    """
    sources, notes = read_sources_with_notes(paths, input_format, versions)
    sources[0].notes.extend(notes)
    return sources


def read_sources_with_notes(
    paths: list[Path], input_format: str | None = None, versions: dict[str, str] | None = None
) -> tuple[list[LoadedSpec], list[str]]:
    """(every plan source found at ``paths``, notes on what the walks skipped or ignored).

    ``versions`` (package -> version, from ``--transformers``/``--trl``) overrides the pins each
    source's repository states; every source gets its ``versions`` set.
    """
    if input_format is not None and input_format not in KINDS:
        raise SpecError(
            [
                SpecIssue(
                    "--input-format",
                    None,
                    "",
                    f"unknown input format {input_format!r}; known: {', '.join(KINDS)}",
                )
            ]
        )
    out: list[LoadedSpec] = []
    skipped: list[str] = []
    walked: list[LoadedSpec] = []
    for path in paths:
        if path.is_dir():
            files, ignored = walk(path)
            skipped.extend(ignored)
            for file in files:
                loaded, why = _read_walked(file, input_format)
                if loaded is None:
                    skipped.append(f"skipped {file}: {why}")
                else:
                    walked.append(loaded)
        else:
            out.append(read_file(path, input_format, launcher_alone=False))
    out.extend(_without_entry_scripts(walked, skipped))
    if any(p.is_dir() for p in paths):
        skipped.extend(_summary(len(walked), skipped))
    from .versions import attach_versions

    for loaded in out:
        attach_versions(loaded, versions)
    if not out:
        where = ", ".join(str(p) for p in paths)
        raise SpecError(
            [SpecIssue(where, None, "", f"no training configs found ({len(skipped)} skipped)")]
        )
    return out, skipped


def _summary(checked: int, skipped: list[str]) -> list[str]:
    """One line on how many files were checked, and one per format recognised but not read."""
    formats: dict[str, int] = {}
    for note in skipped:
        _, found, rest = note.partition(f": {UNSUPPORTED}: a ")
        if found:
            name = rest.split(" config", 1)[0]
            formats[name] = formats.get(name, 0) + 1
    lines = [
        f"{count} {name} config{'s' if count > 1 else ''} found: format not supported, not checked"
        for name, count in sorted(formats.items())
    ]
    files = sum(1 for n in skipped if n.startswith("skipped "))
    return [f"checked {checked} files; {files} skipped as no training config", *lines]


CONTEXT_ONLY = frozenset({"data.eval", "compute.provider"})
"""Keys that describe where a script runs, not how it trains: alone, they make no config."""


def read_file(
    path: Path, input_format: str | None = None, *, launcher_alone: bool = True
) -> LoadedSpec:
    """Read one file named by the user: any known format, else the job spec's own errors.

    A file that is no training config (``print(1)``, a DeepSpeed JSON alone, a torchtune
    config, a vocab.json) is a SpecError "nothing to check in FILE" (exit 2), never a plan of
    defaults that would pass as ready to launch. ``launcher_alone`` False (``preflight
    check``) refuses an accelerate or DeepSpeed config alone the same way; ``preflight init``
    reads one to start a spec from.
    """
    text = read_text(path)
    kind = input_format or suffix_kind(path)
    doc: YamlDocument | None = None
    if kind is None or kind not in {"python", "notebook"}:
        quick = _quick_data(path, text)
        why = ""
        if input_format is None:
            if quick is _UNPARSED:
                doc = _load(path, text)
                quick = doc.data
            found, why = claim(quick)
            if found is None and _spec_like(quick):
                return load_spec(path)  # a broken job spec: its own errors, with lines
            alone = found in CONTEXT_KINDS and not launcher_alone
            if found is None or found == UNSUPPORTED or alone:
                _nothing_to_check(path, why or "not a training config")
            kind = found
        if doc is None:
            doc = _load(path, text)
        if kind == "spec":
            return load_spec(path)
    if kind is None or kind == "spec":
        return load_spec(path)
    loaded = _read(path, text, kind, doc)  # a syntax error is reported first, with its line
    if kind == "python" and input_format is None and not python_is_training(text):
        _nothing_to_check(path, "builds no TrainingArguments, trainer config or estimator")
    if kind in {"python", "notebook"} and input_format is None and not trains(loaded):
        why = f" ({loaded.notes[0]})" if loaded.notes else ""
        _nothing_to_check(path, f"states no training settings{why}")
    return loaded


CONTEXT_KINDS = frozenset({"deepspeed"})
"""DeepSpeed configs: read through the training config or script that names them; alone one
holds no job (no model, no steps, no saving) and a plan of defaults would only pass as ready.
(An accelerate config names where the job runs, SageMaker included: it is read alone.)"""
_UNPARSED = object()


class NothingToCheck(SpecError):
    """A file named by the user that holds no training job to check (exit 2 in ``preflight
    check``). ``trainjob exec`` runs such a script anyway, unchecked, and says so."""


def _nothing_to_check(path: Path, why: str) -> None:
    raise NothingToCheck([SpecIssue(str(path), None, "", f"nothing to check in {path}: {why}")])


def _load(path: Path, text: str) -> YamlDocument:
    return load_yaml(path, text)


def _quick_data(path: Path, text: str) -> Any:
    """The parsed document without positions when that is cheap (JSON), else _UNPARSED.

    ``json`` parses a 2 MB vocab.json in milliseconds where the positional YAML loader takes a
    minute; the shape alone then says it is data.
    """
    if path.suffix.lower() != ".json":
        return _UNPARSED
    import json

    try:
        return json.loads(text)
    except ValueError:
        return _UNPARSED


def _spec_like(data: Any) -> bool:
    """Top-level keys of a job spec: a broken spec gets the spec loader's own errors."""
    if data is None or data is _UNPARSED:
        return False
    from ..spec.models import JobSpec

    return isinstance(data, dict) and bool(set(data) & (set(JobSpec.model_fields) - {"name"}))


def trains(loaded: LoadedSpec) -> bool:
    """True when a script or notebook states how a model trains (not only where it runs).

    A merge job, a data download, an XGBoost estimator or ``ModelTrainer(command="bash ...")``
    states compute settings and nothing about training: judging it as a training job would
    only produce findings about checkpoints it never writes.
    """
    if getattr(loaded, "launch_only", False):
        return bool(getattr(loaded, "legacy_sagemaker", None))  # PF511 has something to say
    return bool((loaded.stated or set()) - CONTEXT_ONLY)


MAX_WALKED_BYTES = {".ipynb": 50_000_000, ".py": 250_000}
"""Largest file a walk reads, by suffix; 1 MB for YAML/JSON. A data file (train.json) is no
config, and parsing a large one with positions would take minutes; a Python file over 250 kB
is library or tooling code (unsloth's 300 kB update_all_notebooks.py took 2 s to follow)."""


def _read_walked(path: Path, input_format: str | None) -> tuple[LoadedSpec | None, str]:
    """A file met in a directory walk: None (and why) when it is not a training config."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    limit = MAX_WALKED_BYTES.get(path.suffix.lower(), 1_000_000)
    if size > limit and input_format is None:
        return None, f"{size / 1e6:.1f} MB: too large for a config (name it to read it anyway)"
    try:
        text = read_text(path)
    except SpecError as err:
        return None, err.issues[0].message
    kind = input_format or suffix_kind(path)
    doc: YamlDocument | None = None
    if kind == "python" and not input_format and not python_is_training(text):
        return None, "builds no TrainingArguments, trainer config or estimator"
    if kind is None:
        if path.suffix.lower() not in YAML_SUFFIXES:
            return None, "not a config file"
        quick = _quick_data(path, text)
        if quick is _UNPARSED:
            if size > MAX_WALKED_YAML:
                return None, f"{size // 1000} kB of YAML: too large for a config (name it)"
            try:
                doc = load_yaml(path, text)
            except SpecError as err:
                return None, f"does not parse ({err.issues[0].message})"
            quick = doc.data
        found, why = claim(quick)
        if found == UNSUPPORTED:
            return None, f"{UNSUPPORTED}: {why}"
        if found is None or found in CONTEXT_KINDS:
            return None, why if found is None else f"{why}: read through the config naming it"
        kind = found
    if kind == "spec":
        return load_spec(path), ""
    try:
        loaded = _read(path, text, kind, doc)
    except SpecError as err:
        return None, f"does not parse ({err.issues[0].message})"
    if kind in {"python", "notebook"} and not trains(loaded):
        # library code that merely mentions a config class, a script whose settings all come
        # from its command line, a merge or download job: nothing to check, and a plan of
        # defaults would only add noise
        why = f" ({loaded.notes[0]})" if loaded.notes else ""
        return None, f"states no training settings{why}"
    return loaded, ""


MAX_WALKED_YAML = 300_000
"""Largest YAML a walk parses with positions (a config is a few kB; data files are not)."""


def _read(path: Path, text: str, kind: str, doc: YamlDocument | None) -> ReaderSpec:
    if kind == "python":
        from .python_source import read_python_text

        try:
            return read_python_text(text, path).build()
        except SyntaxError as exc:
            raise SpecError(
                [SpecIssue(str(path), exc.lineno, "", f"Python syntax error: {exc.msg}")]
            ) from None
    if kind == "notebook":
        from .notebook import read_notebook

        return read_notebook(path, text).build()
    if doc is None:
        doc = load_yaml(path, text)
    if not isinstance(doc.data, dict):
        raise SpecError([SpecIssue(str(path), 1, "", f"a {kind} config must be a mapping")])
    builder = SpecBuilder(path, kind)
    if kind in {"recipe", "llamafactory"}:
        from .recipe import read_recipe

        read_recipe(doc, builder)
    elif kind == "axolotl":
        from .axolotl import read_axolotl

        read_axolotl(doc, builder)
    elif kind == "accelerate":
        from .launchers import read_accelerate

        read_accelerate(doc, builder)
    elif kind == "deepspeed":
        from .launchers import read_deepspeed

        read_deepspeed(doc, builder)
    return builder.build()


def _without_entry_scripts(walked: list[LoadedSpec], skipped: list[str]) -> list[LoadedSpec]:
    """In a walk, a script already read as an estimator's entry script is not read twice."""
    used: dict[Path, Path] = {}
    for loaded in walked:
        if isinstance(loaded, ReaderSpec):
            for file in loaded.key_files.values():
                used[file.resolve()] = loaded.path
    out = []
    for loaded in walked:
        launcher = used.get(loaded.path.resolve())
        if launcher is not None and launcher != loaded.path:
            skipped.append(f"{loaded.path} was read as the entry script of {launcher}")
            continue
        out.append(loaded)
    return out
