"""The rule catalog. Rule modules are imported on first use, keeping ``import preflight`` cheap.

To add a rule: write it in the module of its family (or a new module listed in ``RULE_MODULES``),
add its cases under ``tests/preflight/rule_cases/``, and run ``make docs`` to regenerate
``docs/rules.md``.
"""

from __future__ import annotations

import importlib

from .base import DOC_SECTIONS, FAMILIES, Rule, RuleDefinitionError, registered

RULE_MODULES: tuple[str, ...] = (
    "preflight.rules.arguments",
    "preflight.rules.sync",
    "preflight.rules.saving",
    "preflight.rules.grace",
    "preflight.rules.limits",
    "preflight.rules.memory",
    "preflight.rules.frameworks",
    "preflight.rules.aws",
    "preflight.rules.trl",
    "preflight.rules.sagemaker_sdk",
    "preflight.rules.meta",
    "preflight.rules.secrets",
)


def all_rules() -> list[type[Rule]]:
    """Every registered rule class, sorted by ID."""
    for module in RULE_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return [cls for _, cls in sorted(registered().items())]


def get_rule(rule_id: str) -> type[Rule] | None:
    rules = {cls.id: cls for cls in all_rules()}
    return rules.get(rule_id.upper())


__all__ = [
    "DOC_SECTIONS",
    "FAMILIES",
    "RULE_MODULES",
    "Rule",
    "RuleDefinitionError",
    "all_rules",
    "get_rule",
]
