"""Sort surviving mutants by what they change, so the results page can say which are harmless.

Reads the mutated copies mutmut 3 writes (``mutants/<module>.py`` holds every mutant as a
function ``x_<name>__mutmut_<n>`` beside the original ``x_<name>__mutmut_orig``) and diffs each
survivor against its original. Categories:

- ``message``: only a string literal changed (``"XXtextXX"``, case) - the wording of a finding
  or an error, not what fires;
- ``equivalent-default``: a default argument dropped or set to None where the next token is
  ``or <same default>``, so the value is unchanged;
- ``logic``: anything else (an operator, a bound, a call) - a real gap in the tests.

``python benchmarks/mutation/categorize.py ROOT`` prints counts per module and the logic ones.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import sys
from collections import Counter
from pathlib import Path


def _functions(source: str) -> dict[str, str]:
    tree = ast.parse(source)
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            out[node.name] = ast.get_source_segment(source, node) or ""
    return out


def _category(orig: str, mutant: str) -> tuple[str, str]:
    a = [ln for ln in orig.splitlines()[1:]]
    b = [ln for ln in mutant.splitlines()[1:]]
    removed = [ln[1:] for ln in difflib.ndiff(a, b) if ln.startswith("- ")]
    added = [ln[1:] for ln in difflib.ndiff(a, b) if ln.startswith("+ ")]
    change = f"{' | '.join(s.strip() for s in removed)} => {' | '.join(s.strip() for s in added)}"
    if len(removed) == 1 and len(added) == 1:
        old, new = removed[0], added[0]
        strip = re.compile(r"(\"[^\"]*\"|'[^']*')")
        if strip.sub('""', old) == strip.sub('""', new):
            return "message", change
        if " or " in new and re.search(r",\s*(None)?\s*\)\s*or\s", new):
            return "equivalent-default", change
    if not added and len(removed) == 1 and ")" in removed[0]:
        pass
    return "logic", change


def main(root: Path) -> None:
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        survivors = [k for k, v in codes.items() if v == 0]
        if not survivors:
            continue
        source = meta.with_suffix("").read_text()
        funcs = _functions(source)
        counts: Counter[str] = Counter()
        logic = []
        for key in survivors:
            short = key.rsplit(".", 1)[1]
            orig = funcs.get(short.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
            mutant = funcs.get(short)
            if orig is None or mutant is None:
                counts["unknown"] += 1
                continue
            kind, change = _category(orig, mutant)
            counts[kind] += 1
            if kind == "logic":
                logic.append(f"  {short}: {change[:160]}")
        print(f"{meta.relative_to(root / 'mutants').as_posix()[:-5]}: {dict(counts)}")
        print("\n".join(logic[:400]))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
