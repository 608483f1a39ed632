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
@click.option("--overwrite", is_flag=True, help="Replace an existing baseline file.")
@click.option("--force", "overwrite", is_flag=True, hidden=True)  # the old name of --overwrite
def baseline(paths: tuple[Path, ...], output: Path, overwrite: bool) -> None:
    """Write a baseline of the current findings (rule + key + file) for `check --baseline`.

    \b
    Example:
      preflight baseline . -o .preflight-baseline.json
      preflight check . --baseline .preflight-baseline.json
    """
    from ..baseline import write_baseline
    from ..cli_support import check_output, fail
    from ..pipeline import check
    from ..safe_write import UnsafeWrite

    check_output(output, overwrite=overwrite, inputs=paths)
    try:
        n = write_baseline(check(list(paths)), output, overwrite=overwrite, inputs=paths)
    except (UnsafeWrite, OSError) as exc:
        fail(str(exc))
    click.echo(f"wrote {n} findings to {output}")
