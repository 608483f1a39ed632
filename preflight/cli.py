"""``preflight``: check a training job before launch. Each command lives in preflight/commands/."""

from __future__ import annotations

from typing import NoReturn

import click

from .cli_support import LAZY_HELP, LazyGroup, run_cli

COMMANDS = {
    "check": "preflight.commands.check:check",
    "schema": "preflight.commands.schema:schema",
    "rules": "preflight.commands.rules:rules",
    "explain": "preflight.commands.rules:explain",
    "baseline": "preflight.commands.baseline:baseline",
    "init": "preflight.commands.init:init",
    "quota": "preflight.aws.cli:quota",
}
LAZY_HELP.update(
    {
        "check": "Check job specs, configs, scripts and notebooks before launch.",
        "schema": "Print the job spec's JSON Schema (for editor completion).",
        "rules": "List the rule catalog.",
        "explain": "Explain one rule: why it exists and how to fix it.",
        "baseline": "Write a baseline of today's findings so a CI gate can be adopted gradually.",
        "init": "Write a complete job spec from an existing config, script or notebook.",
        "quota": "Request the AWS quota increases a job needs.",
    }
)


@click.group(
    name="preflight",
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="preflight-toolkit", prog_name="preflight")
def cli() -> None:
    """Check a fine-tuning job before you pay for it.

    \b
    Start here, in a repository with training configs:
      preflight check .
    or with a full job spec (see `preflight schema`, examples/*.yaml):
      preflight check job.yaml --format json

    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 input unusable.
    """


def main() -> NoReturn:
    run_cli(cli)
