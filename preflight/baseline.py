"""Baselines: adopt the CI gate on an existing repo by silencing today's findings, not tomorrow's.

A baseline file lists findings keyed on rule + field + file (not line, which moves). Findings in
it are kept in the report as silenced ("baseline"), new ones count. Rules that cannot be
silenced are never baselined.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .report import Report
from .spec.errors import SpecError, SpecIssue

VERSION = 1


def _key(rule: str, field: str | None, file: str | None) -> tuple[str, str, str]:
    return (rule, field or "", Path(file).as_posix() if file else "")


def write_baseline(
    report: Report, path: Path, *, overwrite: bool = False, inputs: Iterable[Path] = ()
) -> int:
    """Write every active, silenceable finding of ``report`` to ``path``; return how many."""
    from .rules import get_rule

    entries = []
    for f in report.active():
        cls = get_rule(f.rule)
        if cls is not None and not cls.silenceable:
            continue
        rule, field, file = _key(f.rule, f.field, f.file)
        entries.append({"rule": rule, "field": field, "file": file, "message": f.message})
    unique = {(e["rule"], e["field"], e["file"]): e for e in entries}
    doc = {"version": VERSION, "findings": [unique[k] for k in sorted(unique)]}
    from .safe_write import write_text

    write_text(path, json.dumps(doc, indent=2) + "\n", overwrite=overwrite, inputs=inputs)
    return len(unique)


def load_baseline(path: Path) -> set[tuple[str, str, str]]:
    try:
        doc = json.loads(path.read_text())
        return {_key(e["rule"], e.get("field"), e.get("file")) for e in doc["findings"]}
    except FileNotFoundError:
        raise SpecError([SpecIssue(str(path), None, "", "baseline file not found")]) from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SpecError(
            [SpecIssue(str(path), None, "", f"not a preflight baseline: {exc}")]
        ) from None


def apply_baseline(report: Report, path: Path) -> Report:
    """The report with baselined findings marked silenced."""
    from .rules import get_rule

    known = load_baseline(path)
    out = []
    for f in report.findings:
        cls = get_rule(f.rule)
        if (
            f.silenced_by is None
            and _key(f.rule, f.field, f.file) in known
            and (cls is None or cls.silenceable)
        ):
            f = f.model_copy(update={"silenced_by": f"baseline {path.name}"})
        out.append(f)
    return report.model_copy(update={"findings": out})
