"""Write docs/rules.md from the rules themselves (``preflight.rule_docs.rules_markdown``).

Usage::

    python scripts/gen_rule_docs.py            # rewrite docs/rules.md
    python scripts/gen_rule_docs.py --check    # exit 1 if docs/rules.md is out of date

The page is generated, never edited by hand: a rule's docstring, title, fix and source are the
single place its documentation lives, and tests/preflight/rules/test_rule_docs_page.py fails
when the committed page differs from what this script would write.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "rules.md"


def render() -> str:
    sys.path.insert(0, str(ROOT))
    from preflight.rule_docs import rules_markdown

    return rules_markdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether it is stale")
    parser.add_argument("--output", type=Path, default=TARGET, help="where to write the page")
    args = parser.parse_args(argv)
    text = render()
    current = args.output.read_text() if args.output.exists() else None
    if args.check:
        if current != text:
            print(f"{args.output} is out of date: run python scripts/gen_rule_docs.py")
            return 1
        print(f"{args.output} is up to date")
        return 0
    if current == text:
        print(f"{args.output} unchanged")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
