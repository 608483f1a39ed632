"""``trainjob run`` and ``trainjob rehearse``: options, then hand over to ``trainjob.run``.

No heavy import happens here; exit codes follow DESIGN.md (0 done, 1 refused or failed, 2 the
input could not be used).
"""

from __future__ import annotations

from pathlib import Path

import click

from .cli import canary_options, spec_argument


@click.command("run")
@spec_argument
@click.option("--force", is_flag=True, help="Train even though preflight found errors.")
@click.option("--reason", help="Why --force is right; written to the run's trainjob-run.json.")
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Checkpoint dir (default: training.output_dir; on SageMaker the synced checkpoint dir).",
)
@click.option(
    "--model-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the final adapter goes (default OUTPUT_DIR/final-model; SM_MODEL_DIR on SageMaker).",
)
@click.option(
    "--backup-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Second copy of the final adapter (default OUTPUT_DIR/final-model-backup).",
)
@click.option(
    "--allow-mismatch",
    is_flag=True,
    help="Resume even if batch size, max steps or data differ from the checkpoint's.",
)
@canary_options
@click.option("--threads", type=click.IntRange(min=1), help="torch CPU threads.")
@click.option(
    "--sagemaker/--no-sagemaker",
    default=None,
    help="Force or forbid SageMaker paths (default: detect SM_* variables).",
)
def run(
    spec: Path,
    force: bool,
    reason: str | None,
    output_dir: Path | None,
    model_dir: Path | None,
    backup_dir: Path | None,
    allow_mismatch: bool,
    canary_steps: int,
    canary_minutes: float,
    threads: int | None,
    sagemaker: bool | None,
) -> None:
    """Train the job SPEC describes, after `preflight check` finds no errors.

    Resumes from the newest valid checkpoint in the output dir; SIGTERM (or Ctrl-C) saves a
    checkpoint and exits cleanly; the final adapter is saved to the model dir and a backup.
    """
    from .run import RunOptions, run_and_report
    from .sm_env import read_sagemaker_env

    options = RunOptions(
        force=force,
        reason=reason,
        output_dir=output_dir,
        model_dir=model_dir,
        backup_dir=backup_dir,
        allow_mismatch=allow_mismatch,
        canary_steps=canary_steps or None,
        canary_minutes=canary_minutes or None,
        threads=threads,
    )
    if sagemaker is True:
        options.sagemaker = read_sagemaker_env()
    elif sagemaker is False:
        import os

        for key in [k for k in os.environ if k.startswith("SM_")]:
            del os.environ[key]
    raise SystemExit(run_and_report(spec, options))


@click.command("rehearse")
@spec_argument
@click.option(
    "--steps", type=click.IntRange(min=6), default=8, show_default=True, help="Steps in all."
)
@click.option(
    "--layers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Layers of the shallow copy.",
)
@click.option(
    "--rows", type=click.IntRange(min=8), default=64, show_default=True, help="Data rows used."
)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep the rehearsal's output here (default: a temporary dir, removed after).",
)
@click.option("--threads", type=click.IntRange(min=1), help="torch CPU threads.")
def rehearse(
    spec: Path, steps: int, layers: int, rows: int, workdir: Path | None, threads: int | None
) -> None:
    """Rehearse SPEC's first hours in minutes on this machine.

    Runs the real pipeline (the spec's data sample, tokenizer and LoRA targets) on a shallow
    copy of the model built from its config: trains, saves, interrupts itself with a real
    SIGTERM, resumes, and verifies the checkpoint it resumed from.
    """
    from .rehearse import rehearse_and_report

    raise SystemExit(
        rehearse_and_report(
            spec, steps=steps, layers=layers, rows=rows, workdir=workdir, threads=threads
        )
    )
