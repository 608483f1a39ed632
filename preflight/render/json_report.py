"""``--format json``: one JSON object, the shape of DESIGN.md."""

from __future__ import annotations

import json

from ..report import Report


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, default=str)
