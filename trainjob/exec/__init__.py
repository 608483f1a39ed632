"""``trainjob exec [SPEC] -- COMMAND``: the user's own training command, gated by preflight and
run with trainjob's safety injected into every Trainer it creates.

1. gate: preflight reads SPEC if given, else the script and the recipe/config found in COMMAND
   (``command.command_files``), exactly as ``preflight check`` reads them; errors refuse the run
   unless ``--force --reason``;
2. run: COMMAND starts with ``trainjob/inject`` first on its PYTHONPATH, whose sitecustomize
   wraps ``transformers.Trainer.__init__`` to call ``trainjob.protection.protect``;
3. signals: SIGTERM/SIGINT go to the child's whole process group, the grace window is waited out;
4. afterwards: what each process protected (its report files) is summarised, or a note says that
   nothing was: the command created no Trainer and ran exactly as it would have without trainjob.

The child's exit code is the exit code, unchanged.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TrainjobError

log = logging.getLogger("trainjob")

NOTHING_PROTECTED = (
    "note: nothing was protected: the command created no transformers.Trainer, so it ran "
    "unchanged (no checkpoint guard, SIGTERM save or validated resume)"
)


@dataclass
class ExecOptions:
    """What ``trainjob exec`` is told besides the command."""

    spec: Path | None = None
    force: bool = False
    reason: str | None = None
    gate: bool = True
    output_dir: Path | None = None
    canary_steps: int | None = 50
    canary_minutes: float | None = 30.0
    grace_seconds: float = 120.0
    final_save: bool = True
    watchdog_poll_seconds: float = 30.0
    allow_mismatch: bool = False

    def protect_options(self) -> dict[str, Any]:
        return {
            "output_dir": str(self.output_dir) if self.output_dir else None,
            "canary_steps": self.canary_steps,
            "canary_minutes": self.canary_minutes,
            "final_save": self.final_save,
            "watchdog_poll_seconds": self.watchdog_poll_seconds,
            "allow_mismatch": self.allow_mismatch,
        }


@dataclass
class ExecResult:
    """How the command ended and what was protected in it."""

    exit_code: int
    gated: list[dict[str, Any]] = field(default_factory=list)
    protected: list[dict[str, Any]] = field(default_factory=list)
    trained: list[dict[str, Any]] = field(default_factory=list)
    signal: int | None = None
    killed: bool = False


def launches_ranks(argv: list[str]) -> bool:
    """True for torchrun / ``accelerate launch`` (also as ``python -m``), whose own SIGTERM
    handling would cut the ranks' save short."""
    from .command import command_files

    if command_files(argv).kind in ("accelerate", "torchrun"):
        return True
    return any(
        m in argv[1:3] for m in ("torch.distributed.run", "accelerate.commands.launch", "torchrun")
    )


def gate_sources(argv: list[str], options: ExecOptions) -> list[dict[str, Any]]:
    """Run the preflight gate on SPEC or on the command's files; what it found, per file."""
    from preflight.readers import NothingToCheck, read_file

    from ..gate import run_gate
    from .command import command_files

    if options.spec is not None:
        sources = [options.spec]
    else:
        found = command_files(argv)
        sources = [p for p in found.sources if p != found.launcher_config]
    if not sources:
        log.warning(
            "preflight: no training script or recipe found in the command; not checked "
            "(pass the spec: trainjob exec SPEC -- ...)"
        )
        return []
    out = []
    for path in sources:
        try:
            loaded = read_file(path)
        except NothingToCheck as exc:
            if options.spec is not None:
                raise  # the spec the user named must be one
            # A file found in the command that holds no training settings (a wrapper script, a
            # job whose settings come from its command line): run it, unchecked, and say so.
            log.warning(
                "preflight: %s; not checked (pass the spec: trainjob exec SPEC -- ...)", exc
            )
            out.append({"source": str(path), "checked": False, "why": str(exc)})
            continue
        result = run_gate(loaded, force=options.force, reason=options.reason)
        if not result.forced:
            log.info("preflight: %s checked, no errors", path)
        out.append({"source": str(path), **result.to_json()})
    return out


def exec_command(argv: list[str], options: ExecOptions) -> ExecResult:
    """Gate, then run ``argv`` protected; raises TrainjobError/SpecError for what users can fix."""
    from .launcher import child_env, run_child

    if not argv:
        raise TrainjobError("trainjob exec: no command given (trainjob exec -- python train.py)")
    gated = gate_sources(argv, options) if options.gate else []
    with tempfile.TemporaryDirectory(prefix="trainjob-exec-") as tmp:
        report_dir = Path(tmp)
        env = child_env(options.protect_options(), report_dir)
        env["TRAINJOB_EXEC_GATE"] = json.dumps(gated)
        try:
            code, forwarder = run_child(
                argv,
                env,
                grace_seconds=options.grace_seconds,
                spare_launcher=launches_ranks(argv),
            )
        except FileNotFoundError:
            raise TrainjobError(f"trainjob exec: {argv[0]}: command not found") from None
        except PermissionError:
            raise TrainjobError(f"trainjob exec: {argv[0]}: not executable") from None
        rows = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(report_dir.iterdir())]
    return ExecResult(
        exit_code=code,
        gated=gated,
        protected=[r for r in rows if r.get("outcome") is None],
        trained=[r for r in rows if r.get("outcome") is not None],
        signal=forwarder.first_signal,
        killed=forwarder.killed,
    )


def summary_lines(result: ExecResult) -> list[str]:
    """What ``trainjob exec`` prints after the command ended."""
    if not result.protected:
        return [NOTHING_PROTECTED]
    lines = []
    ranks = sorted({r.get("rank", 0) for r in result.protected})
    dirs = sorted({r["output_dir"] for r in result.protected})
    lines.append(
        f"trainjob: protected {len(result.protected)} Trainer(s) "
        f"({', '.join(sorted({str(r.get('trainer')) for r in result.protected}))}) "
        f"in rank(s) {', '.join(map(str, ranks))}; checkpoints in {', '.join(dirs)}"
    )
    for row in result.trained:
        if row.get("rank", 0) != 0:
            continue
        lines.append(
            f"trainjob: {row['outcome']}; resumed from {row.get('resumed_from') or 'nothing'}; "
            f"checkpoints written {row.get('checkpoints')}; "
            f"moved aside {row.get('quarantined') or 'none'}"
        )
    if result.killed:
        lines.append("trainjob: the command outlived the grace window and was killed")
    return lines
