"""Each rule's documented Example fires it and its "Use instead" keeps it silent.

The docs in docs/rules.md are generated from these docstrings, so this test is what keeps the
published examples honest. Examples of cost and memory rules run through the real cost model and
memory estimate; an example whose facts cannot be computed in this build is skipped, by name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from rule_case_harness import CATALOG_MODULES, fired, load_yaml, make_plan, rule_findings

from preflight.rules import Rule, all_rules

YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)

#: Files an example assumes on disk (named in the example's own comment).
EXAMPLE_DIRS: dict[str, list[str]] = {"PF104": ["runs/demo/checkpoint-500"]}


def _blocks(cls: type[Rule], section: str) -> list[dict[str, Any]]:
    return [load_yaml(b) or {} for b in YAML_BLOCK.findall(cls.doc_section(section))]


def _examples() -> list[Any]:
    out = []
    for cls in all_rules():
        if cls.__module__ not in CATALOG_MODULES:  # AWS audit and reader rules: see harness
            continue
        for section, must_fire in (("Example", True), ("Use instead", False)):
            for i, block in enumerate(_blocks(cls, section)):
                out.append(pytest.param(cls, block, must_fire, id=f"{cls.id}-{section}-{i}"))
    return out


def test_every_rule_documents_yaml_examples() -> None:
    lacking = [
        cls.id
        for cls in all_rules()
        if cls.__module__ in CATALOG_MODULES
        and not (_blocks(cls, "Example") and _blocks(cls, "Use instead"))
    ]
    assert not lacking, f"rules without a YAML Example and Use instead: {lacking}"


@pytest.mark.parametrize(("cls", "fragment", "must_fire"), _examples())
def test_doc_example(
    cls: type[Rule],
    fragment: dict[str, Any],
    must_fire: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # PF104 also looks in the current directory
    plan = make_plan(fragment, tmp_path, dirs=EXAMPLE_DIRS.get(cls.id) if must_fire else None)
    got = rule_findings(cls.id, plan)
    unchecked = [f for f in got if f.message.startswith("not checked:")]
    if unchecked and any(r in ("memory", "cost") for r in cls.requires):
        pytest.skip(f"{cls.id}: {unchecked[0].message}")
    assert not unchecked, unchecked[0].message
    real = fired(got)
    if must_fire:
        assert real, f"{cls.id}'s Example does not fire it"
    else:
        assert not real, f"{cls.id}'s 'Use instead' still fires: {[f.message for f in real]}"
