"""Output formats of a Report. Computing lives elsewhere; these only turn a Report into text."""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from ..findings import Severity
from ..report import Report


class Format(StrEnum):
    RICH = "rich"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"


def render(report: Report, fmt: Format, *, fail_on: Severity = Severity.ERROR) -> str:
    """The report as text in ``fmt`` (rich renders without colour when given no terminal)."""
    if fmt is Format.RICH:
        from .rich_report import render_rich

        return render_rich(report, fail_on=fail_on)
    if fmt is Format.JSON:
        from .json_report import render_json

        return render_json(report)
    if fmt is Format.SARIF:
        from .sarif import render_sarif

        return render_sarif(report)
    if fmt is Format.JUNIT:
        from .junit import render_junit

        return render_junit(report, fail_on=fail_on)
    if fmt is Format.MARKDOWN:
        from .markdown import render_markdown

        return render_markdown(report, fail_on=fail_on)
    assert_never(fmt)


__all__ = ["Format", "render"]
