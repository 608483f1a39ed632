"""docs/rules.md is generated from the rules; this fails when it was not regenerated.

The page is rendered in a fresh interpreter, exactly as `make docs` does: inside this test
session other tests may have imported rule modules that the catalog does not list yet.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from preflight.rule_docs import rules_markdown
from preflight.rules import all_rules

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "gen_rule_docs.py"


def _gen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT
    )


def test_rules_page_is_up_to_date() -> None:
    run = _gen("--check")
    assert run.returncode == 0, (
        "docs/rules.md is stale: run `make docs` (python scripts/gen_rule_docs.py)\n" + run.stdout
    )


def test_page_has_every_rule_with_an_anchor() -> None:
    text = rules_markdown()
    for cls in all_rules():
        assert f"## {cls.id} `{cls.name}`" in text, cls.id
        assert f"(#{cls.id.lower()}-{cls.name})" in text, cls.id


def test_generator_check_mode_reports_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text("# old\n")
    assert _gen("--output", str(stale), "--check").returncode == 1
    assert stale.read_text() == "# old\n", "--check must not write"
    assert _gen("--output", str(stale)).returncode == 0
    assert _gen("--output", str(stale), "--check").returncode == 0
    assert stale.read_text().startswith("# preflight rules")
