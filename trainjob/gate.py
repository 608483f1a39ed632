"""The gate in front of every run: ``preflight.check`` must find no errors, or the user overrides
it with ``--force --reason "..."`` and the reason is written into the run's record.

The gate calls preflight; it never re-implements a rule.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from .errors import RunRefused, TrainjobError

log = logging.getLogger("trainjob")


@dataclass
class GateResult:
    """What the gate saw, for the run record."""

    errors: int
    warnings: int
    report_sha256: str
    forced: bool = False
    reason: str | None = None
    error_lines: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "errors": self.errors,
            "warnings": self.warnings,
            "report_sha256": self.report_sha256,
            "forced": self.forced,
            "reason": self.reason,
            "overridden_errors": self.error_lines if self.forced else [],
        }


def finding_line(finding: Any, spec_file: str) -> str:
    """``file:line: field: [PF101] message (fix: ...)`` for one finding."""
    where = finding.file or spec_file
    if finding.line:
        where = f"{where}:{finding.line}"
    key = f" {finding.field}:" if finding.field else ""
    fix = f" (fix: {finding.fix})" if finding.fix else ""
    return f"{where}:{key} [{finding.rule}] {finding.message}{fix}"


def as_trainjob_runs_it(loaded: Any) -> Any:
    """The spec as trainjob will really run it, so the gate judges that plan, not the file.

    trainjob always turns on the save on SIGTERM (``enable_jit_checkpoint``), and resuming from
    the checkpoints already in ``output_dir`` is what it is for: PF104's warning about them is
    recorded as silenced with that reason instead of repeated on every resume.
    """
    from dataclasses import replace

    from preflight.spec import IgnoreEntry, TrainingSpec

    spec = loaded.spec
    training = TrainingSpec({**spec.training.values, "enable_jit_checkpoint": True})
    ignore = [
        *spec.ignore,
        IgnoreEntry(
            rule="PF104",
            reason="trainjob run resumes from the newest valid checkpoint in output_dir "
            "and quarantines broken ones",
        ),
    ]
    return replace(loaded, spec=spec.model_copy(update={"training": training, "ignore": ignore}))


def run_gate(loaded: Any, *, force: bool, reason: str | None) -> GateResult:
    """Run ``preflight.check`` on the loaded spec; refuse on errors unless forced with a reason."""
    import preflight

    if force and not (reason and reason.strip()):
        raise TrainjobError('--force needs --reason "...": the reason is kept with the run')
    report = preflight.check(as_trainjob_runs_it(loaded))
    active = report.active()
    errors = [f for f in active if f.severity.value == "error"]
    digest = hashlib.sha256(
        json.dumps([f.to_json() for f in report.findings], sort_keys=True).encode()
    ).hexdigest()
    lines = [finding_line(f, str(loaded.path)) for f in errors]
    result = GateResult(
        errors=report.errors,
        warnings=report.warnings,
        report_sha256=digest,
        forced=bool(force and errors),
        reason=reason if force else None,
        error_lines=lines,
    )
    for f in active:
        if f.severity.value == "warning":
            log.warning("preflight: %s", finding_line(f, str(loaded.path)))
    if errors and not force:
        text = "\n".join(f"  {line}" for line in lines)
        raise RunRefused(
            f"preflight found {len(errors)} error(s); nothing was trained:\n{text}\n"
            'Fix them, or run with --force --reason "..." to train anyway (the reason is '
            "recorded in the run's trainjob-run.json)."
        )
    if errors:
        log.warning(
            "preflight found %d error(s); training anyway because of --force: %s",
            len(errors),
            reason,
        )
    return result
