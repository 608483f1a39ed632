"""``--format junit``: JUnit XML, so any CI shows preflight findings as failed test cases.

One test suite per file that was checked or that a finding is located in (an entry script a
notebook launches, a YAML a script loads: its findings are never dropped); each finding at or
above ``--fail-on`` is a failed case, the rest are passing cases carrying the message as
system-out, and a file without failures gets one passing case so the suite is never empty.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from ..findings import Severity
from ..report import Report


def render_junit(report: Report, *, fail_on: Severity = Severity.ERROR) -> str:
    root = ET.Element("testsuites", name="preflight")
    listed = report.listed()
    files = list(report.files or [report.spec])
    for f in listed:
        if (f.file or report.spec) not in files:
            files.append(f.file or report.spec)
    total_failures = 0
    for file in files:
        findings = [f for f in listed if (f.file or report.spec) == file]
        suite = ET.SubElement(root, "testsuite", name=f"preflight {file}")
        failures = 0
        for f in findings:
            where = f"{f.file}:{f.line}" if f.line else (f.file or file)
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"preflight.{f.rule}",
                name=f"{f.rule} {f.field or ''}".strip(),
            )
            text = f"{where}: {f.severity.value}: {f.message}\nFix: {f.fix or '-'}"
            if f.places:
                text += "\nChecked from: " + ", ".join(f.places)
            if f.silenced_by is None and f.severity.rank >= fail_on.rank:
                failures += 1
                fail = ET.SubElement(case, "failure", message=f.message, type=f.severity.value)
                fail.text = text
            else:
                out = ET.SubElement(case, "system-out")
                out.text = text + (f"\nSilenced: {f.silenced_by}" if f.silenced_by else "")
        if failures == 0:
            ET.SubElement(
                suite,
                "testcase",
                classname="preflight",
                name="no findings at or above " + fail_on.value,
            )
        suite.set("tests", str(len(suite)))
        suite.set("failures", str(failures))
        total_failures += failures
    root.set("failures", str(total_failures))
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
