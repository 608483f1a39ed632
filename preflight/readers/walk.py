"""Walk a directory the way ruff does: every candidate file, minus what git would ignore.

``.gitignore`` files are honoured at every level, including those above the walked directory up
to the repository root (patterns relative to their own directory, matched with pathspec's
gitignore rules), and directories no project wants linted
(virtualenvs, caches, ``.git``) are never entered. Candidates are the files a training config
can live in: YAML, JSON, Python, notebooks. Results are sorted, so reports are stable.
"""

from __future__ import annotations

import os
from pathlib import Path

CANDIDATE_SUFFIXES = {".yaml", ".yml", ".json", ".py", ".ipynb"}
NEVER_ENTER = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    ".tox",
    ".nox",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".ipynb_checkpoints",
    "site-packages",
    "build",
    "dist",
}


def walk(root: Path) -> tuple[list[Path], list[str]]:
    """(candidate files under ``root``, notes about what was left out)."""
    import pathspec

    specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
    files: list[Path] = []
    ignored = 0

    def add(directory: Path) -> None:
        gitignore = directory / ".gitignore"
        if gitignore.is_file():
            try:
                lines = gitignore.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                return
            specs.append((directory.resolve(), pathspec.GitIgnoreSpec.from_lines(lines)))

    # .gitignore files above the walked directory apply too, up to the repository's root
    top = root.resolve()
    if not (top / ".git").exists():
        for parent in top.parents:
            add(parent)
            if (parent / ".git").exists():
                break

    def is_ignored(path: Path, is_dir: bool) -> bool:
        path = path.resolve()
        for base, spec in specs:
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if spec.match_file(rel + "/" if is_dir else rel):
                return True
        return False

    for current, dirs, names in os.walk(root):
        here = Path(current)
        add(here)
        kept = []
        for name in sorted(dirs):
            if name in NEVER_ENTER or name.endswith(".egg-info"):
                continue
            if is_ignored(here / name, True):
                ignored += 1
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            path = here / name
            if path.suffix.lower() not in CANDIDATE_SUFFIXES:
                continue
            if is_ignored(path, False):
                ignored += 1
                continue
            files.append(path)
    notes = [f"{ignored} paths under {root} ignored by .gitignore"] if ignored else []
    return sorted(files), notes
