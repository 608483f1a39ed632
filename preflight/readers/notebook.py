"""Jupyter notebooks: their code cells read as one script, positions given as (cell, line).

Cells are numbered from 1 in the order they appear in the file, counting every cell (markdown
too), which is the number Jupyter, VS Code and GitHub's viewer show next to a cell; lines are
numbered from 1 within the cell. IPython magics (``%pip``, ``!ls``) are blanked before parsing,
and a cell that does not parse is skipped with a note, so one broken cell does not hide the
others. Nothing is executed.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from ..spec.errors import SpecError, SpecIssue
from .builder import SpecBuilder
from .python_source import read_python_text


def notebook_cells(data: Any) -> list[tuple[int, str]]:
    """(1-based cell number, source) of every code cell."""
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return []
    out: list[tuple[int, str]] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        out.append((number, text))
    return out


PYTHON_CELL_MAGICS = {"writefile", "capture", "time", "timeit", "prun", "debug"}
"""Cell magics whose body is Python: ``%%writefile train.py`` is how many SageMaker notebooks
write the entry script, so its TrainingArguments belong to the plan."""


def _cell_magic(text: str) -> str | None:
    first = text.lstrip().split("\n", 1)[0].strip()
    if not first.startswith("%%"):
        return None
    return first[2:].split()[0] if len(first) > 2 else ""


def _blank_magics(text: str) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and " " not in stripped):
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines)


def read_notebook(path: Path, text: str) -> SpecBuilder:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            [SpecIssue(str(path), exc.lineno, "", f"not a notebook: invalid JSON ({exc.msg})")]
        ) from None
    joined: list[str] = []
    where: list[tuple[int, int]] = []  # global line (index + 1) -> (cell, line in cell)
    skipped: list[str] = []
    written: dict[str, str] = {}  # %%writefile NAME cells: scripts the notebook writes
    for number, source in notebook_cells(data):
        magic = _cell_magic(source)
        if magic == "writefile":
            first, _, body = source.lstrip().partition("\n")
            target = [w for w in first.split()[1:] if not w.startswith("-")]
            if target:
                written[Path(target[-1]).name] = body
        if magic is not None and magic not in PYTHON_CELL_MAGICS:
            skipped.append(f"cell {number} is a %%{magic} cell, not Python; skipped")
            continue
        code = _blank_magics(source)
        try:
            ast.parse(code)
        except SyntaxError as exc:
            skipped.append(f"cell {number} does not parse ({exc.msg}, line {exc.lineno}); skipped")
            continue
        cell_lines = code.splitlines() or [""]
        for index, line in enumerate(cell_lines, start=1):
            joined.append(line)
            where.append((number, index))

    def locate(line: int) -> tuple[int | None, int | None]:
        if 1 <= line <= len(where):
            cell, in_cell = where[line - 1]
            return in_cell, cell
        return None, None

    builder = read_python_text(
        "\n".join(joined) + "\n", path, kind="notebook", locate=locate, written=written
    )
    for note in skipped:
        builder.note(note)
    return builder


def notebook_file_line(path: Path, cell: int, line: int) -> int | None:
    """The line of the raw ``.ipynb`` file that holds line ``line`` of cell ``cell``.

    Code scanning (SARIF) and editors that open a notebook as JSON need a line of the file
    itself. nbformat writes one JSON string per source line, so the line-th string after the
    cell's ``"source"`` key is found by text search; None when the file is laid out otherwise.
    """
    try:
        text = path.read_text(encoding="utf-8")
        cells = json.loads(text)["cells"]
        source = cells[cell - 1]["source"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    pieces = source if isinstance(source, list) else str(source).splitlines(keepends=True)
    if not 1 <= line <= len(pieces):
        return None
    pos = -1
    for _ in range(cell):  # every cell has one "source" key, in file order
        pos = text.find('"source"', pos + 1)
        if pos < 0:
            return None
    if not isinstance(source, list):  # one string for the whole cell: its first line
        return text.count("\n", 0, pos) + 1
    for piece in pieces[:line]:
        forms = {json.dumps(piece), json.dumps(piece, ensure_ascii=False)}
        found = [p for p in (text.find(form, pos + 1) for form in forms) if p >= 0]
        if not found:
            return None
        pos = min(found)
    return text.count("\n", 0, pos) + 1
