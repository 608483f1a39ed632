"""``trainjob launch | watch | alarms | checkpoints``: the SageMaker side of trainjob.

Each command computes with ``trainjob.sagemaker`` and only prints here. boto3 and the sagemaker
SDK are imported inside the commands, so ``trainjob --help`` never loads them. Exit codes follow
DESIGN.md: 0 fine, 1 refused or alarms firing, 2 the input or AWS could not be used.
"""

from __future__ import annotations

import json
import os
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


def _refuse_secret_env(environment: dict[str, str], allowed: bool) -> None:
    """Credentials in a job's Environment are readable by anyone allowed to describe the job
    (DescribeTrainingJob returns it): refuse them unless ``--allow-secret-env``."""
    from preflight.redact import is_secret_key, looks_like_secret

    secret = [k for k, v in environment.items() if is_secret_key(k) or looks_like_secret(v)]
    if not secret or allowed:
        return
    names = ", ".join(sorted(secret))
    _fail(
        f"--env {names}: a credential in the job's Environment is readable by anyone allowed to "
        "describe the job. Give the execution role (--role) the access the job needs, or store "
        "the token in AWS Secrets Manager and read it inside the job; --allow-secret-env passes "
        "it anyway (it is still hidden in what is printed)"
    )


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


@click.command("launch", context_settings={"ignore_unknown_options": True})
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--entry-point",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Ship and run your own training script (under trainjob exec) instead of trainjob run.",
)
@click.option(
    "--source-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder shipped with --entry-point (its requirements.txt is installed).",
)
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
    "--allow-secret-env",
    is_flag=True,
    help="Put credentials given with --env (HF_TOKEN, AWS keys) into the job's Environment "
    "anyway; anyone allowed to describe the job can read them.",
)
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
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
def launch(
    spec: Path,
    entry_point: Path | None,
    source_dir: Path | None,
    script_args: tuple[str, ...],
    dry_run: bool,
    force: bool,
    reason: str | None,
    image_uri: str | None,
    role_arn: str | None,
    job_name: str | None,
    code_uri: str | None,
    env_pairs: tuple[str, ...],
    allow_secret_env: bool,
    via: str,
    aws: bool | None,
    fmt: str,
) -> None:
    """Launch SPEC as a SageMaker training job, only if `preflight check` finds no errors.

    Spot, max wait, the runtime limit and the checkpoint sync come from the spec; the job is
    tagged with the preflight verdict's digest. --dry-run prints the exact request instead.
    With --entry-point train.py [--source-dir src] [-- ARGS], your own script is shipped and
    run under `trainjob exec` in the container, after preflight has read it too.
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
    _refuse_secret_env(environment, allow_secret_env)

    if source_dir is not None and entry_point is None:
        _fail("--source-dir needs --entry-point (the script in it to run)")
    if script_args and entry_point is None:
        _fail(f"unexpected arguments {' '.join(script_args)} (script arguments need --entry-point)")
    user_entry: str | None = None
    if entry_point is not None:
        from trainjob.sagemaker.user_source import SourceError, entry_relative, exec_environment

        try:
            root, user_entry = entry_relative(entry_point, source_dir)
        except SourceError as exc:
            _fail(str(exc))
        environment.update(exec_environment(user_entry, [a for a in script_args if a != "--"]))

    loaded = _load(spec)
    use_aws = credentials_exist() if aws is None else aws
    report, notes = _gate(loaded, use_aws)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    errors = [f for f in report.active() if f.severity.value == "error"]
    if user_entry is not None:
        errors += _script_errors(root / user_entry)
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
        force_reason=reason.strip() if force and reason and errors else None,
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
        from preflight.redact import redact_data

        click.echo(json.dumps(redact_data(plan.to_request()), indent=2, sort_keys=True))
        click.echo("dry run: nothing was uploaded or created", err=True)
        return

    from trainjob.sagemaker.source import stage_source
    from trainjob.sagemaker.submit import submit

    with tempfile.TemporaryDirectory(prefix="trainjob-source-") as tmp:
        if entry_point is not None:
            from trainjob.sagemaker.user_source import SourceError, stage_user_source

            try:
                source, _ = stage_user_source(
                    Path(spec),
                    plan.checkpoint_local_path,
                    Path(tmp) / "source",
                    entry_point=entry_point,
                    source_dir=source_dir,
                )
            except SourceError as exc:
                _fail(str(exc))
        else:
            source = stage_source(Path(spec), plan.checkpoint_local_path, Path(tmp) / "source")
        try:
            done = submit(plan, source, via=via)
        except _aws_errors() as exc:
            _aws_error(exc)
        except Exception as exc:  # the SDK raises its own errors (validation, role checks)
            if os.environ.get("PREFLIGHT_DEBUG") == "1":
                raise
            _fail(f"the {via} launch failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
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


def _script_errors(script: Path) -> list[Any]:
    """preflight's errors in the user's entry script, read as `preflight check` reads it."""
    import preflight
    from preflight.readers import read_file
    from preflight.spec import SpecError

    try:
        loaded = read_file(script)
    except SpecError as err:
        for issue in err.issues:
            click.echo(f"  {issue}", err=True)
        _fail(f"{script}: the entry script cannot be read ({len(err.issues)} problem(s) above)")
    from trainjob.gate import as_trainjob_runs_it

    report = preflight.check(as_trainjob_runs_it(loaded))
    return [f for f in report.active() if f.severity.value == "error"]


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _region_of(job: str, region: str | None) -> str:
    """The region from a job ARN, --region, or the AWS configuration (us-east-1 at last)."""
    if job.startswith("arn:"):
        return job.split(":")[3]
    if region:
        return region
    try:
        import boto3

        return boto3.Session().region_name or "us-east-1"
    except ImportError:
        return "us-east-1"


def _job_name(job: str) -> str:
    return job.rsplit("/", 1)[-1] if job.startswith("arn:") else job


def _session(region: str) -> Any:
    try:
        import boto3
    except ImportError:
        _fail("boto3 is not installed: pip install 'preflight-toolkit[aws]'")
    return boto3.Session(region_name=region)


def _spec_expectations(spec: Path) -> Any:
    """Expectations (checkpoint interval, duration, steps) from a spec's preflight plan."""
    import preflight
    from trainjob.sagemaker.request import expected_checkpoint_seconds
    from trainjob.sagemaker.watch import Expectations

    loaded = _load(spec)
    cost = preflight.check(loaded).cost or {}
    hours = cost.get("hours")
    steps = cost.get("total_steps")
    return Expectations(
        checkpoint_interval_s=expected_checkpoint_seconds(loaded.spec, cost),
        train_seconds=float(hours) * 3600 if isinstance(hours, int | float) else None,
        total_steps=int(steps) if isinstance(steps, int | float) else None,
    )


