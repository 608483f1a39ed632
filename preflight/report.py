"""The result of ``preflight check``: findings plus the memory and cost summaries, and the gate."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, Field

from .findings import Finding, Severity


class Report(BaseModel):
    """What every output format renders. ``to_json`` is the DESIGN.md contract."""

    spec: str
    files: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    memory: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None
    notes: list[str] = Field(default_factory=list)
    versions: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Package -> {"version", "why"}: the releases whose fields the sources were judged against."""
    show_silenced: bool = False
    """List silenced and baselined findings too (``--show-silenced``); by default they are
    counted, not listed: after a baseline, the live findings are what a reader must see."""

    def active(self) -> list[Finding]:
        """Findings that count: not silenced by an ``ignore:`` entry or a baseline."""
        return [f for f in self.findings if f.silenced_by is None]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.active() if f.severity == severity)

    @property
    def errors(self) -> int:
        return self.count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self.count(Severity.WARNING)

    @property
    def infos(self) -> int:
        return self.count(Severity.INFO)

    def summary(self) -> dict[str, int]:
        return {"errors": self.errors, "warnings": self.warnings, "infos": self.infos}

    def failing(self, fail_on: Severity) -> list[Finding]:
        """Findings at or above ``fail_on``: the ones that make the exit code 1."""
        return [f for f in self.active() if f.severity.rank >= fail_on.rank]

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)

    def listed(self) -> list[Finding]:
        """The findings every format lists: silenced ones only with ``show_silenced``."""
        return [f for f in self.sorted_findings() if self.show_silenced or f.silenced_by is None]

    @property
    def silenced(self) -> int:
        """Findings silenced by an ``ignore:`` entry or a baseline."""
        return sum(1 for f in self.findings if f.silenced_by is not None)

    def silenced_line(self) -> str | None:
        """ "N silenced findings not listed", when some are hidden."""
        if self.show_silenced or not self.silenced:
            return None
        n = self.silenced
        return (
            f"{n} silenced finding{'s' if n != 1 else ''} (ignore: entries or baseline) not "
            "listed; --show-silenced lists them"
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "spec": self.spec,
            "findings": [f.to_json() for f in self.listed()],
            "memory": self.memory,
            "cost": self.cost,
            "summary": self.summary(),
        }
        if self.silenced:
            out["summary"] = {**self.summary(), "silenced": self.silenced}
        if len(self.files) > 1:
            out["files"] = self.files
        if self.notes:
            out["notes"] = self.notes
        if self.versions:
            out["versions"] = self.versions
        return out

    def digest(self) -> str:
        """A short hash of the plan's verdict, to tag a launched job with the plan it ran."""
        body = json.dumps(self.to_json(), sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:16]
