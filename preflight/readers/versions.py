"""The transformers / TRL / peft versions a source will run with, and why that one.

In order: what the user states (``preflight check --transformers 4.56 --trl 0.19``); what the
source itself says (a SageMaker estimator's ``transformers_version=`` or image URI, a notebook's
``pip install transformers==4.56.2``); pins in the requirements of the entry script's folder
(SageMaker installs ``source_dir/requirements.txt``); pins in the repository (``requirements*.txt``,
``pyproject.toml``, ``setup.py``, from the file's folder up to the repository root); else the
installed package. Only an exact pin (``==``, ``~=``) or an upper bound (``<``, ``<=``) names a
version: ``>=`` lets pip install the newest, which is what the installed package stands for.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..spec import LoadedSpec

PACKAGES = ("transformers", "trl", "peft")
_SPEC = re.compile(r"(==|~=|<=|<|>=|>|!=)\s*v?(\d+(?:\.\d+){0,2})")
_REQ_LINE = {
    pkg: re.compile(
        rf"(?<![\w.-]){pkg}\s*(?:\[[^\]]*\])?\s*((?:(?:==|~=|<=|<|>=|>|!=)\s*[\w.*]+\s*,?\s*)+)",
        re.I,
    )
    for pkg in PACKAGES
}
_PIP = re.compile(r"pip3?\s+install\b", re.I)
_PEP723 = re.compile(r"(?ms)^# /// script$(.*?)^# ///$")
_ESTIMATOR = {
    "transformers": re.compile(r"transformers_version\s*[=:]\s*[\"'](\d+(?:\.\d+){1,2})[\"']"),
}
_IMAGE = {
    "transformers": re.compile(
        r"huggingface-pytorch-(?:training|trcomp-training)[:\w.-]*?transformers(\d+\.\d+(?:\.\d+)?)"
    ),
}
REQUIREMENT_FILES = ("requirements*.txt", "pyproject.toml", "setup.py", "environment.y*ml")
MAX_PIN_FILE = 200_000
"""A pin file larger than this is no pin file (a lock file is read by no one here)."""
MAX_LEVELS = 6


def version_from_specifiers(text: str, package: str = "transformers") -> str | None:
    """The version a specifier set pins: ``==4.56.2`` -> 4.56.2; ``<4.50`` -> below 4.50."""
    exact = upper = None
    for op, version in _SPEC.findall(text):
        if op in ("==", "~="):
            exact = version
        elif op in ("<", "<="):
            upper = (op, version)
    if exact is not None:
        return exact
    if upper is not None:
        op, version = upper
        return version if op == "<=" else _below(package, version)
    return None


def _below(package: str, version: str) -> str:
    """The newest known release below ``version`` (``<4.50`` -> 4.49.0)."""
    from ..spec.field_history import releases, vkey

    want = vkey(version)
    try:
        known = [r for r in releases(package) if vkey(r) < want]
    except KeyError:
        known = []
    if known:
        return known[-1]
    major, minor, _ = want
    return f"{major}.{minor - 1}" if minor > 0 else version


def pins_in_text(text: str) -> dict[str, str]:
    """Package -> pinned version, from requirements-like text (any of the formats above)."""
    out: dict[str, str] = {}
    for pkg, pattern in _REQ_LINE.items():
        for match in pattern.finditer(text):
            found = version_from_specifiers(match.group(1), pkg)
            if found is not None:
                out[pkg] = found
                break
    return out


def pins_in_source(text: str) -> dict[str, str]:
    """Versions a script or notebook states itself: estimator arguments, image URIs, pip install."""
    out: dict[str, str] = {}
    for pkg, pattern in _ESTIMATOR.items():
        match = pattern.search(text)
        if match:
            out[pkg] = match.group(1)
    for pkg, pattern in _IMAGE.items():
        match = pattern.search(text)
        if match and pkg not in out:
            out[pkg] = match.group(1)
    for command in pip_commands(text):
        for pkg, version in pins_in_text(command).items():
            out.setdefault(pkg, version)
    for block in _PEP723.findall(text):  # a script's inline `# /// script` dependencies
        for pkg, version in pins_in_text(block).items():
            out.setdefault(pkg, version)
    return out


def pip_commands(text: str) -> list[str]:
    """Every ``pip install ...`` command, with its backslash-continued lines joined."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line.rstrip()[:-1] + " " + lines[i]
        if _PIP.search(line):
            out.append(line[_PIP.search(line).start() :])  # type: ignore[union-attr]
        i += 1
    return out