@click.command("watch")
@click.argument("job")
@click.option(
    "--spec",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The job's spec (default: the plan in the job's trainjob tags).",
)
@click.option("--region", help="AWS region (default: from the job ARN or the AWS config).")
@click.option(
    "--checkpoint-uri", help="s3:// prefix to watch (default: the job's CheckpointConfig)."
)
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=60,
    show_default=True,
    help="Seconds between polls.",
)
@click.option("--once", is_flag=True, help="Poll once and exit (1 if an error alarm fires).")
@click.option("--deep", is_flag=True, help="Also hash every checkpoint file against the manifest.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def watch(
    job: str,
    spec: Path | None,
    region: str | None,
    checkpoint_uri: str | None,
    interval: float,
    once: bool,
    deep: bool,
    fmt: str,
) -> None:
    """Follow training job JOB: status, checkpoints in S3, cost, ETA and the seed's alarms.

    Until the job ends it polls every --interval seconds and prints what changed; with --once
    --format json it prints one JSON object for scripts.
    """
    import time

    from trainjob.sagemaker.render import watch_lines
    from trainjob.sagemaker.watch import TERMINAL, Watcher

    reg = _region_of(job, region)
    watcher = Watcher(
        _job_name(job),
        session=_session(reg),
        region=reg,
        checkpoint_uri=checkpoint_uri,
        expectations=_spec_expectations(spec) if spec else None,
        deep=deep,
    )
    last_lines: list[str] = []
    while True:
        try:
            report = watcher.poll()
        except _aws_errors() as exc:
            _aws_error(exc)
        if fmt == "json":
            click.echo(json.dumps(report.to_json(), default=str))
        else:
            lines = watch_lines(report)
            if lines[1:] != last_lines[1:]:
                click.echo("\n".join(lines))
            last_lines = lines
        if once or report.status in TERMINAL:
            errors = [f for f in report.findings if f.severity == "error"]
            raise SystemExit(FINDINGS if errors else OK)
        time.sleep(interval)


