"""The AWS account audit behind ``preflight check --aws``: quotas, IAM, S3, logs, image.

``gather_facts(plan, session=None)`` looks at the account once, read-only, and returns
``AwsFacts``; the PF6xx rules (``preflight/rules/aws.py``) judge them. boto3 is imported only when
the audit runs, so importing this package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .facts import AwsFacts, Unchecked

if TYPE_CHECKING:
    from ..plan import Plan


def gather_facts(plan: Plan, session: Any = None) -> AwsFacts:
    """See ``preflight.aws.audit.gather_facts``."""
    from .audit import gather_facts as _gather

    return _gather(plan, session=session)


__all__ = ["AwsFacts", "Unchecked", "gather_facts"]
