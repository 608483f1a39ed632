"""``preflight quota``: file the Service Quotas increases a job spec needs.

``preflight quota request SPEC`` reads the same quotas the audit reads, shows every shortfall
with the exact request, and files them through boto3 only after a confirmation prompt, or with
``--yes``; without one of the two nothing is sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import exit_codes


@click.group(name="quota")
def quota() -> None:
    """Request the AWS quota increases a job needs."""


@quota.command("request")
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="File the requests without asking.")
def request(spec_path: Path, yes: bool) -> None:
    """Show the quota increases SPEC needs and file them after confirmation.

    \b
    Example:
      preflight quota request job.yaml          # shows the requests, then asks
      preflight quota request job.yaml --yes    # files them without asking
    """
    from ..cli_support import fail
    from ..spec import load_spec

    loaded = load_spec(spec_path)
    compute = loaded.spec.compute
    if compute is None or compute.provider != "sagemaker":
        fail(f"{spec_path}: compute.provider is not sagemaker; there are no quotas to request")
    outcome = file_requests(loaded.spec.compute, session=_session(), confirm=_confirm(yes))
    raise SystemExit(outcome)


def _session() -> Any:
    """The boto3 session to use: None lets boto3's default credential chain decide."""
    return None


def _confirm(yes: bool) -> Any:
    def ask(count: int) -> bool:
        if yes:
            return True
        return click.confirm(f"File {count} quota increase request(s) now?", default=False)

    return ask


def file_requests(compute: Any, session: Any, confirm: Any) -> int:
    """Gather the quotas, print the shortfalls, ask ``confirm(n)``, file; returns an exit code.

    ``session`` is a boto3 Session (None: boto3's default credential chain).
    """
    from ..cli_support import fail
    from .facts import Unchecked
    from .quotas import gather_open_requests, gather_quotas, quota_table
    from .session import BotoMissing, Clients, describe_error, has_credentials, make_session
    from .shortfalls import shortfalls

    try:
        session = make_session(session)
    except BotoMissing as exc:
        fail(str(exc))
    if not has_credentials(session):
        fail("no AWS credentials found (environment, ~/.aws, SSO or instance role)")
    clients = Clients(session, compute.region)
    try:
        facts = gather_quotas(clients, compute.instance_type)
    except Exception as exc:
        fail(f"could not read the SageMaker quotas: {describe_error(exc)}")
    if isinstance(facts, Unchecked):
        fail(facts.sentence())
    found = shortfalls(compute, facts)
    if found:
        try:
            gather_open_requests(clients, facts, [s.quota.code for s in found if s.quota])
        except Exception as exc:
            fail(f"could not look up earlier quota requests: {describe_error(exc)}")
        found = shortfalls(compute, facts)
    if not found:
        click.echo(f"Every SageMaker quota this job needs in {compute.region} suffices.")
        return exit_codes.OK
    fileable = [s for s in found if s.command() is not None and s.pending is None]
    for s in found:
        click.echo(f"- {s.message}")
        line = s.command()
        if s.pending is not None:
            click.echo(f"    already requested: {s.fix()}")
        else:
            click.echo(f"    {line}" if line else f"    cannot be requested here: {s.fix()}")
    if not fileable:
        return exit_codes.FINDINGS
    if not confirm(len(fileable)):
        click.echo("Nothing was filed.")
        return exit_codes.FINDINGS
    sq = clients.get("service-quotas")
    failed = 0
    for s in fileable:
        assert s.quota is not None and s.desired is not None
        try:
            answer = sq.request_service_quota_increase(
                ServiceCode=quota_table()["service_code"],
                QuotaCode=s.quota.code,
                DesiredValue=s.desired,
            )["RequestedQuota"]
        except Exception as exc:
            failed += 1
            click.echo(f"! {s.quota.name}: not filed: {describe_error(exc)}", err=True)
            continue
        click.echo(
            f"filed: {s.quota.name} -> {answer.get('DesiredValue', s.desired):g} "
            f"(request {answer.get('Id', '?')}, status {answer.get('Status', '?')})"
        )
    if failed:
        return exit_codes.UNUSABLE
    click.echo("AWS reviews each request; `preflight check SPEC --aws` shows when they apply.")
    return exit_codes.OK
