"""What every command line of the toolkit shares: a lazy click group, error printing, exit codes.

Commands import their heavy modules inside the command function, and the group imports a
command's module only when that command runs, so ``--help`` and ``preflight check`` stay fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import click

from . import exit_codes
from .spec.errors import SpecError


class LazyGroup(click.Group):
    """A click group whose subcommands are ``"module:attribute"`` strings, imported on use."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module_name, attr = self.lazy_commands[cmd_name].split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name and module_name.startswith(exc.name):
                    return _unavailable(cmd_name, f"{module_name} is not installed in this build")
                return _unavailable(
                    cmd_name, f"needs {exc.name}: pip install 'preflight-toolkit[dev]'"
                )
            command = getattr(module, attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List lazy commands with the short help kept in the table, without importing them."""
        rows = []
        for name in self.list_commands(ctx):
            help_text = LAZY_HELP.get(f"{self.name}.{name}") or LAZY_HELP.get(name, "")
            if name not in self.lazy_commands:
                cmd = super().get_command(ctx, name)
                help_text = cmd.get_short_help_str(80) if cmd else help_text
            rows.append((name, help_text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


LAZY_HELP: dict[str, str] = {}
"""Short help of lazily loaded commands, registered by the group that lists them."""


def _unavailable(name: str, why: str) -> click.Command:
    @click.command(
        name=name, help=f"Unavailable: {why}", context_settings={"ignore_unknown_options": True}
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        fail(f"`{name}` is unavailable: {why}")

    return command


def print_spec_error(err: SpecError, *, as_json: bool = False) -> None:
    """Every issue of an unusable input: to stdout as JSON when asked, else to stderr."""
    if as_json:
        import json

        click.echo(
            json.dumps(
                {
                    "error": "input could not be used",
                    "issues": [
                        {"file": i.file, "line": i.line, "key": i.key, "message": i.message}
                        for i in err.issues
                    ],
                },
                indent=2,
            )
        )
    n = len(err.issues)
    click.echo(
        f"error: {n} problem{'s' if n != 1 else ''} make{'s' if n == 1 else ''} the input unusable:",
        err=True,
    )
    for issue in err.issues:
        click.echo(f"  {issue}", err=True)


def overwrite_option(help_text: str = "Replace the output file if it already exists.") -> Any:
    """The one ``--overwrite`` flag every command that writes a file takes."""
    return click.option("--overwrite", is_flag=True, help=help_text)


def check_output(path: Path, *, overwrite: bool, inputs: Iterable[Path] = ()) -> None:
    """Exit 2 with the shared message when ``path`` must not be written (see safe_write)."""
    from .safe_write import UnsafeWrite, check_target

    try:
        check_target(path, overwrite=overwrite, inputs=inputs)
    except UnsafeWrite as exc:
        fail(str(exc))


def write_output(
    path: Path, data: str | bytes, *, overwrite: bool, inputs: Iterable[Path] = ()
) -> None:
    """Write a user-named output file safely, or exit 2 saying why it was not written."""
    from .safe_write import UnsafeWrite, write_bytes

    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        write_bytes(path, raw, overwrite=overwrite, inputs=inputs)
    except UnsafeWrite as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


def fail(message: str, code: int = exit_codes.UNUSABLE) -> NoReturn:
    """Print one clear line to stderr and exit (2 by default: the input could not be used)."""
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def run_cli(group: click.Command, argv: list[str] | None = None) -> NoReturn:
    """Run a click entry point so that bad input never prints a traceback.

    SpecError -> its issues and exit 2; any other unexpected exception -> one line naming it and
    exit 2, with the traceback only when PREFLIGHT_DEBUG=1 (it is a bug worth reporting).
    """
    try:
        group.main(args=argv, standalone_mode=False, prog_name=group.name)
    except SpecError as err:
        print_spec_error(err)
        raise SystemExit(exit_codes.UNUSABLE) from None
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        raise SystemExit(exit_codes.UNUSABLE) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exit_codes.UNUSABLE) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except SystemExit:
        raise
    except Exception as exc:
        if os.environ.get("PREFLIGHT_DEBUG") == "1":
            raise
        click.echo(
            f"error: internal error: {type(exc).__name__}: {exc} "
            "(set PREFLIGHT_DEBUG=1 for the traceback, and please report it)",
            err=True,
        )
        raise SystemExit(exit_codes.UNUSABLE) from None
    raise SystemExit(exit_codes.OK)


def entry(group: click.Command) -> Callable[[], NoReturn]:
    """A console-script function for ``group``."""

    def main() -> NoReturn:
        run_cli(group, sys.argv[1:])

    return main
