"""``costmodel``: how long a job takes and what it costs, spot vs on-demand, per instance type.

    costmodel compare SPEC [--instances a,b,c] [--mtbf-hours H] [--checkpoint-minutes C]
                           [--capacity-wait-minutes W] [--restore-minutes B]
                           [--price TYPE=USD ...] [--spot-price TYPE=USD ...]
                           [--spot-discount PCT] [--live-prices] [--plot out.png]
                           [--format rich|plain|json|markdown]

Exit codes as everywhere: 0 done, 2 the input could not be used (the message names the file,
the line and the key).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from .cli_support import check_output, fail, run_cli, write_output
from .spec import LoadedSpec, SpecError, SpecIssue, load_spec

if TYPE_CHECKING:
    from costmodel import Catalog


def _positive(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        fail(f"{name} must be positive, got {value:g}")


def _instances(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    import costmodel

    cat = costmodel.load_catalog()
    names: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        try:
            names.append(cat.instance(name).name)
        except costmodel.UnknownInstanceError as exc:
            fail(f"--instances: {exc}")
    if not names:
        fail("--instances: no instance type given")
    return names


def _pairs(flag: str, raw: tuple[str, ...]) -> dict[str, float]:
    """``TYPE=USD`` pairs of a repeatable flag, instance names checked against the catalog."""
    import costmodel

    cat = costmodel.load_catalog()
    out: dict[str, float] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep:
            fail(f"{flag}: expected TYPE=USD, got {item!r}")
        try:
            usd = float(value)
        except ValueError:
            fail(f"{flag}: {value!r} is not a number (in {item!r})")
        if not usd > 0:
            fail(f"{flag}: the price must be positive (in {item!r})")
        try:
            out[cat.instance(name.strip()).name] = usd
        except costmodel.UnknownInstanceError as exc:
            fail(f"{flag}: {exc}")
    return out


def _live_catalog(loaded: LoadedSpec, names: list[str] | None) -> Catalog:
    import costmodel
    from costmodel.pricing import LivePriceError, fetch_on_demand_prices

    cat = costmodel.load_catalog()
    compute = loaded.spec.compute
    region = compute.region if compute is not None else "us-east-1"
    wanted = list(names or costmodel.default_instances(cat, region))
    if compute is not None and compute.instance_type:
        wanted.append(cat.instance(compute.instance_type).name)
    try:
        prices = fetch_on_demand_prices(sorted(set(wanted)), region)
    except LivePriceError as exc:
        fail(str(exc))
    except Exception as exc:  # botocore's NoCredentialsError and friends
        fail(f"--live-prices: {type(exc).__name__}: {exc}")
    return cat.with_on_demand_prices(
        region, prices, f"AWS Price List API (AmazonSageMaker, {region}, fetched now)"
    )


@click.group(
    name="costmodel",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def cli() -> None:
    """Duration, cost, spot vs on-demand and checkpoint interval of a fine-tuning job."""


@cli.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--instances", help="Comma-separated instance types (default: one per family).")
@click.option("--mtbf-hours", type=float, help="Mean hours between spot interruptions.")
@click.option("--checkpoint-minutes", type=float, help="Minutes one checkpoint save takes.")
@click.option(
    "--capacity-wait-minutes",
    "--restart-minutes",
    "restart_minutes",
    type=float,
    help="Unbilled minutes waiting for spot capacity after an interruption (default 30).",
)
@click.option(
    "--restore-minutes",
    type=float,
    help="Billed minutes to restart: container start, model load, checkpoint download "
    "(default: sized from the model and checkpoint).",
)
@click.option("--price", "price", multiple=True, help="Your on-demand $/h: TYPE=USD (repeatable).")
@click.option("--spot-price", multiple=True, help="Your spot $/h: TYPE=USD (repeatable).")
@click.option("--spot-discount", type=float, help="Spot saving in percent for every type.")
@click.option("--mfu", type=float, help="Model FLOPs utilisation to assume (0-1).")
@click.option("--runs", type=int, default=100_000, show_default=True, help="Monte Carlo runs.")
@click.option("--live-prices", is_flag=True, help="On-demand prices from the AWS Price List API.")
@click.option("--plot", type=click.Path(path_type=Path), help="Write cost curves to this PNG.")
@click.option("--overwrite", is_flag=True, help="Allow --plot to replace an existing file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["rich", "plain", "json", "markdown"]),
    default="rich",
    show_default=True,
)
def compare(
    spec: Path,
    instances: str | None,
    mtbf_hours: float | None,
    checkpoint_minutes: float | None,
    restart_minutes: float | None,
    restore_minutes: float | None,
    price: tuple[str, ...],
    spot_price: tuple[str, ...],
    spot_discount: float | None,
    mfu: float | None,
    runs: int,
    live_prices: bool,
    plot: Path | None,
    overwrite: bool,
    fmt: str,
) -> None:
    """Compare instance types x markets for the job in SPEC."""
    import costmodel

    from .cost import MissingFacts, compare_spec

    _positive("--mtbf-hours", mtbf_hours)
    _positive("--checkpoint-minutes", checkpoint_minutes)
    _positive("--runs", runs)
    if restart_minutes is not None and restart_minutes < 0:
        fail(f"--capacity-wait-minutes cannot be negative, got {restart_minutes:g}")
    if restore_minutes is not None and restore_minutes < 0:
        fail(f"--restore-minutes cannot be negative, got {restore_minutes:g}")
    if spot_discount is not None and not 0 < spot_discount < 100:
        fail(f"--spot-discount is a percent in (0, 100), got {spot_discount:g}")
    prices = _pairs("--price", price)
    spot_prices = _pairs("--spot-price", spot_price)
    if mfu is not None and not 0 < mfu <= 1:
        fail(f"--mfu must be in (0, 1], got {mfu:g}")
    if plot is not None:
        check_output(plot, overwrite=overwrite, inputs=[spec])
    if not spec.is_file():
        fail(f"{spec}: no such file")
    loaded = load_spec(spec)
    names = _instances(instances)
    catalog = _live_catalog(loaded, names) if live_prices else costmodel.load_catalog()
    result = compare_spec(
        loaded,
        names,
        mtbf_hours=mtbf_hours,
        checkpoint_minutes=checkpoint_minutes,
        restart_minutes=restart_minutes,
        billed_restart_minutes=restore_minutes,
        mfu=mfu,
        runs=runs,
        catalog=catalog,
        prices=prices,
        spot_prices=spot_prices,
        spot_discount_pct=spot_discount,
    )
    if isinstance(result, MissingFacts):
        raise SpecError(result.issues)
    if not result.options:
        why = "; ".join(f"{n}: {r}" for n, r in result.skipped) or "nothing to compare"
        raise SpecError([SpecIssue(str(spec), loaded.line_of("compute"), "compute", why)])
    curve_interval = curve_mtbf = None
    if (fmt in ("rich", "plain") or plot is not None) and result.primary in result.params:
        from costmodel.curves import cost_vs_interval, cost_vs_mtbf

        prim = result.primary
        od = result.option(prim, "on-demand")
        sp = result.option(prim, "spot")
        assert od is not None and sp is not None
        params = result.params[prim]
        work = result.durations[prim].hours
        curve_interval = cost_vs_interval(work, params, sp.usd_per_hour, od.usd_per_hour)
        if plot is not None:
            from costmodel.plot import plot_curves

            curve_mtbf = cost_vs_mtbf(work, params, sp.usd_per_hour, od.usd_per_hour)
            title = f"{loaded.spec.name or spec.name}: {prim}, {work:,.0f} h of compute"
            with tempfile.TemporaryDirectory(prefix="costmodel-plot-") as tmp:
                drawn = plot_curves(curve_interval, curve_mtbf, Path(tmp) / "plot.png", title=title)
                write_output(plot, drawn.read_bytes(), overwrite=overwrite, inputs=[spec])
    if fmt == "json":
        out = {"spec": str(spec), **result.to_json()}
        if plot is not None:
            out["plot"] = str(plot)
        click.echo(json.dumps(out, indent=2))
        return
    if fmt == "markdown":
        from costmodel.render import render_markdown

        click.echo(render_markdown(result))
        if plot is not None:
            click.echo(f"plot written to {plot}")
        return
    from rich.console import Console

    from costmodel.render import render_comparison

    console = Console(no_color=True, highlight=False) if fmt == "plain" else Console()
    console.print(render_comparison(result, curve_interval))
    if plot is not None:
        click.echo(f"plot written to {plot}")


def main() -> NoReturn:
    """Console-script entry point (``costmodel``)."""
    run_cli(cli)
