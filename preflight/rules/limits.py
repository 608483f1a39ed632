"""PF3xx: run limits, spot, duration and cost, from the cost model's estimate (``plan.cost``).

``plan.cost`` is ``preflight.cost.cost_summary``'s dict; keys are read defensively so a rule
degrades to silence, never to a crash, when a key is missing. Runtime limits:
shared/research/catalog-facts.md section 4.1 (CreateTrainingJob StoppingCondition docs).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..findings import Finding, Severity
from .base import Rule
from .sync import unresolved

if TYPE_CHECKING:
    from ..plan import Plan

STOPPING_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html"
)
#: MaxRuntimeInSeconds when omitted (1 day) and its API maximum (28 days).
DEFAULT_MAX_RUN_HOURS = 24.0
API_MAX_RUN_HOURS = 28 * 24.0
#: Service Quotas default of "Longest run time for a training job": 432,000 s = 5 days.
DEFAULT_QUOTA_HOURS = 120.0


def _num(cost: dict[str, Any] | None, key: str) -> float | None:
    if not cost:
        return None
    value = cost.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def expected_hours(plan: Plan) -> float | None:
    """Hours the job is expected to run: P90 with interruptions on spot, else the estimate."""
    compute = plan.spec.compute
    if compute is not None and compute.spot:
        return _num(plan.cost, "spot_p90_hours") or _num(plan.cost, "hours")
    return _num(plan.cost, "hours")


def expected_cost(plan: Plan) -> float | None:
    """P90 cost on spot, on-demand cost otherwise (what the budget must cover)."""
    compute = plan.spec.compute
    if compute is not None and compute.spot:
        return _num(plan.cost, "spot_p90_usd") or _num(plan.cost, "spot_expected_usd")
    return _num(plan.cost, "on_demand_usd")


def max_run_stated(plan: Plan) -> bool:
    """Whether the source set compute.max_run_hours (else SageMaker's 1-day default applies)."""
    if plan.loaded.stated is not None:
        return plan.stated("compute.max_run_hours")
    return "compute.max_run_hours" in plan.loaded.lines


def save_interval_hours(plan: Plan) -> float | None:
    minutes = _num(plan.cost, "save_interval_minutes")
    return None if minutes is None else minutes / 60.0


class SpotWaitTime(Rule):
    """
    What it does:
    On a spot job, checks that `compute.max_wait_hours` is set and at least
    `compute.max_run_hours`.

    Why is this bad?
    SageMaker rejects MaxWaitTimeInSeconds below MaxRuntimeInSeconds, and the wait covers both
    the time waiting for capacity and the time running: a wait equal to the runtime leaves no
    room for a single interruption. (Specs are refused at load for a wait below the runtime;
    scripts with an estimator reach this rule.)

    Example:
    ```yaml
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      spot: true
      max_run_hours: 48
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    Use instead:
    ```yaml
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      spot: true
      max_run_hours: 48
      max_wait_hours: 72
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html
    - https://docs.aws.amazon.com/sagemaker/latest/dg/model-managed-spot-training.html
    """

    id = "PF301"
    name = "spot-wait-time"
    severity = Severity.ERROR
    title = "Spot max_wait_hours is missing or shorter than max_run_hours"
    fix = "Set compute.max_wait_hours above max_run_hours (e.g. 1.5x) to allow for interruptions."
    source_url = STOPPING_DOC
    sagemaker_only = True
    requires = ("compute",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        c = plan.spec.compute
        if c is None or c.provider != "sagemaker" or not c.spot:
            return
        if c.max_wait_hours is None and not unresolved(plan, "compute.max_wait_hours"):
            yield self.finding(
                "compute.max_wait_hours",
                "spot job without max_wait_hours: SageMaker needs MaxWaitTimeInSeconds >= "
                f"MaxRuntimeInSeconds ({c.max_run_hours:g} h here), with room for interruptions",
                severity=Severity.WARNING,
            )
        elif c.max_wait_hours is not None and c.max_wait_hours < c.max_run_hours:
            yield self.finding(
                "compute.max_wait_hours",
                f"max_wait_hours {c.max_wait_hours:g} is less than max_run_hours "
                f"{c.max_run_hours:g}: SageMaker rejects the job",
            )


class DurationBeyondMaxRun(Rule):
    """
    What it does:
    Compares the cost model's expected duration (P90 with interruptions for spot) with
    `compute.max_run_hours`, or with SageMaker's 1-day default when it is not set.

    Why is this bad?
    At MaxRuntime SageMaker sends SIGTERM and kills the job 120 s later: the run stops short of
    its last step whatever the checkpoints. The seed job needed more than its 7 days.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 2000000
      avg_tokens: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 24
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 20000
      avg_tokens: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 24
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html
    - costmodel (this project): duration from FLOPs and calibrated throughput
    """

    id = "PF302"
    name = "duration-beyond-max-run"
    severity = Severity.ERROR
    title = "The job is expected to run longer than its time limit"
    fix = "Raise compute.max_run_hours, use a faster instance, or train on less data (max_steps)."
    source_url = STOPPING_DOC
    sagemaker_only = True
    requires = ("compute", "cost")

    def check(self, plan: Plan) -> Iterator[Finding]:
        c = plan.spec.compute
        hours = expected_hours(plan)
        if c is None or c.provider != "sagemaker" or hours is None or hours <= c.max_run_hours:
            return
        limit = (
            f"max_run_hours {c.max_run_hours:g}"
            if max_run_stated(plan)
            else f"SageMaker's default limit of {DEFAULT_MAX_RUN_HOURS:g} h (max_run_hours unset)"
        )
        kind = "P90 duration with spot interruptions" if c.spot else "expected duration"
        yield self.finding(
            "compute.max_run_hours",
            f"{kind} {hours:,.1f} h exceeds {limit}: the job is stopped before it finishes",
        )


class DurationBeyondApiCap(Rule):
    """
    What it does:
    Flags a job whose expected duration exceeds 28 days, the most MaxRuntime SageMaker accepts
    for one training job.

    Why is this bad?
    No setting lets one job finish: it must be split into several jobs that resume from the same
    `checkpoint_s3_uri`, made faster, or trained on less data. Better known before the first
    job than after the fourth week.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 200000000
      avg_tokens: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 200000
      avg_tokens: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html
    """

    id = "PF303"
    name = "duration-beyond-api-cap"
    severity = Severity.ERROR
    title = "The job cannot finish within SageMaker's 28-day maximum runtime"
    fix = "Use more or faster GPUs, fewer steps, or plan several jobs resuming from S3."
    source_url = STOPPING_DOC
    sagemaker_only = True
    requires = ("compute", "cost")

    def check(self, plan: Plan) -> Iterator[Finding]:
        hours = expected_hours(plan)
        c = plan.spec.compute
        if c is None or c.provider != "sagemaker" or hours is None or hours <= API_MAX_RUN_HOURS:
            return
        yield self.finding(
            "compute.instance_type",
            f"expected duration {hours:,.0f} h ({hours / 24:,.1f} days) exceeds the 28-day "
            "MaxRuntime cap of one SageMaker training job",
        )


class RuntimeQuota(Rule):
    """
    What it does:
    Notes a `compute.max_run_hours` above 5 days, the default account quota "Longest run time
    for a training job" (432,000 s).

    Why is this bad?
    CreateTrainingJob fails with a ResourceLimitExceeded error when the quota is lower than the
    requested MaxRuntime; raising it takes a Service Quotas request, which can take days. Run
    `preflight check SPEC --aws` to read the account's real value.

    Example:
    ```yaml
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 168
    ```

    Use instead:
    ```yaml
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 120
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/dg/regions-quotas.html
    - seed story (shared/seed): quota raised from 5 to 7 days
    """

    id = "PF304"
    name = "runtime-quota"
    severity = Severity.INFO
    title = "max_run_hours is above the default 5-day account quota"
    fix = (
        "Check the account's quota with `preflight check SPEC --aws`, and file the increase with "
        "`preflight quota request SPEC` before launch."
    )
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/regions-quotas.html"
    sagemaker_only = True
    requires = ("compute",)

    def check(self, plan: Plan) -> Iterator[Finding]:
        c = plan.spec.compute
        if (
            c is None
            or c.provider != "sagemaker"
            or c.max_run_hours <= DEFAULT_QUOTA_HOURS
            or c.max_run_hours > API_MAX_RUN_HOURS
        ):
            return
        yield self.finding(
            "compute.max_run_hours",
            f"max_run_hours {c.max_run_hours:g} is above the default quota of "
            f"{DEFAULT_QUOTA_HOURS:g} h (5 days) for one training job; the launch fails unless "
            "the account's quota was raised",
        )


class CostOverBudget(Rule):
    """
    What it does:
    Compares the cost model's estimate (P90 on spot, on-demand otherwise) with
    `budget.max_cost_usd`.

    Why is this bad?
    A budget is a decision made before launch; the estimate shows it is already broken, while
    the instance type, data size or market can still change.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 2000000
      avg_tokens: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 600
    budget:
      max_cost_usd: 50
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 2000000
      avg_tokens: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 600
    budget:
      max_cost_usd: 100000
    ```

    References:
    - costmodel (this project): prices from the AWS Price List, Monte Carlo spot model
    """

    id = "PF305"
    name = "cost-over-budget"
    severity = Severity.ERROR
    title = "The job is expected to cost more than budget.max_cost_usd"
    fix = "Raise the budget, train on less data, or compare instances with `costmodel compare`."
    source_url = "https://aws.amazon.com/sagemaker/pricing/"
    requires = ("cost",)

    def applies(self, plan: Plan) -> bool:
        budget = plan.spec.budget
        return budget is not None and budget.max_cost_usd is not None

    def check(self, plan: Plan) -> Iterator[Finding]:
        budget = plan.spec.budget
        cost = expected_cost(plan)
        if budget is None or budget.max_cost_usd is None or cost is None:
            return
        if cost <= budget.max_cost_usd:
            return
        basis = "P90 spot cost" if plan.spec.compute and plan.spec.compute.spot else "cost"
        cheaper = ""
        if plan.cost and plan.cost.get("recommendation") == "spot" and basis == "cost":
            spot = _num(plan.cost, "spot_expected_usd")
            cheaper = f"; spot would cost ~${spot:,.0f}" if spot is not None else ""
        yield self.finding(
            "budget.max_cost_usd",
            f"expected {basis} ${cost:,.0f} exceeds budget.max_cost_usd "
            f"${budget.max_cost_usd:,.0f}{cheaper}",
        )


class DurationBeyondDeadline(Rule):
    """
    What it does:
    Compares the expected duration with `budget.deadline_hours`; on spot, flags a 10% or higher
    chance (Monte Carlo over interruptions) of finishing after it.

    Why is this bad?
    A run that ends after the date it was needed for was wasted money too; spot interruptions
    and restarts stretch the wall-clock time well past the compute time.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 2000000
      avg_tokens: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 600
    budget:
      deadline_hours: 10
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 2000000
      avg_tokens: 256
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 600
    budget:
      deadline_hours: 5000
    ```

    References:
    - costmodel (this project): spot expectation and Monte Carlo simulation
    """

    id = "PF306"
    name = "duration-beyond-deadline"
    severity = Severity.ERROR
    title = "The job is expected to finish after budget.deadline_hours"
    fix = "Use a faster instance or more GPUs, run on demand, or train on less data."
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-managed-spot-training.html"
    requires = ("cost",)

    def applies(self, plan: Plan) -> bool:
        budget = plan.spec.budget
        return budget is not None and budget.deadline_hours is not None

    def check(self, plan: Plan) -> Iterator[Finding]:
        budget = plan.spec.budget
        if budget is None or budget.deadline_hours is None:
            return
        c = plan.spec.compute
        mean = _num(plan.cost, "hours")
        if mean is not None and mean > budget.deadline_hours:
            yield self.finding(
                "budget.deadline_hours",
                f"expected duration {mean:,.1f} h exceeds budget.deadline_hours "
                f"{budget.deadline_hours:g}",
            )
            return
        risk = _num(plan.cost, "deadline_risk")
        if c is not None and c.spot and risk is not None and risk >= 0.1:
            yield self.finding(
                "budget.deadline_hours",
                f"{risk:.0%} chance that spot interruptions push the end past "
                f"budget.deadline_hours {budget.deadline_hours:g}",
                severity=Severity.WARNING,
            )


class SaveIntervalBeyondTimeLimit(Rule):
    """
    What it does:
    Converts the steps between checkpoints into hours (cost model's seconds per step) and
    compares them with `compute.max_run_hours`.

    Why is this bad?
    If the time limit comes before the first checkpoint, a stopped job leaves nothing, and a
    new job resuming from S3 starts from step 0 again, every time.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 2000000
      avg_tokens: 256
    training:
      save_steps: 100000
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 24
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 2000000
      avg_tokens: 256
    training:
      save_steps: 500
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      max_run_hours: 24
    ```

    References:
    - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html
    """

    id = "PF307"
    name = "save-interval-beyond-time-limit"
    severity = Severity.ERROR
    title = "The first checkpoint comes after the job's time limit"
    fix = "Lower training.save_steps (preflight prints an optimal value) or raise max_run_hours."
    source_url = STOPPING_DOC
    sagemaker_only = True
    requires = ("compute", "cost")

    def check(self, plan: Plan) -> Iterator[Finding]:
        c = plan.spec.compute
        interval = save_interval_hours(plan)
        if c is None or c.provider != "sagemaker" or interval is None:
            return
        if interval <= c.max_run_hours:
            return
        best = plan.cost.get("optimal_save_steps") if plan.cost else None
        fix = f"Set training.save_steps: {best}." if best else self.fix
        yield self.finding(
            "training.save_steps",
            f"a checkpoint every {interval:,.1f} h, but the job is stopped after "
            f"{c.max_run_hours:g} h: it ends before its first save",
            fix=fix,
        )


def spot_mtbf_hours(plan: Plan) -> float | None:
    """costmodel's mean time between interruptions for the instance's family, per job."""
    c = plan.spec.compute
    if c is None or not c.instance_type:
        return None
    try:
        import costmodel

        cat = costmodel.load_catalog()
        mtbf = float(cat.mtbf_hours(cat.instance(c.instance_type)))
    except (ImportError, AttributeError, ValueError):
        return None
    return mtbf / max(c.instance_count, 1)


class SaveIntervalBeyondSpotMtbf(Rule):
    """
    What it does:
    On spot, compares the hours between checkpoints with the expected time to the first
    interruption (costmodel's mean time between interruptions for the instance family,
    divided by the instance count).

    Why is this bad?
    Each interruption loses the work since the last checkpoint. An interval longer than the
    time between interruptions means most attempts end before saving anything, and the job
    can loop until max_wait_hours. The cost model's optimal `save_steps` balances save time
    against lost work.

    Example:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 2000000
      avg_tokens: 256
    training:
      save_steps: 100000
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      spot: true
      max_run_hours: 400
      max_wait_hours: 600
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    Use instead:
    ```yaml
    model:
      name: mistralai/Mistral-7B-v0.1
    data:
      num_examples: 2000000
      avg_tokens: 256
    training:
      save_steps: 500
    compute:
      provider: sagemaker
      instance_type: ml.g5.xlarge
      spot: true
      max_run_hours: 400
      max_wait_hours: 600
      checkpoint_s3_uri: s3://my-bucket/checkpoints/my-job
    ```

    References:
    - costmodel (this project): Poisson interruption model, optimal checkpoint interval
    - seed story (shared/seed): ml.g5.xlarge spot run interrupted at 41 h
    """

    id = "PF308"
    name = "save-interval-beyond-spot-mtbf"
    severity = Severity.WARNING
    title = "Checkpoints are further apart than the expected time between spot interruptions"
    fix = "Lower training.save_steps to the cost model's optimal value."
    source_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-managed-spot-training.html"
    sagemaker_only = True
    requires = ("compute", "cost")

    def applies(self, plan: Plan) -> bool:
        c = plan.spec.compute
        return c is None or c.spot  # unknown compute: say it was not checked

    def check(self, plan: Plan) -> Iterator[Finding]:
        c = plan.spec.compute
        if c is None or c.provider != "sagemaker" or not c.spot:
            return
        interval = save_interval_hours(plan)
        mtbf = spot_mtbf_hours(plan)
        if interval is None or mtbf is None or interval <= mtbf:
            return
        best = plan.cost.get("optimal_save_steps") if plan.cost else None
        yield self.finding(
            "training.save_steps",
            f"a checkpoint every {interval:,.1f} h, but a spot interruption is expected every "
            f"~{mtbf:g} h on {c.instance_type}: most attempts end before they save",
            fix=f"Set training.save_steps: {best} (cost model's optimum)." if best else self.fix,
        )
