"""PF511: SageMaker Python SDK v1 keywords in launch code (``train_instance_type`` ...).

SDK v2 renamed the estimator's ``train_*`` keywords (and ``image_name``); SDK v3's estimators and
``ModelTrainer`` do not know them at all. The readers map them onto today's names so the rest of
the plan is checked, and record each one for this rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..findings import Finding, Severity
from .base import Rule

if TYPE_CHECKING:
    from ..plan import Plan


class SageMakerV1Keyword(Rule):
    """
    What it does:
    Flags estimator keywords of the SageMaker Python SDK v1 (`train_instance_type`,
    `train_instance_count`, `train_max_run`, `train_use_spot_instances`, `train_max_wait`,
    `train_volume_size`, `image_name`, ...) and names today's keyword.

    Why is this bad?
    SDK v2 and later reject or ignore them, depending on the version: the launch cell fails, or
    worse, runs with the default instance, the default 1-day limit, or on-demand instead of spot.
    Example notebooks written for SDK v1 are still the top search results.

    Example:
    ```python
    HuggingFace(entry_point="train.py", train_instance_type="ml.g5.xlarge", train_max_run=86400)
    ```

    Use instead:
    ```python
    HuggingFace(entry_point="train.py", instance_type="ml.g5.xlarge", max_run=86400)
    ```

    References:
    - https://sagemaker.readthedocs.io/en/stable/v2.html (parameter and class renames)
    - aws/sagemaker-python-sdk release v2.0.0.rc1: "remove train_ where redundant"
    """

    id = "PF511"
    name = "sagemaker-sdk-v1-keyword"
    severity = Severity.ERROR
    title = "The launch code uses a SageMaker SDK v1 keyword"
    fix = "Use today's keyword name."
    source_url = "https://sagemaker.readthedocs.io/en/stable/v2.html"

    def check(self, plan: Plan) -> Iterator[Finding]:
        legacy = getattr(plan.loaded, "legacy_sagemaker", None) or {}
        if not legacy:
            return
        from ..readers.sagemaker_map import table

        renames: dict[str, str] = table()["v1_renames"]
        for old in sorted(legacy):
            new = renames.get(old, "?")
            yield self.finding(
                legacy[old],
                f"`{old}` is a SageMaker SDK v1 keyword, renamed `{new}` in SDK v2 and unknown "
                "to SDK v3",
                fix=f"Rename `{old}` to `{new}`.",
            )
