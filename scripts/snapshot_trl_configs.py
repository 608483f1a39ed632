"""Write preflight/data/trl_configs.json: the fields TRL's trainer configs add to TrainingArguments.

TRL is not a dependency, so the fields are read with ``ast`` from TRL's source, never imported:
from the installed trl when there is one, or from wheels fetched with

    pip download --no-deps trl -d /tmp/trl          # the newest: the fields known today
    pip download --no-deps trl==0.19.1 -d /tmp/trl  # older ones: what was removed since

and then

    .venv/bin/python scripts/snapshot_trl_configs.py /tmp/trl/trl-1.16.0-py3-none-any.whl \
        --older /tmp/trl/trl-0.19.1-py3-none-any.whl /tmp/trl/trl-0.12.2-py3-none-any.whl

A field present in an older wheel and absent from the newest is recorded as removed, with the last
version that had it; RENAMES says which of those have a successor (hand-written, each with the TRL
change that made it).
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import importlib.util
import json
import re
import zipfile
from pathlib import Path

from preflight.spec.training_fields import FieldInfo, parse_dataclass_fields, training_fields

OUT = Path(__file__).resolve().parents[1] / "preflight" / "data" / "trl_configs.json"

CLASSES = (
    "SFTConfig",
    "DPOConfig",
    "ORPOConfig",
    "GRPOConfig",
    "KTOConfig",
    "RewardConfig",
    "CPOConfig",
    "RLOOConfig",
    "PPOConfig",
)
"""The trainer configs users pass where a TrainingArguments would go."""

RENAMES: dict[str, dict[str, str]] = {
    # huggingface/trl PR #2895 and #2947 renamed it, PR #3704 removed the deprecated alias.
    "SFTConfig": {"max_seq_length": "max_length"},
    # trl PR #2306 (v0.13): the liger flag moved to TrainingArguments.use_liger_kernel.
    "*": {"use_liger": "use_liger_kernel"},
}
"""Removed field -> its successor; "*" applies to every class."""


def _sources_from_wheel(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {
            name: zf.read(name).decode("utf-8")
            for name in zf.namelist()
            if name.startswith("trl/") and name.endswith(".py")
        }


def _sources_installed() -> tuple[str, dict[str, str]] | None:
    spec = importlib.util.find_spec("trl")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    version = importlib.metadata.version("trl")
    files = {f"trl/{p.relative_to(root)}": p.read_text("utf-8") for p in root.rglob("*.py")}
    return version, files


def _version_of(path: Path) -> str:
    match = re.match(r"trl-([^-]+)-", path.name)
    if not match:
        raise SystemExit(f"{path}: not a trl wheel name")
    return match.group(1)


def _class_defs(files: dict[str, str]) -> dict[str, tuple[str, ast.ClassDef]]:
    """Every top-level class in the package: name -> (source, node). Experimental ones lose ties."""
    out: dict[str, tuple[str, ast.ClassDef]] = {}
    for name in sorted(files, key=lambda n: ("experimental" in n, n)):
        text = files[name]
        if "Config" not in text:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name not in out:
                out[node.name] = (text, node)
    return out


def _fields(cls: str, defs: dict[str, tuple[str, ast.ClassDef]]) -> dict[str, FieldInfo] | None:
    """Fields of ``cls`` and its TRL bases, stopping at TrainingArguments."""
    if cls not in defs:
        return None
    text, node = defs[cls]
    fields: dict[str, FieldInfo] = {}
    for base in node.bases:
        base_name = ast.unparse(base).split(".")[-1]
        if base_name in defs and base_name != "TrainingArguments":
            fields.update(_fields(base_name, defs) or {})
    fields.update(parse_dataclass_fields(text, cls))
    return fields


def snapshot(newest: tuple[str, dict[str, str]], older: list[tuple[str, dict[str, str]]]) -> dict:
    version, files = newest
    defs = _class_defs(files)
    configs: dict[str, dict[str, object]] = {}
    for cls in CLASSES:
        fields = _fields(cls, defs)
        if fields is None:
            continue
        configs[cls] = {
            "fields": {
                n: {"type": f.type, "default": f.default, "default_kind": f.default_kind}
                for n, f in sorted(fields.items())
            },
            "removed": {},
        }
    base_fields = training_fields().fields
    # Oldest first, so "last_version" ends as the newest older version that still had the field.
    for old_version, old_files in sorted(older, key=lambda v: [int(p) for p in v[0].split(".")]):
        old_defs = _class_defs(old_files)
        for cls, entry in configs.items():
            old_fields = _fields(cls, old_defs) or {}
            now = entry["fields"]
            removed = entry["removed"]
            assert isinstance(now, dict) and isinstance(removed, dict)
            for name in old_fields:
                if name in now or name in base_fields:
                    continue  # still accepted (a TrainingArguments field now): not removed
                successor = RENAMES.get(cls, {}).get(name) or RENAMES["*"].get(name)
                removed[name] = {"last_version": old_version, "replacement": successor}
    return {
        "trl_version": version,
        "source": "scripts/snapshot_trl_configs.py (ast over trl's source; nothing imported)",
        "older_versions": sorted(v for v, _ in older),
        "transformers_version": training_fields().version,
        "configs": configs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", type=Path, help="newest trl wheel (default: installed)")
    parser.add_argument("--older", nargs="*", type=Path, default=[], help="older trl wheels")
    args = parser.parse_args()
    if args.wheel is not None:
        newest = (_version_of(args.wheel), _sources_from_wheel(args.wheel))
    else:
        installed = _sources_installed()
        if installed is None:
            raise SystemExit("trl is not installed: pass a wheel (pip download --no-deps trl)")
        newest = installed
    older = [(_version_of(w), _sources_from_wheel(w)) for w in args.older]
    data = snapshot(newest, older)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
    counts = ", ".join(f"{c} {len(v['fields'])}" for c, v in data["configs"].items())
    print(f"wrote trl {data['trl_version']} fields to {OUT}: {counts}")


if __name__ == "__main__":
    main()
