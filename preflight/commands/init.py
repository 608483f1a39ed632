"""``preflight init --from FILE``: a complete job spec from a config, script or notebook."""

from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path
from typing import Any

import click

from .. import exit_codes


@click.command()
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(path_type=Path),
    help="The config to start from: a script, notebook, TRL/axolotl/LLaMA-Factory recipe, "
    "accelerate or DeepSpeed config.",
)
@click.option("--instance", help="SageMaker instance type to plan for, e.g. ml.g5.xlarge.")
@click.option(
    "--input-format",
    default=None,
    help="Force the reader instead of detecting it from the content.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("job.yaml"),
    show_default=True,
    help="Where to write the spec; '-' prints it.",
)
@click.option("--overwrite", is_flag=True, help="Replace the output file if it exists.")
@click.option("--force", "overwrite", is_flag=True, hidden=True)  # the old name of --overwrite
def init(
    source: Path, instance: str | None, input_format: str | None, output: Path, overwrite: bool
) -> None:
    """Write a complete job spec from an existing config, script or notebook.

    Every value the source did not state is marked `# assumed: ...`: review those lines,
    then run `preflight check` on the spec for the full check (memory, cost, AWS audit).

    \b
    Examples:
      preflight init --from train.py --instance ml.g5.2xlarge -o job.yaml
      preflight init --from launch.ipynb -o -
    """
    from ..cli_support import check_output, write_output
    from ..readers import read_file
    from ..readers.to_spec import draft_from

    to_stdout = str(output) == "-"
    if not to_stdout:
        check_output(output, overwrite=overwrite, inputs=[source])
    if instance is not None:
        _check_instance(instance)
    loaded = read_file(source, input_format)
    draft = draft_from(loaded, instance)
    text = render_draft(draft, source)
    if to_stdout:
        click.echo(text, nl=False)
        return
    write_output(output, text, overwrite=overwrite, inputs=[source])
    _warn_if_unusable(output)
    assumed = sum(1 for s in draft.sections.values() for e in s.values() if e.assumed)
    click.echo(
        f"wrote {output}: {assumed} assumed values marked `# assumed`; review them, then run "
        f"`preflight check {output}`",
        err=True,
    )
    raise SystemExit(exit_codes.OK)


def _warn_if_unusable(path: Path) -> None:
    """The spec says what the source says; if that is impossible (max_wait < max_run), say so."""
    from ..spec import SpecError, load_spec

    try:
        load_spec(path)
    except SpecError as err:
        click.echo(f"warning: {path} repeats what the source states, and that fails:", err=True)
        for issue in err.issues:
            click.echo(f"  {issue}", err=True)


def _check_instance(name: str) -> None:
    import costmodel

    from ..cli_support import fail

    if not hasattr(costmodel, "load_catalog"):
        return
    try:
        costmodel.load_catalog().instance(name)
    except costmodel.UnknownInstanceError as exc:
        hint = f" (did you mean `{exc.suggestions[0]}`?)" if exc.suggestions else ""
        fail(f"--instance {name}: {exc}{hint}")


def render_draft(draft: Any, source: Path) -> str:
    """YAML text of a DraftSpec, with a `# assumed: why` comment after each assumed value."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    root = CommentedMap()
    if draft.name is not None:
        root["name"] = draft.name.value
        if draft.name.assumed:
            root.yaml_add_eol_comment(f"assumed: {draft.name.assumed}", "name")
    for section, entries in draft.sections.items():
        block = CommentedMap()
        for key, entry in entries.items():
            block[key] = _plain(entry.value)
            if entry.assumed:
                block.yaml_add_eol_comment(f"assumed: {entry.assumed}", key)
        root[section] = block
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 100
    buffer = io.StringIO()
    yaml.dump(root, buffer)
    today = _dt.date.today().isoformat()
    header = [
        f"# Job spec written by `preflight init --from {source}` on {today}.",
        "# Values marked `# assumed` were not in the source: review them before launching.",
        "# Unstated training arguments take transformers' Trainer defaults.",
    ]
    header += [f"# note: {n}" for n in draft.notes]
    return "\n".join(header) + "\n" + buffer.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
