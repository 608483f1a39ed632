"""``preflight rules`` and ``preflight explain``: the catalog, from the rules' own metadata."""

from __future__ import annotations

import click


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table")
def rules(fmt: str) -> None:
    """List every rule: ID, severity, whether it can be silenced, title."""
    import json

    from ..rules import all_rules

    catalog = all_rules()
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "severity": r.severity.value,
                        "silenceable": r.silenceable,
                        "title": r.title,
                        "source_url": r.source_url,
                    }
                    for r in catalog
                ],
                indent=2,
            )
        )
        return
    if fmt == "markdown":
        from ..rule_docs import rules_markdown

        click.echo(rules_markdown())
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"preflight rules ({len(catalog)})")
    for col in ("id", "severity", "name", "title"):
        table.add_column(col)
    for r in catalog:
        sev = r.severity.value + ("" if r.silenceable else " (always)")
        table.add_row(r.id, sev, r.name, r.title)
    Console().print(table)


@click.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Explain one rule (e.g. `preflight explain PF101`): why, example, fix, references."""
    from ..cli_support import fail
    from ..rule_docs import rule_page
    from ..rules import all_rules, get_rule
    from ..suggest import did_you_mean

    cls = get_rule(rule_id)
    if cls is None:
        ids = [r.id for r in all_rules()]
        fail(
            f"no rule {rule_id!r}{did_you_mean(rule_id.upper(), ids)}; `preflight rules` lists them"
        )
    from rich.console import Console
    from rich.markdown import Markdown

    Console().print(Markdown(rule_page(cls)))
