"""docs/rules.md is generated from the rules; this fails when it was not regenerated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from preflight.rule_docs import rules_markdown
from preflight.rules import all_rules

ROOT = Path(__file__).resolve().parents[3]


def test_rules_page_is_up_to_date() -> None:
    page = ROOT / "docs" / "rules.md"
    assert page.exists(), "run python scripts/gen_rule_docs.py"
    assert page.read_text() == rules_markdown(), (
        "docs/rules.md is stale: run `make docs` (python scripts/gen_rule_docs.py)"
    )


def test_page_has_every_rule_with_an_anchor() -> None:
    text = rules_markdown()
    for cls in all_rules():
        assert f"## {cls.id} `{cls.name}`" in text, cls.id
        assert f"(#{cls.id.lower()}-{cls.name})" in text, cls.id


def test_generator_check_mode_reports_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text("# old\n")
    script = ROOT / "scripts" / "gen_rule_docs.py"
    run = [sys.executable, str(script), "--output", str(stale)]
    assert subprocess.run([*run, "--check"], capture_output=True).returncode == 1
    assert subprocess.run(run, capture_output=True).returncode == 0
    assert stale.read_text() == rules_markdown()
    assert subprocess.run([*run, "--check"], capture_output=True).returncode == 0
