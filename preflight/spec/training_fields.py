"""The field names, types and defaults of ``transformers.TrainingArguments``, without importing it.

Importing transformers costs seconds, and ``preflight check`` must answer in well under one. The
fields are read with ``ast`` from the installed ``training_args.py`` when transformers is
installed, and otherwise from a bundled snapshot (``preflight/data/training_arguments.json``)
that ``scripts/snapshot_training_args.py`` writes from the same parser, with the version it
came from. Either way nothing is executed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

_NO_DEFAULT = "<required>"
_FACTORY = "<factory>"


@dataclass(frozen=True)
class FieldInfo:
    """One TrainingArguments field: its annotation as written, and its literal default if any."""

    name: str
    type: str
    default: Any = None
    default_kind: str = "value"  # "value" | "factory" | "required" | "expression"


@dataclass(frozen=True)
class FieldTable:
    """All fields of one transformers version, and where the list came from."""

    version: str
    source: str  # "installed" or "snapshot"
    fields: dict[str, FieldInfo]

    def names(self) -> list[str]:
        return sorted(self.fields)


def parse_dataclass_fields(source: str, class_name: str) -> dict[str, FieldInfo]:
    """Read the annotated fields of ``class_name`` in ``source`` (python text) with ast."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return _fields_of(node)
    raise LookupError(f"class {class_name} not found")


def _fields_of(cls: ast.ClassDef) -> dict[str, FieldInfo]:
    out: dict[str, FieldInfo] = {}
    for stmt in cls.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        name = stmt.target.id
        if name.startswith("_"):
            continue  # private bookkeeping fields are not arguments a user passes
        type_text = ast.unparse(stmt.annotation)
        if "ClassVar" in type_text:
            continue
        out[name] = _field_info(name, type_text, stmt.value)
    return out


def _field_info(name: str, type_text: str, value: ast.expr | None) -> FieldInfo:
    if value is None:
        return FieldInfo(name, type_text, None, "required")
    if isinstance(value, ast.Call) and ast.unparse(value.func).endswith("field"):
        for kw in value.keywords:
            if kw.arg == "default":
                return _literal(name, type_text, kw.value)
            if kw.arg == "default_factory":
                return FieldInfo(name, type_text, _factory_value(kw.value), "factory")
        return FieldInfo(name, type_text, None, "required")
    return _literal(name, type_text, value)


def _factory_value(expr: ast.expr) -> Any:
    text = ast.unparse(expr)
    return {"list": [], "dict": {}}.get(text, _FACTORY)


def _literal(name: str, type_text: str, expr: ast.expr) -> FieldInfo:
    try:
        return FieldInfo(name, type_text, ast.literal_eval(expr), "value")
    except ValueError:
        # Enum members such as ``IntervalStrategy.STEPS``: keep the member name, lower-cased,
        # which is the string value transformers' ExplicitEnums use.
        text = ast.unparse(expr)
        if isinstance(expr, ast.Attribute) and text.split(".")[-1].isupper():
            return FieldInfo(name, type_text, expr.attr.lower(), "value")
        return FieldInfo(name, type_text, text, "expression")


def installed_version(package: str) -> str | None:
    """The installed version of ``package``, read from its metadata (no import)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _installed_source(package: str, relative: str) -> str | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path.read_text(encoding="utf-8") if path.is_file() else None


def table_to_json(table: FieldTable) -> dict[str, Any]:
    return {
        "transformers_version": table.version,
        "fields": {
            n: {"type": f.type, "default": f.default, "default_kind": f.default_kind}
            for n, f in sorted(table.fields.items())
        },
    }


def _table_from_json(data: dict[str, Any], source: str) -> FieldTable:
    fields = {
        n: FieldInfo(n, f["type"], f.get("default"), f.get("default_kind", "value"))
        for n, f in data["fields"].items()
    }
    return FieldTable(data["transformers_version"], source, fields)


def snapshot_table() -> FieldTable:
    """The bundled snapshot, whatever is installed."""
    text = resources.files("preflight.data").joinpath("training_arguments.json").read_text()
    return _table_from_json(json.loads(text), "snapshot")


def installed_table() -> FieldTable | None:
    """The installed transformers' fields, parsed from its source; None when not installed."""
    version = installed_version("transformers")
    if version is None:
        return None
    source = _installed_source("transformers", "training_args.py")
    if source is None:
        return None
    return FieldTable(version, "installed", parse_dataclass_fields(source, "TrainingArguments"))


@lru_cache(maxsize=1)
def training_fields() -> FieldTable:
    """The fields ``training:`` accepts: the installed transformers' when there is one.

    The snapshot is used when transformers is absent, or when it is the very version the
    snapshot was taken from (same answer, no parse).
    """
    snap = snapshot_table()
    version = installed_version("transformers")
    if version is None or version == snap.version:
        return snap
    try:
        table = installed_table()
    except (OSError, SyntaxError, LookupError):
        table = None
    return table or snap
