"""Write preflight/data/field_history.json: which release of transformers / TRL has which field.

A project that pins ``transformers==4.56.2`` runs with 4.56's TrainingArguments, not with the
installed one: a key valid there must not be reported as a TypeError. This script reads every
wheel it is given with ``ast`` (nothing is imported or executed) and stores, compactly, for each
field the first and last release that has it, its default where that changed, and the closed
value sets (``optim``, ``lr_scheduler_type``, the strategies, ``report_to``) per release.

Fetch one wheel per minor release (the newest patch), then run the script:

    pip download --no-deps transformers==4.36.2 -d /tmp/w/tf     # ... one per minor, to today's
    pip download --no-deps trl==0.7.11 -d /tmp/w/trl             # ... one per minor, to today's
    .venv/bin/python scripts/snapshot_field_history.py /tmp/w/tf /tmp/w/trl

(``benchmarks/readers/README.md`` lists the exact releases used for the bundled file.)
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from snapshot_trl_configs import CLASSES, _class_defs, _fields

from preflight.spec.training_fields import FieldInfo, parse_dataclass_fields

OUT = Path(__file__).resolve().parents[1] / "preflight" / "data" / "field_history.json"

ENUMS = {
    # field -> (file in the transformers package, enum class)
    "optim": ("training_args.py", "OptimizerNames"),
    "lr_scheduler_type": ("trainer_utils.py", "SchedulerType"),
    "eval_strategy": ("trainer_utils.py", "IntervalStrategy"),
    "logging_strategy": ("trainer_utils.py", "IntervalStrategy"),
    "save_strategy": ("trainer_utils.py", "SaveStrategy"),
    "hub_strategy": ("trainer_utils.py", "HubStrategy"),
}
"""Fields whose value must be one member of an enum; SaveStrategy is IntervalStrategy before
transformers 4.46 (it added "best")."""


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def _wheel_version(path: Path, package: str) -> str:
    match = re.match(rf"{package}-([^-]+)-", path.name)
    if not match:
        raise SystemExit(f"{path}: not a {package} wheel name")
    return match.group(1)


def _read(zf: zipfile.ZipFile, name: str) -> str | None:
    try:
        return zf.read(name).decode("utf-8")
    except KeyError:
        return None


def enum_members(source: str | None, cls: str) -> list[str] | None:
    """The string values of ``class cls(ExplicitEnum)``'s members, or None if there is none."""
    if source is None:
        return None
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            out = []
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                ):
                    out.append(stmt.value.value)
            return out
    return None


