"""A rule: one small unit with a stable ID, metadata that generates its docs, and one check.

Subclass ``Rule``, set the class attributes, write the docstring with the fixed sections
(What it does / Why is this bad? / Example / Use instead / References), and yield findings from
``check``. Defining the class registers it; the registry refuses a rule whose metadata is
incomplete, so a rule cannot ship without its documentation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from ..findings import Finding, Severity

if TYPE_CHECKING:
    from ..plan import Plan

RULE_ID = re.compile(r"^PF\d{3}$")
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "References")

FAMILIES: dict[str, str] = {
    "PF1": "Checkpoint sync: where checkpoints are written and whether they survive the job",
    "PF2": "Saving, rotation, best-model and resume semantics of Trainer",
    "PF3": "Run limits, spot, duration and cost",
    "PF4": "GPU memory",
    "PF5": "Training arguments: removed, renamed, unknown or contradictory",
    "PF6": "AWS account: quotas, permissions, buckets",
    "PF7": "Frameworks and distributed training",
    "PF9": "The check itself",
}

_REGISTRY: dict[str, type[Rule]] = {}


class RuleDefinitionError(Exception):
    """A rule class broke the catalog's contract (bad ID, missing docs, duplicate)."""


class Rule:
    """Base class of every PF rule. See the module docstring."""

    id: ClassVar[str]
    name: ClassVar[str]
    """kebab-case name, e.g. ``checkpoints-not-synced``."""
    severity: ClassVar[Severity]
    title: ClassVar[str]
    """One line: what is wrong."""
    fix: ClassVar[str]
    """One line: what to change (a finding may give a more specific fix)."""
    source_url: ClassVar[str]
    """The documentation or code the rule rests on."""
    silenceable: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ()
    """Plan facts the check needs (Plan.has); when one is unknown the rule reports that once."""
    consequence: ClassVar[str | None] = None
    """What a finding can lose, which scales its severity with the run's size: "run" (the
    checkpoints or all progress), "progress" (part of it) or None (fails whatever the size).
    See preflight/severity.py for the thresholds."""
    sagemaker_only: ClassVar[bool] = False
    """The rule is about SageMaker jobs only: silent, not "not checked", on a job known to run
    elsewhere (``compute.provider: local``)."""
    covered_by: ClassVar[tuple[str, ...]] = ()
    """Rules whose finding on the same key states this one's root cause: when one of them fires
    on that key, this rule's finding is dropped (PF102 inside PF101)."""
    since: ClassVar[str] = "0.1.0"
    status: ClassVar[str] = "stable"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False):
            return
        _validate(cls)
        if cls.id in _REGISTRY and _REGISTRY[cls.id].__qualname__ != cls.__qualname__:
            raise RuleDefinitionError(f"{cls.id} is defined twice")
        _REGISTRY[cls.id] = cls

    def applies(self, plan: Plan) -> bool:
        """Whether the rule concerns this plan at all (a budget rule without a budget does not).

        Checked before ``requires``: a rule that does not apply is silent, instead of reporting
        that it could not be checked.
        """
        return True

    def check(self, plan: Plan) -> Iterator[Finding]:
        raise NotImplementedError

    def finding(
        self,
        field: str | None,
        message: str,
        fix: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule about ``field`` (a dotted spec key)."""
        return Finding(
            rule=self.id,
            severity=severity or self.severity,
            field=field,
            message=message,
            fix=fix or self.fix,
        )

    @classmethod
    def doc(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def doc_section(cls, title: str) -> str:
        """The text under one ``## title``-style section of the docstring."""
        lines = cls.doc().splitlines()
        out: list[str] = []
        inside = False
        for line in lines:
            if line.strip().rstrip(":") in DOC_SECTIONS:
                inside = line.strip().rstrip(":") == title
                continue
            if inside:
                out.append(line)
        return "\n".join(out).strip()


def _validate(cls: type[Rule]) -> None:
    missing = [
        a for a in ("id", "name", "severity", "title", "fix", "source_url") if not hasattr(cls, a)
    ]
    if missing:
        raise RuleDefinitionError(f"{cls.__name__} lacks {', '.join(missing)}")
    if not RULE_ID.match(cls.id):
        raise RuleDefinitionError(f"{cls.__name__}: id {cls.id!r} is not PF + three digits")
    doc = cls.doc()
    absent = [s for s in DOC_SECTIONS if not re.search(rf"^{re.escape(s)}:?\s*$", doc, re.M)]
    if absent:
        raise RuleDefinitionError(f"{cls.id} docstring lacks sections: {', '.join(absent)}")
    if not isinstance(cls.severity, Severity):
        raise RuleDefinitionError(f"{cls.id}: severity must be a Severity")
    if cls.consequence not in (None, "run", "progress"):
        raise RuleDefinitionError(f"{cls.id}: consequence must be None, 'run' or 'progress'")


def registered() -> dict[str, type[Rule]]:
    return dict(_REGISTRY)