@click.command("alarms")
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("job")
@click.option("--region", help="AWS region (default: from the job ARN, the spec, the AWS config).")
@click.option("--sns-topic", "actions", multiple=True, help="SNS topic ARN to notify (repeatable).")
@click.option("--dry-run", is_flag=True, help="Print the PutMetricAlarm requests; create nothing.")
@click.option("--delete", is_flag=True, help="Delete the job's alarms (after it has ended).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def alarms(
    spec: Path,
    job: str,
    region: str | None,
    actions: tuple[str, ...],
    dry_run: bool,
    delete: bool,
    fmt: str,
) -> None:
    """Create (or update) the seed's CloudWatch alarms for training job JOB of SPEC.

    Loss not falling for 2 h, no checkpoint within 1.5x the planned interval, runtime at 90% of
    the limit. Alarm names are fixed per job, so running this again changes nothing new.
    """
    from trainjob.sagemaker.alarms import ALARM_METRICS, alarm_definitions, put_alarms

    loaded = _load(spec)
    compute = loaded.spec.compute
    reg = _region_of(job, region or (compute.region if compute else None))
    name = _job_name(job)
    if delete:
        from trainjob.sagemaker.alarms import ALARM_KINDS, alarm_name

        names = [alarm_name(name, kind) for kind in ALARM_KINDS]
        try:
            _session(reg).client("cloudwatch").delete_alarms(AlarmNames=names)
        except _aws_errors() as exc:
            _aws_error(exc)
        if fmt == "json":
            _echo_json({"job": name, "deleted": names})
        else:
            click.echo("\n".join(f"deleted {n}" for n in names))
        return
    expectations = _spec_expectations(spec)
    max_runtime = int((compute.max_run_hours if compute else 24) * 3600)
    session = None
    if not dry_run:
        session = _session(reg)
        try:
            described = session.client("sagemaker").describe_training_job(TrainingJobName=name)
            max_runtime = int(described["StoppingCondition"]["MaxRuntimeInSeconds"])
            defined = {
                m.get("Name")
                for m in described.get("AlgorithmSpecification", {}).get("MetricDefinitions", [])
            }
            missing = sorted(set(ALARM_METRICS) - defined)
            if missing:
                click.echo(
                    f"note: {name} does not define the metric(s) {', '.join(missing)} (it was not "
                    "launched by `trainjob launch`?): those alarms will see no data",
                    err=True,
                )
        except _aws_errors() as exc:
            _aws_error(exc)
    definitions = alarm_definitions(
        name,
        max_runtime_s=max_runtime,
        checkpoint_interval_s=expectations.checkpoint_interval_s,
        actions=list(actions),
    )
    if expectations.checkpoint_interval_s is None:
        click.echo(
            "note: no checkpoint interval in the plan (save_strategy steps, save_steps and a "
            "duration estimate are needed); the no-checkpoint alarm is left out",
            err=True,
        )
    if dry_run:
        _echo_json(definitions)
        return
    assert session is not None
    try:
        names = put_alarms(session.client("cloudwatch"), definitions)
    except _aws_errors() as exc:
        _aws_error(exc)
    if fmt == "json":
        _echo_json({"job": name, "alarms": names})
        return
    for alarm in names:
        click.echo(f"put {alarm}")


@click.command("checkpoints")
@click.argument("uri")
@click.option("--region", help="AWS region for an s3:// URI.")
@click.option("--deep", is_flag=True, help="Hash every file and compare with the manifest.")
@click.option(
    "--model-only", is_flag=True, help="Checkpoints of a save_only_model run: no optimizer."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def checkpoints(uri: str, region: str | None, deep: bool, model_only: bool, fmt: str) -> None:
    """List and verify the checkpoints under URI: an s3:// prefix or a local output dir.

    Exit 1 when a checkpoint is broken, or recorded valid in the manifest and now missing.
    """
    from trainjob.sagemaker.checkpoint_audit import audit_local, audit_s3
    from trainjob.sagemaker.render import audit_lines

    if uri.startswith("s3://"):
        session = _session(region or _region_of("", None))
        try:
            audit = audit_s3(session.client("s3"), uri, deep=deep, require_optimizer=not model_only)
        except _aws_errors() as exc:
            _aws_error(exc)
    else:
        folder = Path(uri)
        if not folder.is_dir():
            _fail(f"{uri}: not a directory (give an output dir or an s3:// prefix)")
        audit = audit_local(folder, deep=deep, require_optimizer=not model_only)
    if fmt == "json":
        _echo_json(audit.to_json())
    else:
        click.echo("\n".join(audit_lines(audit)))
    raise SystemExit(FINDINGS if audit.broken else OK)


if __name__ == "__main__":  # pragma: no cover
    launch.main(sys.argv[1:])
