"""``preflight schema``: the job spec's JSON Schema, for editors (yaml-language-server) and docs."""

from __future__ import annotations

import json

import click


def job_spec_schema() -> dict[str, object]:
    """JobSpec's schema, with ``training`` listing every TrainingArguments field by name."""
    from ..spec import JobSpec, training_fields
    from ..spec.value_types import describe

    schema = JobSpec.model_json_schema()
    table = training_fields()
    training = {
        "type": "object",
        "description": f"transformers.TrainingArguments fields (transformers {table.version}, "
        f"{table.source}). Unknown keys are reported with the nearest field.",
        "properties": {
            name: {"description": f"{describe(info.type)}; default {info.default!r}"}
            for name, info in sorted(table.fields.items())
        },
    }
    props = schema.get("properties")
    assert isinstance(props, dict)
    props["training"] = training
    schema["title"] = "preflight job spec"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


@click.command()
def schema() -> None:
    """Print the job spec's JSON Schema.

    \b
    Point your editor at it, e.g. with the YAML language server:
      preflight schema > jobspec.schema.json
      # first line of job.yaml:
      # yaml-language-server: $schema=jobspec.schema.json
    """
    click.echo(json.dumps(job_spec_schema(), indent=2))