def notebook_code(text: str) -> str:
    """The code cells of a notebook's JSON, joined (pins are in ``!pip install`` cells)."""
    import json

    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return text
    parts = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            parts.append("".join(source) if isinstance(source, list) else str(source))
    return "\n".join(parts)


def _repo_root(start: Path) -> Path | None:
    for parent in [start, *start.parents][:MAX_LEVELS]:
        if (parent / ".git").exists():
            return parent
    return None


@lru_cache(maxsize=256)
def pins_in_folders(start: Path) -> dict[str, tuple[str, str]]:
    """Package -> (version, file) from pin files between ``start`` and the repository root.

    The nearest folder wins; without a repository root only ``start`` itself is read.
    """
    root = _repo_root(start)
    folders = [start]
    if root is not None:
        folders = [p for p in [start, *start.parents] if p == root or root in p.parents]
    out: dict[str, tuple[str, str]] = {}
    for folder in folders:
        for pattern in REQUIREMENT_FILES:
            for file in sorted(folder.glob(pattern)):
                try:
                    if not file.is_file() or file.stat().st_size > MAX_PIN_FILE:
                        continue
                    text = file.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                for pkg, version in pins_in_text(text).items():
                    out.setdefault(pkg, (version, str(file)))
    return out


def resolve_versions(
    path: Path,
    text: str | None,
    entry_dirs: list[Path],
    stated: dict[str, str] | None = None,
) -> dict[str, tuple[str, str]]:
    """Package -> (version, why) for every package a version could be found for."""
    from ..spec.training_fields import installed_version

    out: dict[str, tuple[str, str]] = {}
    for pkg, version in (stated or {}).items():
        out[pkg] = (version, f"--{pkg}")
    if text is not None:
        for pkg, version in pins_in_source(text).items():
            out.setdefault(pkg, (version, f"stated in {path.name}"))
    for folder in [*entry_dirs, path.parent]:
        if all(p in out for p in PACKAGES):
            break
        for pkg, (version, file) in pins_in_folders(folder.resolve()).items():
            out.setdefault(pkg, (version, f"pinned in {file}"))
    for pkg in ("transformers", "trl"):  # the ones whose fields are judged
        if pkg not in out:
            version = installed_version(pkg)
            if version is not None:
                out[pkg] = (version, "installed here (no pin found)")
    return out


MAX_SOURCE_BYTES = 5_000_000


def attach_versions(loaded: LoadedSpec, stated: dict[str, str] | None = None) -> None:
    """Set ``loaded.versions`` from the flags, the source and its repository (see above)."""
    text = None
    try:
        if loaded.path.stat().st_size <= MAX_SOURCE_BYTES:
            text = loaded.path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = None
    if text is not None and loaded.path.suffix.lower() == ".ipynb":
        text = notebook_code(text)
    entry_dirs = sorted({p.parent for p in loaded.key_files.values() if p != loaded.path})
    loaded.versions = resolve_versions(loaded.path, text, entry_dirs, stated)
    training = loaded.spec.training
    old_name = training.values.get("evaluation_strategy")
    if old_name is not None and "eval_strategy" not in training.stated:
        # before transformers 4.46 the old name is the field itself (and 4.41-4.45 map it):
        # rules that read eval_strategy read what the script set
        training.use_config_defaults({**training.config_defaults, "eval_strategy": old_name})
    config = loaded.trainer_config
    trl = loaded.versions.get("trl")
    if config.endswith("Config") and trl is not None:
        from .trl_fields import config_defaults

        defaults = config_defaults(config, trl[0])
        if "bf16" in defaults and loaded.spec.training.values.get("fp16") is True:
            defaults["bf16"] = False  # TRL: bf16 = not fp16 when bf16 is unset
        if defaults:
            loaded.spec.training.use_config_defaults({**defaults, **training.config_defaults})
            shown = ", ".join(
                f"{k}={defaults[k]!r}"
                for k in ("gradient_checkpointing", "max_length", "learning_rate", "bf16")
                if k in defaults and k not in loaded.spec.training.stated
            )
            if shown:
                loaded.notes.append(
                    f"unset keys read as {config} of trl {trl[0]} sets them: {shown}"
                )


def describe_versions(versions: dict[str, tuple[str, str]]) -> str:
    """One line for the report: "transformers 4.56.2 (pinned in requirements.txt), ..."."""
    return ", ".join(f"{pkg} {v} ({why})" for pkg, (v, why) in versions.items())
