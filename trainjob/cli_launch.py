"""``trainjob launch | watch | alarms | checkpoints``: the SageMaker side of trainjob.

Each command computes with ``trainjob.sagemaker`` and only prints here. boto3 and the sagemaker
SDK are imported inside the commands, so ``trainjob --help`` never loads them. Exit codes follow
DESIGN.md: 0 fine, 1 refused or alarms firing, 2 the input or AWS could not be used.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

import click

OK, FINDINGS, UNUSABLE = 0, 1, 2


def _fail(message: str, code: int = UNUSABLE) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def _aws_error(exc: BaseException) -> NoReturn:
    """One line for an AWS or network failure (no traceback)."""
    _fail(f"AWS call failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


def _aws_errors() -> tuple[type[BaseException], ...]:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return (OSError,)
    return (BotoCoreError, ClientError, OSError)


def credentials_exist() -> bool:
    """True when boto3 can find AWS credentials (so the gate runs preflight's AWS audit too)."""
    try:
        import boto3
    except ImportError:
        return False
    try:
        return boto3.Session().get_credentials() is not None
    except Exception:  # a broken profile is "no usable credentials", not a crash
        return False


def _load(spec: Path) -> Any:
    from preflight.spec import SpecError, load_spec

    if not spec.is_file():
        _fail(f"{spec}: no such file")
    try:
        return load_spec(spec)
    except SpecError as err:
        for issue in err.issues:
            click.echo(f"  {issue}", err=True)
        _fail(f"{spec}: the spec cannot be used ({len(err.issues)} problem(s) above)")


def _gate(loaded: Any, aws: bool) -> tuple[Any, list[str]]:
    """``preflight.check`` with the AWS audit when asked; falls back to the offline check."""
    import preflight

    notes: list[str] = []
    if aws:
        try:
            return preflight.check(loaded, aws=True), notes
        except ImportError as exc:
            notes.append(f"AWS audit unavailable in this build ({exc}); checked offline")
        except _aws_errors() as exc:
            notes.append(f"AWS audit failed ({type(exc).__name__}); checked offline")
    return preflight.check(loaded, aws=False), notes


def _finding_line(finding: Any, spec_file: str) -> str:
    where = finding.file or spec_file
    if finding.line:
        where = f"{where}:{finding.line}"
    key = f" {finding.field}:" if finding.field else ""
    fix = f" (fix: {finding.fix})" if finding.fix else ""
    return f"{where}:{key} [{finding.rule}] {finding.message}{fix}"


@click.command("launch")
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--dry-run", is_flag=True, help="Print the CreateTrainingJob request; create nothing."
)
@click.option("--force", is_flag=True, help="Launch although preflight found errors.")
@click.option("--reason", help="Why --force is right; kept in the job's tags.")
@click.option("--image", "image_uri", help="Training image URI (default: HuggingFace DLC).")
@click.option("--role", "role_arn", help="Execution role ARN (default: compute.role_arn).")
@click.option("--job-name", help="Training job name (default: <spec name>-<UTC time>).")
@click.option("--code-uri", help="s3:// URI for sourcedir.tar.gz (default: under the output path).")
@click.option("--env", "env_pairs", multiple=True, metavar="KEY=VALUE", help="Extra environment.")
@click.option(
    "--via",
    type=click.Choice(["auto", "sdk", "boto3"]),
    default="auto",
    show_default=True,
    help="sagemaker SDK v3 ModelTrainer, or plain boto3 create_training_job.",
)
@click.option(
    "--aws/--no-aws",
    "aws",
    default=None,
    help="Run preflight's AWS audit (default: when credentials exist).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def launch(
    spec: Path,
    dry_run: bool,
    force: bool,
    reason: str | None,
    image_uri: str | None,
    role_arn: str | None,
    job_name: str | None,
    code_uri: str | None,
    env_pairs: tuple[str, ...],
    via: str,
    aws: bool | None,
    fmt: str,
) -> None:
    """Launch SPEC as a SageMaker training job, only if `preflight check` finds no errors.

    Spot, max wait, the runtime limit and the checkpoint sync come from the spec; the job is
    tagged with the preflight verdict's digest. --dry-run prints the exact request instead.
    """
    from trainjob.sagemaker.request import LaunchError, LaunchOptions, plan_launch

    if force and not (reason and reason.strip()):
        _fail('--force needs --reason "...": the reason is kept in the job\'s tags')
    environment: dict[str, str] = {}
    for pair in env_pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--env {pair!r}: expected KEY=VALUE")
        environment[key] = value

    loaded = _load(spec)
    use_aws = credentials_exist() if aws is None else aws
    report, notes = _gate(loaded, use_aws)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    errors = [f for f in report.active() if f.severity.value == "error"]
    if errors:
        for finding in sorted(errors, key=lambda f: f.sort_key()):
            click.echo(_finding_line(finding, str(spec)), err=True)
        if not force:
            click.echo(
                f"refused: preflight found {len(errors)} error(s) in {spec}; no training job "
                'was created (fix them, or --force --reason "...")',
                err=True,
            )
            raise SystemExit(FINDINGS)
        click.echo(f"forced past {len(errors)} error(s): {reason}", err=True)

    options = LaunchOptions(
        job_name=job_name,
        image_uri=image_uri,
        role_arn=role_arn,
        code_uri=code_uri,
        environment=environment,
        force_reason=reason.strip() if force and reason else None,
    )
    try:
        plan = plan_launch(loaded, digest=report.digest(), cost=report.cost, options=options)
    except LaunchError as exc:
        for line in str(exc).splitlines():
            click.echo(f"error: {line}", err=True)
        raise SystemExit(UNUSABLE) from None
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)

    if dry_run:
        click.echo(json.dumps(plan.to_request(), indent=2, sort_keys=True))
        click.echo("dry run: nothing was uploaded or created", err=True)
        return

    from trainjob.sagemaker.source import stage_source
    from trainjob.sagemaker.submit import submit

    with tempfile.TemporaryDirectory(prefix="trainjob-source-") as tmp:
        source = stage_source(Path(spec), plan.checkpoint_local_path, Path(tmp) / "source")
        try:
            done = submit(plan, source, via=via)
        except _aws_errors() as exc:
            _aws_error(exc)
    result = {
        "job_name": done.job_name,
        "job_arn": done.job_arn,
        "via": done.via,
        "plan_digest": report.digest(),
        "spot": plan.spot,
        "max_runtime_seconds": plan.max_runtime_s,
        "max_wait_seconds": plan.max_wait_s,
        "checkpoint_s3_uri": plan.checkpoint_s3_uri,
        "code_uri": done.code_uri,
        "region": plan.region,
    }
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"created {done.job_name} ({done.via}) in {plan.region}")
    click.echo(f"  plan digest   {report.digest()}")
    click.echo(f"  instance      {plan.instance_count} x {plan.instance_type}, spot={plan.spot}")
    click.echo(f"  max run       {plan.max_runtime_s} s; max wait {plan.max_wait_s or '-'} s")
    click.echo(f"  checkpoints   {plan.checkpoint_local_path} -> {plan.checkpoint_s3_uri}")
    click.echo(f"follow it with: trainjob watch {done.job_name} --spec {spec}")


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


if __name__ == "__main__":  # pragma: no cover
    launch.main(sys.argv[1:])
