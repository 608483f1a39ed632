"""``preflight baseline``: record today's findings so that only new ones fail CI."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path(".preflight-baseline.json"),
    show_default=True,
)
@click.option("--force", is_flag=True, help="Overwrite an existing baseline file.")
def baseline(paths: tuple[Path, ...], output: Path, force: bool) -> None:
    """Write a baseline of the current findings (rule + key + file) for `check --baseline`.

    \b
    Example:
      preflight baseline . -o .preflight-baseline.json
      preflight check . --baseline .preflight-baseline.json
    """
    from ..baseline import write_baseline
    from ..cli_support import fail
    from ..pipeline import check

    if output.exists() and not force:
        fail(f"{output} exists; pass --force to overwrite it")
    n = write_baseline(check(list(paths)), output)
    click.echo(f"wrote {n} findings to {output}")
