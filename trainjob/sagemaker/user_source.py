"""The source dir of a ``trainjob launch --entry-point train.py [--source-dir src]`` job: the user's
own code, run inside the container by ``trainjob exec`` (so every Trainer it builds is protected).

What travels (``sourcedir.tar.gz``, SageMaker's ``source_dir`` convention): the user's source dir
as it is (``.git``, virtualenvs and caches left out), trainjob's four packages and entry point
beside it, the spec, and one ``requirements.txt``: the user's own lines first, unchanged, then the
libraries trainjob needs that the user did not name (the training toolkit pip-installs it before
the entry point runs). A name of the user's that would be overwritten is refused, not replaced.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from .request import ENTRY_SCRIPT, SPEC_IN_SOURCE
from .source import PACKAGES, REQUIREMENTS, stage_source

ENV_ENTRY_POINT = "TRAINJOB_ENTRY_POINT"
ENV_ENTRY_ARGS = "TRAINJOB_ENTRY_ARGS"
SKIP = {
    ".git",
    ".hg",
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class SourceError(ValueError):
    """The user's entry point or source dir cannot be shipped as given."""


def entry_relative(entry_point: Path, source_dir: Path | None) -> tuple[Path, str]:
    """(the folder that ships, the entry point's path inside it) for the given paths."""
    if source_dir is None:
        if not entry_point.is_file():
            raise SourceError(f"--entry-point {entry_point}: no such file")
        return entry_point.resolve().parent, entry_point.name
    if not source_dir.is_dir():
        raise SourceError(f"--source-dir {source_dir}: not a directory")
    root = source_dir.resolve()
    candidate = entry_point if entry_point.is_absolute() else root / entry_point
    if not candidate.is_file() and (Path.cwd() / entry_point).is_file():
        candidate = Path.cwd() / entry_point
    candidate = candidate.resolve()
    if not candidate.is_file():
        raise SourceError(f"--entry-point {entry_point}: not found in --source-dir {source_dir}")
    try:
        return root, candidate.relative_to(root).as_posix()
    except ValueError:
        raise SourceError(
            f"--entry-point {entry_point} is outside --source-dir {source_dir}; SageMaker runs "
            "the entry point from inside the source dir"
        ) from None


def merged_requirements(user_file: Path | None) -> list[str]:
    """The user's requirements lines, then trainjob's that name a package they did not."""
    lines: list[str] = []
    named: set[str] = set()
    if user_file is not None and user_file.is_file():
        for line in user_file.read_text(encoding="utf-8").splitlines():
            lines.append(line)
            match = _NAME.match(line)
            if match and not line.lstrip().startswith(("#", "-")):
                named.add(match.group(1).lower().replace("_", "-"))
    added = [r for r in REQUIREMENTS if _NAME.match(r).group(1).lower() not in named]  # type: ignore[union-attr]
    if added:
        lines += ["# added by trainjob launch (what trainjob exec needs in the container)", *added]
    return lines


def stage_user_source(
    spec_path: Path,
    checkpoint_local_path: str,
    dest: Path,
    *,
    entry_point: Path,
    source_dir: Path | None,
) -> tuple[Path, str]:
    """Write the user's code plus trainjob into ``dest``; returns (dest, entry path inside it)."""
    root, entry = entry_relative(entry_point, source_dir)
    reserved = {ENTRY_SCRIPT, SPEC_IN_SOURCE, *PACKAGES}
    clash = sorted(n for n in reserved if (root / n).exists()) if source_dir is not None else []
    if clash:
        raise SourceError(
            f"--source-dir {source_dir} already holds {', '.join(clash)}, which trainjob ships "
            "beside the code; rename them (nothing of yours is overwritten)"
        )
    stage_source(spec_path, checkpoint_local_path, dest)
    if source_dir is None:
        shutil.copy2(root / entry, dest / entry)
        user_requirements = None
    else:
        for item in sorted(root.rglob("*")):
            rel = item.relative_to(root)
            if SKIP.intersection(rel.parts) or not item.is_file() or item.suffix == ".pyc":
                continue
            target = dest / rel
            if rel.as_posix() == "requirements.txt":
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, target)
        user_requirements = root / "requirements.txt"
    (dest / "requirements.txt").write_text(
        "\n".join(merged_requirements(user_requirements)) + "\n", encoding="utf-8"
    )
    return dest, entry


def exec_environment(entry: str, script_args: list[str]) -> dict[str, str]:
    """The variables that switch the container entry point to ``trainjob exec`` of ``entry``."""
    return {ENV_ENTRY_POINT: entry, ENV_ENTRY_ARGS: json.dumps(script_args)}
