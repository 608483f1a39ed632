"""``memplan``: does one training step fit the GPU, with what margin, and what would fit.

    memplan estimate SPEC [--trace] [--suggest] [--gpu NAME|GiB] [--headroom F]
                          [--format rich|json]

Exit codes as everywhere: 0 it fits with the headroom asked, 1 it does not, 2 the input could
not be used (the message names the file, the line and the key).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import click

from . import exit_codes
from .cli_support import fail, run_cli
from .spec import SpecError, SpecIssue, load_spec


@click.group(
    name="memplan",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def cli() -> None:
    """GPU memory of a fine-tuning step, before any GPU is rented."""


@cli.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--trace",
    "do_trace",
    is_flag=True,
    help="Also run one real training step on fake tensors (needs torch, transformers, peft).",
)
@click.option(
    "--suggest", "do_suggest", is_flag=True, help="Search for the fastest setting that fits."
)
@click.option(
    "--headroom",
    type=float,
    default=None,
    help="Share of GPU memory that must stay free for a setting to count as fitting "
    "(default: memplan's rule, the one preflight check uses; see docs/memplan.md).",
)
@click.option(
    "--gpu",
    "gpu",
    default=None,
    metavar="NAME|GiB",
    help="The GPU to judge against: a catalog name (A10G, L4, L40S, T4, A100-40GB, A100-80GB, "
    "H100, H200, B200) or its memory in GiB as torch reports it (e.g. 23.5). Overrides "
    "compute.instance_type and compute.gpu_memory_gib.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["rich", "json"]), default="rich", show_default=True
)
@click.option(
    "--offline",
    is_flag=True,
    help="Never ask the Hugging Face hub for a model's config.json (as HF_HUB_OFFLINE=1 does).",
)
def estimate(
    spec: Path,
    do_trace: bool,
    do_suggest: bool,
    headroom: float | None,
    gpu: str | None,
    fmt: str,
    offline: bool,
) -> None:
    """Estimate the peak GPU memory of one training step of the job in SPEC."""
    import os

    import memplan
    from memplan.verdict import judge

    if offline:
        os.environ["MEMPLAN_OFFLINE"] = "1"

    from .memory import setup_from_spec

    if headroom is not None and not 0 <= headroom < 1:
        fail(f"--headroom must be in [0, 1), got {headroom:g}")
    if not spec.is_file():
        fail(f"{spec}: no such file")
    loaded = load_spec(spec)
    setup = setup_from_spec(loaded)
    if gpu is not None:
        setup = setup.with_(**_gpu_option(gpu))
    plan = memplan.estimate(setup)
    traced = None
    if do_trace:
        from memplan.trace import TraceUnsupportedError, trace

        try:
            traced = trace(setup)
        except TraceUnsupportedError as exc:
            key = "model.dtype" if setup.weight_dtype in ("int8", "nf4") else "training.optim"
            raise SpecError([SpecIssue(str(spec), loaded.line_of(key), key, str(exc))]) from None
        except ImportError as exc:
            fail(f"--trace needs torch, transformers and peft: {exc}")
    found = []
    if do_suggest:
        from memplan.suggest import suggest

        found = suggest(setup, headroom=headroom)
    judged = judge(plan, headroom=headroom)
    ok = judged.fits
    if fmt == "json":
        out: dict[str, Any] = {
            "spec": str(spec),
            "memory": plan.to_json(),
            "headroom": round(judged.headroom, 4),
            "fits_with_headroom": ok,
            "verdict": judged.to_json(),
        }
        if traced is not None:
            out["trace"] = _trace_json(traced, plan)
        if do_suggest:
            out["suggestions"] = [
                {
                    "changes": list(s.changes),
                    "peak_gib": round(s.plan.peak_gib, 3),
                    "relative_speed": round(s.relative_speed, 3),
                    "settings": {
                        "per_device_train_batch_size": s.setup.batch_size,
                        "gradient_accumulation_steps": s.setup.gradient_accumulation_steps,
                        "max_length": s.setup.seq_len,
                        "gradient_checkpointing": s.setup.gradient_checkpointing,
                        "model.dtype": s.setup.weight_dtype,
                        "lora.r": s.setup.lora.r if s.setup.lora else None,
                        "lora.target_modules": (
                            list(s.setup.lora.target_modules) if s.setup.lora else None
                        ),
                        "optimizer": s.setup.optimizer,
                    },
                }
                for s in found
            ]
        click.echo(json.dumps(out, indent=2))
    else:
        _render(setup, plan, traced, found, headroom, do_suggest)
    if ok is False:
        raise SystemExit(exit_codes.FINDINGS)


def _gpu_option(value: str) -> dict[str, Any]:
    """``--gpu``: a catalog GPU name or a capacity in GiB, as TrainingSetup fields."""
    try:
        gib = float(value)
    except ValueError:
        gib = None
    if gib is not None:
        if gib <= 0:
            fail(f"--gpu {value}: a GPU memory in GiB must be positive")
        return {"capacity_gib": gib, "gpu_name": f"{gib:g} GiB GPU"}
    import costmodel

    gpus = costmodel.load_catalog().gpus
    by_name = {name.lower(): name for name in gpus}
    name = by_name.get(value.strip().lower())
    if name is None:
        fail(f"--gpu {value}: unknown GPU (known: {', '.join(sorted(gpus))}; or give GiB)")
    return {"capacity_gib": float(gpus[name].memory_gib), "gpu_name": name}


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def models(fmt: str) -> None:
    """List the bundled checkpoints memplan answers for without a download (docs/models.md)."""
    import memplan

    names = memplan.catalog_names()
    if fmt == "json":
        click.echo(json.dumps(names, indent=2))
        return
    for name in names:
        click.echo(name)
    click.echo(
        f"{len(names)} models; any other: a local directory with config.json, the Hugging Face "
        "cache, or (online) the hub's config.json"
    )


def _trace_json(traced: Any, plan: Any) -> dict[str, Any]:
    from memplan.constants import GIB

    diff = (plan.tensor_peak_bytes - traced.peak) / traced.peak if traced.peak else 0.0
    return {
        "tensor_peak_gib": round(traced.peak / GIB, 3),
        "phase_peaks_gib": {k: round(v / GIB, 3) for k, v in traced.phase_peaks.items()},
        "analytic_tensor_peak_gib": round(plan.tensor_peak_bytes / GIB, 3),
        "analytic_vs_traced": round(diff, 4),
        "seconds": round(traced.seconds, 2),
        "probe_layers": [p.layers for p in traced.probes],
    }


def _render(
    setup: Any,
    plan: Any,
    traced: Any,
    found: list[Any],
    headroom: float | None,
    do_suggest: bool,
) -> None:
    from rich.console import Console

    from memplan.render import plan_table, suggestions_table, trace_table, verdict

    console = Console()
    arch = setup.arch
    lora = (
        f"LoRA r={setup.lora.r} on {','.join(setup.lora.target_modules)}"
        if setup.lora
        else "full fine-tuning"
    )
    title = (
        f"{arch.name}: {plan.trainable_params:,} trainable of {plan.total_params:,} "
        f"({100 * plan.trainable_params / plan.total_params:.3f}%), {lora}\n"
        f"batch {setup.batch_size} x {setup.seq_len} tokens, weights {setup.weight_dtype}, "
        f"mixed precision {setup.mixed_precision}, checkpointing "
        f"{'on' if setup.gradient_checkpointing else 'off'}, {setup.optimizer}, "
        f"{setup.attn_implementation}" + (f", {setup.gpu_name}" if setup.gpu_name else "")
    )
    title += (
        f"\nmodel read from: {arch.resolved_from or 'catalog'}, modules "
        f"{arch.inventory_path or 'hand-written layout'}"
    )
    console.print(plan_table(plan, title, headroom))
    console.print(verdict(plan, headroom))
    for note in plan.notes:
        console.print(f"[yellow]note:[/] {note}")
    if traced is not None:
        console.print(trace_table(traced, plan))
        console.print(f"traced in {traced.seconds:.1f} s")
    if do_suggest:
        if found:
            console.print(suggestions_table(found, headroom))
        else:
            console.print("[yellow]no setting in the search grid fits[/]")


def main() -> NoReturn:
    """Console-script entry point (``memplan``)."""
    run_cli(cli)
