"""The one error a spec can raise: every problem of the file at once, each with file, line and key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpecIssue:
    """One reason a spec cannot be used: where it is (file, line, dotted key) and what is wrong."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class SpecError(Exception):
    """Raised with all the issues of one spec, like torchtune's ConfigError; tests read ``.issues``."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line or 0, i.key))
        super().__init__("\n".join(str(i) for i in self.issues))
