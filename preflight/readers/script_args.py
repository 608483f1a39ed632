"""Keys a repository's own scripts declare: TrlParser / HfArgumentParser route them there.

A TRL recipe is parsed by its script's ``TrlParser((ScriptArguments, SFTConfig, ModelConfig))``:
a key is given to whichever dataclass declares it, so ``max_seq_length`` or ``use_liger`` in a
script's own ``ScriptArguments`` is that script's, not a removed SFTConfig field. This module
finds those dataclasses in the repository the recipe lives in (files that build an
HfArgumentParser or TrlParser; read with ``ast``, at most MAX_FILES files, each under
MAX_BYTES), once per repository.
"""

from __future__ import annotations

import ast
import os
from functools import lru_cache
from pathlib import Path

MAX_FILES = 400
MAX_BYTES = 300_000
PARSERS = ("HfArgumentParser(", "TrlParser(")
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "site-packages", "build"}
HF_CLASSES = frozenset(
    {"TrainingArguments", "Seq2SeqTrainingArguments", "ModelConfig", "ScriptArgumentsBase"}
)


def repo_root(start: Path) -> Path | None:
    for parent in [start, *start.parents][:8]:
        if (parent / ".git").exists():
            return parent
    return None


@lru_cache(maxsize=16)
def script_fields(root: Path) -> dict[str, str]:
    """Field name -> "Class in file" for every dataclass a parser-building script declares."""
    out: dict[str, str] = {}
    seen = 0
    for current, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            seen += 1
            if seen > MAX_FILES:
                return out
            path = Path(current) / name
            try:
                if path.stat().st_size > MAX_BYTES:
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if not any(p in text for p in PARSERS) or "dataclass" not in text:
                continue
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError):
                continue
            where = path.relative_to(root).as_posix()
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef) or node.name in HF_CLASSES:
                    continue
                if not any("dataclass" in ast.unparse(d) for d in node.decorator_list):
                    continue
                if any(ast.unparse(b).split(".")[-1].endswith("Config") for b in node.bases):
                    continue  # a subclass of a TRL config: its fields are the config's
                for stmt in node.body:
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                        out.setdefault(stmt.target.id, f"{node.name} in {where}")
    return out


def owned_by_scripts(path: Path, keys: set[str]) -> dict[str, str]:
    """The subset of ``keys`` that a script of ``path``'s repository declares itself."""
    root = repo_root(path.resolve().parent)
    if root is None:
        return {}
    fields = script_fields(root)
    return {k: fields[k] for k in keys if k in fields}
