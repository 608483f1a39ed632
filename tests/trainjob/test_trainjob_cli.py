"""The lazy command group: commands load on use, a missing module is one clear line."""

from __future__ import annotations

import click
from click.testing import CliRunner

from trainjob.cli import COMMANDS, LazyGroup


def test_missing_command_module_is_one_line_exit_2() -> None:
    group = LazyGroup("t", lazy={"ghost": ("trainjob.no_such_module:ghost", "Not here.")})
    result = CliRunner().invoke(group, ["ghost", "x", "--flag"])
    assert result.exit_code == 2
    assert "not available in this install" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_attribute_that_is_not_a_command_is_reported() -> None:
    group = LazyGroup("t", lazy={"odd": ("trainjob.errors:TrainjobError", "Odd.")})
    result = CliRunner().invoke(group, ["odd"])
    assert result.exit_code == 2 and "not a click command" in result.output


def test_every_listed_command_resolves_to_a_click_command_or_a_clear_stand_in() -> None:
    group = LazyGroup("t", lazy=COMMANDS)
    ctx = click.Context(group)
    assert group.list_commands(ctx) == sorted(COMMANDS)
    for name in ("run", "rehearse"):
        command = group.get_command(ctx, name)
        assert command is not None and command.name == name
        assert any(p.name == "spec" for p in command.params)
