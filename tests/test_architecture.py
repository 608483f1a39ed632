"""The arrows point one way: trainjob -> preflight -> {memplan, costmodel}.

Scanned with ast over every module, so a stray import anywhere (even inside a function) fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "memplan": {"preflight", "trainjob", "costmodel"},
    "costmodel": {"preflight", "trainjob", "memplan"},
    "preflight": {"trainjob"},
    "trainjob": set(),
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_arrows_point_one_way(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_packages(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_public_api_of_preflight() -> None:
    import preflight

    assert sorted(preflight.__all__) == [
        "Finding",
        "JobSpec",
        "LoadedSpec",
        "Report",
        "Severity",
        "SpecError",
        "SpecIssue",
        "__version__",
        "check",
        "load_spec",
    ]
    assert callable(preflight.check)
