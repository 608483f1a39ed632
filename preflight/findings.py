"""Findings: what a check says about one spec key, in the shape every report format shares.

A finding names the dotted spec key it is about (``field``) so that editors, SARIF and baselines
can point at it; the reader that produced the plan fills in ``file``/``line`` (and ``cell`` for a
notebook) afterwards, so rules never deal with source positions.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    """How bad a finding is; the order matters for ``--fail-on``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Larger is worse: info 0, warning 1, error 2."""
        return {"info": 0, "warning": 1, "error": 2}[self.value]


class Finding(BaseModel):
    """One problem (or one thing that could not be checked) in a training job's plan."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    severity: Severity
    field: str | None = None
    message: str
    fix: str | None = None
    file: str | None = None
    line: int | None = None
    cell: int | None = None
    silenced_by: str | None = None
    rules: list[str] | None = None
    """For a summary finding (PF901, "not checked"), the rule ids it stands for."""
    places: list[str] | None = None
    """Other sources whose check produced this same finding (two notebooks launching one
    script): reported once, listing them."""

    def sort_key(self) -> tuple[int, str, int, str]:
        """Worst first, then by file, line and rule, so every format lists findings alike."""
        return (-self.severity.rank, self.file or "", self.line or 0, self.rule)

    def to_json(self) -> dict[str, object]:
        """The DESIGN.md JSON shape: rule, severity, field, message, fix, plus position when known."""
        out: dict[str, object] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "field": self.field,
            "message": self.message,
            "fix": self.fix,
        }
        for key in ("file", "line", "cell", "silenced_by", "rules", "places"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out
