"""``trainjob exec [SPEC] -- COMMAND``: options, then hand over to ``trainjob.exec``.

Exit code: the command's own (128+N when signal N ended it); 2 when the spec/script cannot be
read or the command does not exist; 1 when preflight refuses.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from .cli import canary_options


def split_spec(words: list[str]) -> tuple[list[str], Path | None]:
    """(the command, SPEC or None). click has already eaten a leading ``--``; a ``--`` after the
    first word means that word was SPEC (``trainjob exec job.yaml -- python train.py``); any
    later ``--`` belongs to the command."""
    if len(words) >= 2 and words[1] == "--" and not words[0].startswith("-"):
        if not words[2:]:
            raise click.UsageError("no command after --")
        return words[2:], Path(words[0])
    if words and words[0] == "--":
        return words[1:], None
    return words, None


@click.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--force", is_flag=True, help="Run even though preflight found errors.")
@click.option("--reason", help="Why --force is right (kept in the log).")
@click.option("--no-gate", is_flag=True, help="Skip the preflight gate.")
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Checkpoint dir for every Trainer (default: each Trainer's own output_dir).",
)
@canary_options
@click.option(
    "--grace-seconds",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="After a forwarded SIGTERM, how long the command may take to save and exit.",
)
@click.option(
    "--no-final-save", is_flag=True, help="Do not save the model to OUTPUT_DIR/final-model."
)
@click.option(
    "--allow-mismatch",
    is_flag=True,
    help="Resume even if batch size, world size, max steps or data length differ from the checkpoint's.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED, required=True)
def exec_(
    force: bool,
    reason: str | None,
    no_gate: bool,
    output_dir: Path | None,
    canary_steps: int,
    canary_minutes: float,
    grace_seconds: float,
    no_final_save: bool,
    allow_mismatch: bool,
    args: tuple[str, ...],
) -> None:
    """Run your own training command with trainjob's safety in every Trainer it creates.

    trainjob exec [SPEC] -- python train.py ARGS (or accelerate launch ..., torchrun ...,
    llamafactory-cli train x.yaml, axolotl train x.yaml). Preflight checks SPEC, or the script
    and recipe in the command, first.
    """
    from preflight.spec import SpecError

    from .errors import TrainjobError
    from .exec import ExecOptions, exec_command, summary_lines
    from .logs import setup_console_logging

    words, spec = split_spec(list(args))
    setup_console_logging(live=False)
    options = ExecOptions(
        spec=spec,
        force=force,
        reason=reason,
        gate=not no_gate,
        output_dir=output_dir,
        canary_steps=canary_steps or None,
        canary_minutes=canary_minutes or None,
        grace_seconds=grace_seconds,
        final_save=not no_final_save,
        allow_mismatch=allow_mismatch,
    )
    log = logging.getLogger("trainjob")
    try:
        result = exec_command(words, options)
    except SpecError as exc:
        for issue in exc.issues:
            log.error("%s", issue)
        raise SystemExit(2) from None
    except TrainjobError as exc:
        log.error("%s", exc)
        raise SystemExit(exc.exit_code) from None
    for line in summary_lines(result):
        click.echo(line, err=True)
    raise SystemExit(result.exit_code)
