"""Exit codes, the same for every command (DESIGN.md)."""

OK = 0
"""Clean: nothing at or above --fail-on."""
FINDINGS = 1
"""Findings at or above --fail-on (or, for memplan, the step does not fit)."""
UNUSABLE = 2
"""The input or the tool could not be used: bad YAML, missing file, unknown model or instance."""
