"""The ``trainjob`` command: ``run`` and ``rehearse`` here, ``launch``/``watch``/``alarms``/
``checkpoints`` from ``trainjob.cli_launch`` (the SageMaker side).

Every subcommand is imported only when it is invoked (click LazyGroup), so ``trainjob --help``
stays fast and never imports torch; a subcommand whose module is missing from this install gets
one clear line, not a traceback.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "trainjob.cli_run:run",
        "Train the job a spec describes, locally, with checkpoints that cannot lie.",
    ),
    "rehearse": (
        "trainjob.cli_run:rehearse",
        "Prove data, save and resume on a shallow model in minutes.",
    ),
    "exec": (
        "trainjob.cli_exec:exec_",
        "Run your own training command with trainjob's safety in every Trainer.",
    ),
    "launch": ("trainjob.cli_launch:launch", "Launch the job as a SageMaker training job."),
    "watch": ("trainjob.cli_launch:watch", "Follow a SageMaker training job."),
    "alarms": ("trainjob.cli_launch:alarms", "Create the CloudWatch alarms for a job."),
    "checkpoints": (
        "trainjob.cli_launch:checkpoints",
        "List and verify a job's checkpoints in S3 or a local dir.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are ``module:attr`` strings imported on first use."""

    def __init__(
        self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help lists the short descriptions without importing any subcommand module.
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def _load(self, name: str) -> click.Command:
        target, help_text = self.lazy[name]
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
            command = getattr(module, attr)
        except (ImportError, AttributeError) as exc:
            return _unavailable(name, target, help_text, exc)
        if not isinstance(command, click.Command):
            return _unavailable(name, target, help_text, TypeError("not a click command"))
        return command


def _unavailable(name: str, target: str, help_text: str, exc: Exception) -> click.Command:
    """A stand-in that says in one line why ``name`` cannot run here, and exits 2."""

    @click.command(name, help=help_text, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def missing(args: tuple[str, ...]) -> None:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        click.echo(f"trainjob {name}: not available in this install ({target}: {detail})", err=True)
        raise SystemExit(2)

    return missing


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(package_name="preflight-toolkit", prog_name="trainjob")
def main() -> None:
    """Run fine-tuning jobs that cannot lose their work.

    `trainjob run SPEC` refuses to start unless `preflight check` is clean, then trains with
    validated checkpoints, a save on SIGTERM, resume from the newest valid checkpoint and a
    final save in `finally`. `trainjob rehearse SPEC` proves the pipeline first, in minutes.
    """


def spec_argument(func: Any) -> Any:
    """The SPEC argument every command takes."""
    return click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))(func)


def canary_options(func: Any) -> Any:
    """``--canary-steps`` / ``--canary-minutes``: the early checkpoint run and exec both force."""
    func = click.option(
        "--canary-minutes",
        type=click.FloatRange(min=0),
        default=30.0,
        show_default=True,
        help="... or after this many minutes, whichever comes first (0: off).",
    )(func)
    return click.option(
        "--canary-steps",
        type=click.IntRange(min=0),
        default=50,
        show_default=True,
        help="Force an early checkpoint after this many steps (0: off).",
    )(func)


if __name__ == "__main__":  # pragma: no cover
    main()