def integrations(source: str | None) -> list[str] | None:
    """The keys of ``INTEGRATION_TO_CALLBACK``: the names ``report_to`` accepts (plus all/none)."""
    if source is None:
        return None
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(t, ast.Name) and t.id == "INTEGRATION_TO_CALLBACK" for t in node.targets
            )
            and isinstance(node.value, ast.Dict)
        ):
            return [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
    return None


def transformers_release(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as zf:
        args = _read(zf, "transformers/training_args.py") or ""
        utils = _read(zf, "transformers/trainer_utils.py")
        integ = _read(zf, "transformers/integrations/integration_utils.py")
    fields = parse_dataclass_fields(args, "TrainingArguments")
    enums: dict[str, list[str]] = {}
    for field, (file, cls) in ENUMS.items():
        members = enum_members(args if file == "training_args.py" else utils, cls)
        if members is None and cls == "SaveStrategy":
            members = enum_members(utils, "IntervalStrategy")
        if members is not None:
            enums[field] = members
    names = integrations(integ)
    if names is not None:
        enums["report_to"] = sorted(set(names) | {"all", "none"})
    return {"fields": fields, "enums": enums}


def trl_release(path: Path) -> dict[str, dict[str, FieldInfo]]:
    with zipfile.ZipFile(path) as zf:
        files = {
            n: zf.read(n).decode("utf-8")
            for n in zf.namelist()
            if n.startswith("trl/") and n.endswith(".py")
        }
    defs = _class_defs(files)
    out = {}
    for cls in CLASSES:
        fields = _fields(cls, defs)
        if fields:
            out[cls] = fields
    return out


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def history(per_version: list[tuple[str, dict[str, FieldInfo]]]) -> dict[str, Any]:
    """{field: {"first": v, "last": v, "defaults": [[from_version, default], ...]}}.

    "last" is None while the newest release still has the field. A field that left and came
    back keeps its first and last appearances only (none in the releases read).
    """
    newest = per_version[-1][0]
    out: dict[str, dict[str, Any]] = {}
    for version, fields in per_version:
        for name, info in fields.items():
            entry = out.setdefault(name, {"first": version, "last": version, "defaults": []})
            entry["last"] = version
            default = _jsonable(info.default) if info.default_kind == "value" else None
            if info.default_kind == "factory":
                default = _jsonable(info.default)
            if not entry["defaults"] or entry["defaults"][-1][1] != default:
                entry["defaults"].append([version, default])
    for entry in out.values():
        if entry["last"] == newest:
            entry["last"] = None
    return dict(sorted(out.items()))


def enum_history(per_version: list[tuple[str, dict[str, list[str]]]]) -> dict[str, Any]:
    """{field: {value: [first, last or None]}}."""
    newest = per_version[-1][0]
    out: dict[str, dict[str, list[str | None]]] = {}
    for version, enums in per_version:
        for field, members in enums.items():
            for member in members:
                span = out.setdefault(field, {}).setdefault(member, [version, version])
                span[1] = version
    for values in out.values():
        for span in values.values():
            if span[1] == newest:
                span[1] = None
    return {f: dict(sorted(v.items())) for f, v in sorted(out.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transformers_wheels", type=Path, help="folder of transformers wheels")
    parser.add_argument("trl_wheels", type=Path, help="folder of trl wheels")
    args = parser.parse_args()
    tf_wheels = sorted(
        args.transformers_wheels.glob("transformers-*.whl"),
        key=lambda p: version_key(_wheel_version(p, "transformers")),
    )
    trl_wheels = sorted(
        args.trl_wheels.glob("trl-*.whl"), key=lambda p: version_key(_wheel_version(p, "trl"))
    )
    tf = [(_wheel_version(p, "transformers"), transformers_release(p)) for p in tf_wheels]
    trl = [(_wheel_version(p, "trl"), trl_release(p)) for p in trl_wheels]
    configs: dict[str, Any] = {}
    for cls in CLASSES:
        releases = [(v, r[cls]) for v, r in trl if cls in r]
        if releases:
            configs[cls] = history(releases)
    data = {
        "_source": (
            "scripts/snapshot_field_history.py: ast over the released wheels from PyPI "
            "(pip download --no-deps), newest patch of each minor; nothing imported"
        ),
        "transformers": {
            "versions": [v for v, _ in tf],
            "fields": history([(v, r["fields"]) for v, r in tf]),
            "values": enum_history([(v, r["enums"]) for v, r in tf]),
        },
        "trl": {"versions": [v for v, _ in trl], "configs": configs},
    }
    OUT.write_text(_compact(data) + "\n")
    print(
        f"wrote {OUT}: transformers {tf[0][0]}..{tf[-1][0]} ({len(tf)} releases), "
        f"trl {trl[0][0]}..{trl[-1][0]} ({len(trl)} releases), {OUT.stat().st_size // 1024} KiB"
    )


def _compact(data: Any, depth: int = 0) -> str:
    """JSON with one line per field: diffable, and small enough to load in milliseconds."""
    if isinstance(data, dict) and any(isinstance(v, dict) for v in data.values()):
        pad = " " * (depth + 1)
        items = [f"{pad}{json.dumps(k)}: {_compact(v, depth + 1)}" for k, v in data.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    return json.dumps(data, separators=(",", ":"), default=repr)


if __name__ == "__main__":
    main()
