"""Evidence that a run of unknown length is a demo, read from the file itself.

``severity.run_size`` knows a run's size from the cost model's hours or from ``max_steps``. A
script or notebook often states neither, and then every checkpoint rule keeps its full severity:
an error for ``save_strategy="no"`` on a unit test or on a notebook that fine-tunes on 100
examples (the readers benchmark, benchmarks/readers/review.md, found these false). This module
looks only for evidence a reader can point at, never at names of projects:

- a test: the Python file is ``test_*.py`` / ``*_test.py`` / ``conftest.py``, or has ``def
  test_`` functions in a ``tests/`` or ``test/`` folder of its repository (pytest's naming);
- a small training slice: the ``train_dataset=`` the Trainer gets is built from
  ``.select(range(...))``, ``.take(N)`` or ``split="train[:N]"`` with numbers the file states,
  and that slice times ``num_train_epochs`` is at most ``DEMO_MAX_EXAMPLES``.

Each returns the words a finding says it with, or None.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plan import Plan

DEMO_MAX_EXAMPLES = 1_000
"""A run that trains on at most this many examples in all (slice x epochs) is a demo: about
``severity.DEMO_MAX_STEPS`` steps at the batch sizes of the examples and tutorials."""

TEST_DIRS = frozenset({"tests", "test"})
TEST_FILE = re.compile(r"^(?:test_.*|.*_test)\.py$|^conftest\.py$")
SPLIT_SLICE = re.compile(r"\[\s*:\s*(\d+)\s*\]")
MAX_DEPTH = 4


def repo_parts(path: Path) -> tuple[str, ...]:
    """The folders of ``path`` below its repository root (the nearest ``.git``), else none."""
    path = path.resolve()
    for parent in path.parents:
        if (parent / ".git").exists():
            return path.relative_to(parent).parts[:-1]
    return ()


def file_is_a_test(path: Path) -> str | None:
    """``a test file`` when pytest's naming says the Python file is a test: ``test_*.py``,
    ``*_test.py``, or a module with ``def test_`` functions in a ``tests/`` folder. Configs in
    a ``tests/`` folder are not evidence: they are often copies of what users run (this
    project's own reader corpus is one)."""
    if path.suffix != ".py":
        return None
    if TEST_FILE.match(path.name):
        return "a test file"
    if TEST_DIRS & set(repo_parts(path)):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        if re.search(r"^\s*def test_\w*\(", text, re.MULTILINE):
            return "a test file"
    return None


def source_module(path: Path) -> ast.Module | None:
    """The file's Python (a notebook's code cells, magics blanked), or None."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if path.suffix == ".ipynb":
        from .readers.notebook import _blank_magics, notebook_cells

        try:
            cells = notebook_cells(json.loads(text))
        except ValueError:
            return None
        body: list[ast.stmt] = []
        for _, source in cells:
            try:
                body.extend(ast.parse(_blank_magics(source)).body)
            except SyntaxError:
                continue
        return ast.Module(body=body, type_ignores=[])
    if path.suffix != ".py":
        return None
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def _assignments(module: ast.Module) -> dict[str, list[ast.expr]]:
    out: dict[str, list[ast.expr]] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name):
                out.setdefault(node.target.id, []).append(node.value)
    return out


def _int(node: ast.expr, names: dict[str, list[ast.expr]], depth: int = 0) -> int | None:
    """An integer the file states: a literal, a name assigned one literal value, + - * of them."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        values = {_int(v, names, depth + 1) for v in names.get(node.id, [])}
        return values.pop() if len(values) == 1 else None  # one value, or not known
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
        left, right = _int(node.left, names, depth + 1), _int(node.right, names, depth + 1)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left + right
        return left - right if isinstance(node.op, ast.Sub) else left * right
    return None


def _slice_size(node: ast.expr, names: dict[str, list[ast.expr]], depth: int = 0) -> int | None:
    """Examples in a dataset expression built from a stated slice, following assignments."""
    if depth > MAX_DEPTH:
        return None
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Call):
            continue
        func = sub.func
        attr = func.attr if isinstance(func, ast.Attribute) else None
        if attr == "select" and sub.args:
            arg = sub.args[0]
            if (
                isinstance(arg, ast.Call)
                and isinstance(arg.func, ast.Name)
                and arg.func.id == "range"
                and 1 <= len(arg.args) <= 2
            ):
                bounds = [_int(a, names) for a in arg.args]
                if all(b is not None for b in bounds):
                    start, stop = (0, bounds[0]) if len(bounds) == 1 else bounds
                    return max(int(stop or 0) - int(start or 0), 0)
        if attr == "take" and len(sub.args) == 1:
            size = _int(sub.args[0], names)
            if size is not None:
                return size
        for kw in sub.keywords:
            if kw.arg == "split" and isinstance(kw.value, ast.Constant):
                match = SPLIT_SLICE.search(str(kw.value.value))
                if match:
                    return int(match.group(1))
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in names:
            for value in reversed(names[sub.id]):
                size = _slice_size(value, names, depth + 1)
                if size is not None:
                    return size
    return None


def train_slice(module: ast.Module) -> int | None:
    """Examples of the last ``train_dataset=`` passed in the file, when it is a stated slice."""
    names = _assignments(module)
    passed = [
        kw.value
        for node in ast.walk(module)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "train_dataset"
    ]
    if not passed:
        return None
    return _slice_size(passed[-1], names)


def demo_evidence(plan: Plan) -> str | None:
    """Words saying why a run of unknown length is a demo, or None when nothing says so."""
    path = plan.loaded.path
    found = file_is_a_test(path)
    if found:
        return found
    module = source_module(path)
    if module is None:
        return None
    size = train_slice(module)
    if size is None:
        return None
    from .rules.sync import training_value

    epochs = training_value(plan, "num_train_epochs", 3.0)
    if not isinstance(epochs, int | float) or isinstance(epochs, bool) or epochs <= 0:
        return None
    if size * epochs > DEMO_MAX_EXAMPLES:
        return None
    return f"a run on a {size:,}-example slice for {epochs:g} epoch(s)"
