"""The engine: rules that do not apply stay silent, unknown facts are said once, crashes are findings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from preflight.engine import run_rules
from preflight.findings import Finding, Severity
from preflight.pipeline import build_plan, check
from preflight.rules.base import _REGISTRY, Rule
from preflight.spec import load_spec


def _rules(report_findings: list[Finding]) -> set[str]:
    return {f.rule for f in report_findings}


def test_budget_rules_apply_only_with_a_budget(tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text("model: {name: mistral-7b}\ncompute: {instance_type: ml.g5.xlarge}\n")
    assert not {"PF305", "PF306", "PF308", "PF209"} & _rules(check(spec).findings)
    spec.write_text(
        "model: {name: mistral-7b}\ncompute: {instance_type: ml.g5.xlarge, spot: true}\n"
        "budget: {max_cost_usd: 100}\ntraining: {eval_strategy: steps, eval_steps: 10}\n"
    )
    [summary] = [f for f in check(spec).findings if f.message.startswith("not checked:")]
    unchecked = set(summary.rules or [])
    assert {"PF305", "PF308", "PF209"} <= unchecked  # they apply, but the data size is unknown
    assert "PF306" not in unchecked  # no deadline: nothing to check


def test_a_rule_crashing_in_applies_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    # Defined here, not at module level: defining a rule registers it, and the catalog tests
    # running in the same process must not see it.
    try:

        class _Crashes(Rule):
            """
            What it does:
            Nothing; it exists to crash.

            Why is this bad?
            It is not.

            Example:
            ```yaml
            name: x
            ```

            Use instead:
            ```yaml
            name: y
            ```

            References:
            - this test
            """

            id = "PF999"
            name = "crashes-in-applies"
            severity = Severity.ERROR
            title = "Crashes"
            fix = "None."
            source_url = "https://example.invalid/"

            def applies(self, plan: object) -> bool:
                raise RuntimeError("boom")

            def check(self, plan: object) -> Iterator[Finding]:
                yield from ()

        spec = tmp_path / "job.yaml"
        spec.write_text("name: x\n")
        [finding] = run_rules(build_plan(load_spec(spec)), [_Crashes])
        assert finding.rule == "PF900" and "PF999" in finding.message and "boom" in finding.message
    finally:
        _REGISTRY.pop("PF999", None)
