"""``preflight check``: the gate."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from .. import exit_codes
from ..findings import Severity
from ..render import Format


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in Format]),
    default="rich",
    show_default=True,
    envvar="PREFLIGHT_FORMAT",
    help="rich (for people), json (DESIGN.md shape), sarif (GitHub code scanning), junit, markdown "
    "(CI job summary). [env var: PREFLIGHT_FORMAT]",
)
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding at or above this severity remains.",
)
@click.option(
    "--aws/--no-aws",
    default=False,
    show_default=True,
    help="Also audit the AWS account: quotas, IAM, buckets (read-only; needs credentials).",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="Silence findings listed in this baseline file.",
)
@click.option(
    "--redact", is_flag=True, help="Replace AWS account ids with ************ in the output."
)
@click.option(
    "--input-format",
    default=None,
    help="Force the reader instead of detecting it from the content (spec, python, notebook, ...).",
)
@click.option(
    "--show-silenced",
    is_flag=True,
    help="List findings silenced by ignore: entries or a baseline (by default only counted).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write the report here instead of stdout.",
)
@click.option("--overwrite", is_flag=True, help="Let -o replace an existing file.")
@click.option(
    "--transformers",
    "transformers_version",
    default=None,
    metavar="VERSION",
    help="The transformers version the job runs with (default: the repository's pins, else the "
    "installed one); fields are judged against that release.",
)
@click.option(
    "--trl",
    "trl_version",
    default=None,
    metavar="VERSION",
    help="The TRL version the job runs with (default: the repository's pins, else installed).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Never ask the Hugging Face hub for a model's config.json (as HF_HUB_OFFLINE=1 does).",
)
def check(
    paths: tuple[Path, ...],
    fmt: str,
    fail_on: str,
    aws: bool,
    baseline: Path | None,
    redact: bool,
    input_format: str | None,
    show_silenced: bool,
    output: Path | None,
    overwrite: bool,
    offline: bool = False,
    transformers_version: str | None = None,
    trl_version: str | None = None,
) -> None:
    """Check job specs (and training configs, scripts, notebooks) before launch.

    \b
    Examples:
      preflight check job.yaml
      preflight check . --format sarif -o preflight.sarif
      preflight check job.yaml --aws --fail-on warning
    """
    from ..cli_support import check_output, print_spec_error, write_output
    from ..pipeline import check as run_check
    from ..render import render
    from ..spec import SpecError

    inputs = [*paths, *([baseline] if baseline is not None else [])]
    if output is not None:
        check_output(output, overwrite=overwrite, inputs=inputs)
    if offline:
        os.environ["MEMPLAN_OFFLINE"] = "1"  # memplan reads it: no hub request for config.json
    try:
        stated = {"transformers": transformers_version, "trl": trl_version}
        for flag, value in stated.items():
            if value is not None and not re.fullmatch(r"\d+(\.\d+){0,2}", value):
                raise click.BadParameter(
                    f"{value!r} is not a version like 4.56 or 4.56.2", param_hint=f"--{flag}"
                )
        report = run_check(
            list(paths),
            aws=aws,
            input_format=input_format,
            versions={k: v for k, v in stated.items() if v} or None,
        )
        if baseline is not None:
            from ..baseline import apply_baseline

            report = apply_baseline(report, baseline)
    except SpecError as err:
        print_spec_error(err, as_json=fmt == "json")
        if fmt == "sarif":  # CI upload steps need a file even when the input was unusable
            from ..render.sarif import render_sarif_error

            text = render_sarif_error(err)
            if output is not None:
                output.write_text(text)
                click.echo(f"wrote {output}", err=True)
            else:
                click.echo(text)
        raise SystemExit(exit_codes.UNUSABLE) from None
    report.show_silenced = show_silenced
    gate = Severity(fail_on)
    if fmt == "rich" and output is None and not redact:
        from rich.console import Console

        from ..render.rich_report import report_renderable

        Console(width=None if os.isatty(1) else 110).print(report_renderable(report, fail_on=gate))
    else:
        text = render(report, Format(fmt), fail_on=gate)
        if redact:
            from ..redact import redact_account_ids

            text = redact_account_ids(text)
        if output is not None:
            write_output(output, text, overwrite=overwrite, inputs=inputs)
            click.echo(f"wrote {output}", err=True)
        else:
            click.echo(text)
    s = report.summary()
    if fmt != "rich":
        click.echo(
            f"preflight: {s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos",
            err=True,
        )
    raise SystemExit(exit_codes.FINDINGS if report.failing(gate) else exit_codes.OK)
