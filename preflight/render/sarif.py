"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning.

One ``rules[]`` entry per PF rule (helpUri from its source_url), ``level`` mapped from severity,
a location at the finding's file and line, and a partial fingerprint on rule + field + file so
that code scanning tracks a finding across commits even when lines move.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from ..findings import Finding, Severity
from ..report import Report
from ..spec.errors import SpecError

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rule_entry(rule_id: str) -> dict[str, Any]:
    from ..rules import get_rule

    cls = get_rule(rule_id)
    if cls is None:
        return {"id": rule_id, "shortDescription": {"text": rule_id}}
    return {
        "id": cls.id,
        "name": cls.name,
        "shortDescription": {"text": cls.title},
        "fullDescription": {"text": cls.doc_section("Why is this bad?") or cls.title},
        "helpUri": cls.source_url,
        "help": {"text": f"{cls.title}. Fix: {cls.fix}"},
        "defaultConfiguration": {"level": LEVELS[cls.severity]},
        "properties": {"tags": ["preflight"]},
    }


def _uri(path: str | None) -> str:
    if not path:
        return "unknown"
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = path
    return rel.replace(os.sep, "/")


def _file_line(f: Finding) -> int:
    """The line in the file itself: for a notebook, the raw .ipynb line of (cell, line)."""
    if f.cell is not None and f.line is not None and f.file and f.file.endswith(".ipynb"):
        from pathlib import Path

        from ..readers.notebook import notebook_file_line

        raw = notebook_file_line(Path(f.file), f.cell, f.line)
        if raw is not None:
            return raw
    return max(1, f.line or 1)


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    text = f.message if not f.fix else f"{f.message} Fix: {f.fix}"
    if f.field:
        text = f"{f.field}: {text}"
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(f.file)},
            "region": {"startLine": _file_line(f)},
        }
    }
    if f.field:
        location["logicalLocations"] = [{"fullyQualifiedName": f.field, "kind": "member"}]
    fingerprint = hashlib.sha256(f"{f.rule}|{f.field}|{_uri(f.file)}".encode()).hexdigest()
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVELS[f.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {"preflightFinding/v1": fingerprint},
    }
    if f.places:
        result["relatedLocations"] = [
            {
                "id": i,
                "physicalLocation": {"artifactLocation": {"uri": _uri(p)}},
                "message": {"text": "checked from here"},
            }
            for i, p in enumerate(f.places)
        ]
    if f.rules:
        result["properties"] = {"rules": f.rules}
    if f.silenced_by:
        result["suppressions"] = [{"kind": "inSource", "justification": f.silenced_by}]
    return result


def _driver(rules: list[dict[str, Any]]) -> dict[str, Any]:
    from .. import __version__

    return {
        "name": "preflight",
        "version": __version__,
        "informationUri": "https://github.com/preflight-toolkit/preflight",
        "rules": rules,
    }


def render_sarif_error(err: SpecError) -> str:
    """SARIF for a run that could not check its input (exit 2): no results, and each problem
    as a tool execution notification, so a CI upload step still has a valid file to upload."""
    notifications = []
    for issue in err.issues:
        location: dict[str, Any] = {"artifactLocation": {"uri": _uri(issue.file)}}
        if issue.line:
            location["region"] = {"startLine": issue.line}
        text = f"{issue.key}: {issue.message}" if issue.key else issue.message
        notifications.append(
            {
                "level": "error",
                "message": {"text": text},
                "locations": [{"physicalLocation": location}],
            }
        )
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": _driver([])},
                "invocations": [
                    {
                        "executionSuccessful": False,
                        "exitCode": 2,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": [],
            }
        ],
    }
    return json.dumps(doc, indent=2)


def render_sarif(report: Report) -> str:
    findings = report.listed()
    rule_ids = sorted({f.rule for f in findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": _driver([_rule_entry(r) for r in rule_ids])},
                "results": [_result(f, index) for f in findings],
            }
        ],
    }
    return json.dumps(doc, indent=2)
