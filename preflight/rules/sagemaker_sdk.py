"""PF511-PF512: SageMaker launch code: SDK v1 keywords (``train_instance_type`` ...), EC2 instance names.

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


class InstanceTypeWithoutMlPrefix(Rule):
    """
    What it does:
    Flags a SageMaker job whose instance type lacks the `ml.` prefix (`g6e.xlarge`, the EC2
    name) in launch code: an estimator's or ModelTrainer's `instance_type`. (A job spec with it
    is refused outright, exit 2.)

    Why is this bad?
    SageMaker names every training instance type with the prefix (`ml.g6e.xlarge`) and
    CreateTrainingJob rejects the EC2 name with a ValidationException, after the notebook has
    built the image, uploaded the code and waited for the call.

    Example:
    ```python
    HuggingFace(entry_point="train.py", instance_type="g6e.xlarge", instance_count=1)
    ```

    Use instead:
    ```python
    HuggingFace(entry_point="train.py", instance_type="ml.g6e.xlarge", instance_count=1)
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html
      (InstanceType: every value is ml.*)
    """

    id = "PF512"
    name = "instance-type-without-ml-prefix"
    severity = Severity.ERROR
    title = "The SageMaker instance type lacks the ml. prefix"
    fix = "Prefix the instance type with ml. (ml.g6e.xlarge)."
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html"
    sagemaker_only = True

    def check(self, plan: Plan) -> Iterator[Finding]:
        compute = plan.spec.compute
        if compute is None or compute.provider != "sagemaker" or not compute.instance_type:
            return
        name = compute.instance_type
        if name.startswith("ml."):
            return
        yield self.finding(
            "compute.instance_type",
            f"`{name}` is an EC2 name: SageMaker's CreateTrainingJob accepts only ml.* instance "
            "types and rejects the job",
            fix=f'Use instance_type="ml.{name}".',
        )
