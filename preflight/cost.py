"""Glue between a job spec and costmodel: spec -> Workload, and the ``cost`` object of reports.

costmodel knows nothing of YAML; this module reads a :class:`~preflight.spec.LoadedSpec`, asks
memplan for the parameter counts and layer sizes, and hands costmodel plain numbers.

Tokens the GPU processes: ``data.num_examples x tokens_per_example x num_train_epochs``, or
``max_steps x batch x grad-accum x GPUs x tokens_per_example`` when ``max_steps`` is set (as in
the Trainer; the GPUs are the spec's own instance's, so every compared instance trains the same
examples).  ``tokens_per_example`` follows ``data.padding`` as the collator pads (see
:func:`tokens_per_example`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import costmodel
from costmodel import Catalog, Comparison, InstanceType, Workload

from .memory import lora_setup
from .spec import LoadedSpec, SpecIssue

#: Monte Carlo runs behind the P90 figures of ``preflight check`` (compare uses 100,000).
SUMMARY_RUNS = 20_000


@dataclass(frozen=True)
class MissingFacts:
    """What the spec would need to state for a cost estimate, as spec issues."""

    issues: list[SpecIssue]


#: Bytes of scheduler.pt, rng_state.pth, trainer_state.json and training_args.bin in one
#: checkpoint: kilobytes to a few hundred KB (trainer_state grows with the log); 1 MB is an
#: upper figure, not a measurement.
CHECKPOINT_EXTRA_BYTES = 1e6


def expected_batch_max(avg_tokens: float, max_length: float | None, batch: int) -> float:
    """Expected padded length of a batch of ``batch`` examples under ``padding: longest``.

    ``DataCollatorWithPadding`` pads each batch to its longest example, so a batch costs
    ``batch x E[max of its lengths]``, capped by ``max_length`` (truncation).  Only the mean
    length is known; lengths are taken as exponential with that mean (an assumption: the
    spread of real text lengths is of the order of their mean), so
    ``E[min(max, L)] = integral_0^L 1 - (1 - exp(-x/mean))^batch dx`` (numerically, 400 steps).
    """
    if batch <= 1:
        return min(avg_tokens, max_length) if max_length else avg_tokens
    top = float(max_length) if max_length else avg_tokens * 40.0
    steps = 400
    h = top / steps
    total = 0.0
    for i in range(steps):
        x = (i + 0.5) * h
        total += 1.0 - (1.0 - math.exp(-x / avg_tokens)) ** batch
    return total * h


def tokens_per_example(
    avg_tokens: float | None,
    max_length: int | None,
    padding: str,
    batch_size: int = 1,
    group_by_length: bool = False,
) -> float:
    """Tokens the GPU processes per example.

    ``padding: max_length`` pads every example to ``max_length`` (what reproduces the seed's own
    run: 152,000 steps in 168 h); ``longest`` (dynamic padding) pads each per-device batch to its
    longest example (:func:`expected_batch_max`); with ``batch_size`` 1 or
    ``group_by_length`` (batches of similar lengths) that is about ``avg_tokens``, capped by
    ``max_length``. Either falls back to the other figure when only one is given.
    """
    if padding == "max_length" and max_length is not None:
        return float(max_length)
    if avg_tokens is not None:
        batch = 1 if group_by_length else batch_size
        return expected_batch_max(float(avg_tokens), max_length, batch)
    assert max_length is not None
    return float(max_length)


def _checkpoint_bytes_per_param(loaded: LoadedSpec) -> tuple[float, float]:
    """(weight, optimizer-state) bytes per trainable parameter, as memplan counts them.

    The Trainer saves what it trains: the weights in their dtype and AdamW's two moments in
    the same dtype (``zeros_like``), or the 8-bit optimizer's state; none with
    ``save_only_model``.  Falls back to fp32
    weights with AdamW (4 + 8) when the spec cannot be read as a memplan setup.
    """
    try:
        import memplan
        from memplan.analytic import optimizer_state_bytes, trainable_dtype_bytes

        from .memory import setup_from_spec
        from .spec import SpecError

        setup = setup_from_spec(loaded)
    except (ImportError, ValueError):
        return 4.0, 8.0
    except SpecError:
        return 4.0, 8.0
    counts = memplan.count_params(setup.arch, setup.lora)
    n = max(int(counts.trainable), 1)
    optim = optimizer_state_bytes(setup, counts) / n
    if bool(loaded.spec.training.get("save_only_model", False)):
        optim = 0.0  # Trainer then writes no optimizer.pt (nor scheduler): a restart restarts them
    return float(trainable_dtype_bytes(setup)), optim


def workload_from_spec(loaded: LoadedSpec) -> Workload | MissingFacts:
    """The spec's :class:`costmodel.Workload`, or the keys it lacks for one."""
    import memplan

    spec = loaded.spec
    issues: list[SpecIssue] = []
    if spec.model is None:
        issues.append(loaded.issue("model.name", "needed to count the model's FLOPs"))
    data = spec.data
    tr = spec.training
    max_steps = int(tr.get("max_steps", -1) or -1)
    if data is None or (data.avg_tokens is None and data.max_length is None):
        issues.append(
            loaded.issue("data.avg_tokens", "needed (or data.max_length) to count tokens")
        )
    if max_steps <= 0 and (data is None or not data.num_examples):
        issues.append(
            loaded.issue("data.num_examples", "needed (or training.max_steps) to count steps")
        )
    if issues or spec.model is None or data is None:
        return MissingFacts(issues)
    try:
        arch = memplan.load_architecture(loaded.model_target() or spec.model.name)
    except memplan.UnknownModelError:
        # The memory note says why and how to fix it; once is enough.
        return MissingFacts([loaded.issue("model.name", "memplan cannot read this model")])
    try:
        counts = memplan.count_params(arch, lora_setup(spec))
    except ValueError as exc:
        return MissingFacts([loaded.issue("lora.target_modules", str(exc))])
    batch = int(tr.get("per_device_train_batch_size", 8) or 8)
    tok = tokens_per_example(
        data.avg_tokens,
        data.max_length,
        data.padding,
        batch_size=batch,
        group_by_length=bool(tr.get("group_by_length", False)),
    )
    embedding = 0 if arch.tie_word_embeddings else int(counts.embedding)
    weight_b, optim_b = _checkpoint_bytes_per_param(loaded)
    return Workload(
        params_total=int(counts.base),
        params_trainable=int(counts.trainable),
        num_layers=arch.num_hidden_layers,
        hidden_size=arch.hidden_size,
        attention_dim=arch.q_dim,
        embedding_params=embedding,
        tokens_per_example=tok,
        num_examples=data.num_examples,
        epochs=float(tr.get("num_train_epochs", 3.0) or 3.0),
        max_steps=max_steps if max_steps > 0 else None,
        per_device_batch_size=int(tr.get("per_device_train_batch_size", 8) or 8),
        grad_accum=int(tr.get("gradient_accumulation_steps", 1) or 1),
        lora=spec.lora is not None,
        gradient_checkpointing=bool(tr.get("gradient_checkpointing", False)),
        reference_world_size=_spec_world_size(loaded),
        weight_bytes_per_param=weight_b,
        optimizer_bytes_per_param=optim_b,
        checkpoint_extra_bytes=CHECKPOINT_EXTRA_BYTES,
        # What a restart reads: the base model as the hub stores it (half precision).
        model_bytes=2.0 * float(counts.base),
        quantized=spec.model.dtype in ("int8", "nf4"),
    )


def _spec_world_size(loaded: LoadedSpec) -> int | None:
    """GPUs of the spec's own instance x instance_count (None without a known instance)."""
    compute = loaded.spec.compute
    if compute is None or not compute.instance_type:
        return None
    try:
        inst = costmodel.load_catalog().instance(compute.instance_type)
    except costmodel.UnknownInstanceError:
        return None
    return inst.gpu_count * compute.instance_count


def dtype_rejections(loaded: LoadedSpec, instance: InstanceType) -> list[str]:
    """Why PF702 would reject this job on ``instance``: the same predicate, as row reasons."""
    from .gpu_support import bf16_problems, bf16_uses
    from .plan import Plan

    uses = bf16_uses(Plan(loaded))
    return [f"dtype: {msg} (PF702)" for _, msg in bf16_problems(instance.gpu, *uses)]


def memory_fits(loaded: LoadedSpec, instance: InstanceType) -> bool | None:
    """Whether one training step fits the instance's GPU memory (memplan), None if unknown.

    Reuses ``preflight.memory.setup_from_spec`` (the memplan glue) and swaps in the
    instance's GPU size and count.
    """
    import memplan
    from memplan.verdict import judge

    from .memory import setup_from_spec
    from .spec import SpecError

    try:
        base = setup_from_spec(loaded)
    except SpecError:
        return None
    compute = loaded.spec.compute
    count = compute.instance_count if compute is not None else 1
    stated = compute.gpu_memory_gib if compute is not None else None
    own = compute is not None and compute.instance_type == instance.name
    setup = base.with_(
        capacity_gib=float(stated if own and stated is not None else instance.gpu_memory_gib),
        gpu_name=instance.gpu,
        num_gpus=instance.gpu_count * count,
    )
    try:
        plan = memplan.estimate(setup)
    except ValueError:
        return None
    # The toolkit's one verdict: the same judge as `memplan estimate` and PF401/PF402.
    return judge(plan).fits


def compare_spec(
    loaded: LoadedSpec,
    instances: Sequence[str] | None = None,
    *,
    mtbf_hours: float | None = None,
    checkpoint_minutes: float | None = None,
    restart_minutes: float | None = None,
    billed_restart_minutes: float | None = None,
    mfu: float | None = None,
    runs: int = 100_000,
    catalog: Catalog | None = None,
    check_memory: bool = True,
    prices: Mapping[str, float] | None = None,
    spot_prices: Mapping[str, float] | None = None,
    spot_discount_pct: float | None = None,
) -> Comparison | MissingFacts:
    """``costmodel.compare`` for a spec: its instance first, its deadline, budget and runtime cap.

    Rows preflight would reject are marked: memory (:func:`memory_fits`), a dtype the GPU
    lacks (:func:`dtype_rejections`, PF702's predicate) and the runtime cap.  Prices come from
    ``budget.prices`` / ``budget.spot_prices`` / ``budget.spot_discount_pct`` unless the
    arguments (the CLI's ``--price`` ...) override them.
    """
    work = workload_from_spec(loaded)
    if isinstance(work, MissingFacts):
        return work
    cat = catalog or costmodel.load_catalog()
    spec = loaded.spec
    compute = spec.compute
    budget = spec.budget
    primary = compute.instance_type if compute is not None else None
    region = compute.region if compute is not None else "us-east-1"
    given_prices = dict(budget.prices or {}) if budget is not None else {}
    given_prices.update(prices or {})
    given_spot = dict(budget.spot_prices or {}) if budget is not None else {}
    given_spot.update(spot_prices or {})
    discount = spot_discount_pct
    if discount is None and budget is not None:
        discount = budget.spot_discount_pct
    if given_prices or given_spot or discount is not None:
        try:
            cat = cat.with_overrides(
                region, prices=given_prices, spot_prices=given_spot, spot_discount_pct=discount
            )
        except costmodel.UnknownInstanceError as exc:
            from .spec import SpecError

            key = "budget.spot_prices" if exc.name in given_spot else "budget.prices"
            if exc.name in (prices or {}) or exc.name in (spot_prices or {}):
                raise ValueError(str(exc)) from exc
            raise SpecError([loaded.issue(key, str(exc))]) from exc

    def fits(inst: InstanceType) -> bool | None:
        return memory_fits(loaded, inst)

    def reject(inst: InstanceType) -> list[str]:
        return dtype_rejections(loaded, inst)

    return costmodel.compare(
        work,
        instances,
        region=region,
        instance_count=compute.instance_count if compute is not None else 1,
        primary=primary,
        mtbf_hours=mtbf_hours,
        checkpoint_minutes=checkpoint_minutes,
        restart_minutes=(
            restart_minutes
            if restart_minutes is not None
            else costmodel.DEFAULT_CAPACITY_WAIT_MINUTES
        ),
        billed_restart_minutes=billed_restart_minutes,
        deadline_hours=budget.deadline_hours if budget is not None else None,
        budget_usd=budget.max_cost_usd if budget is not None else None,
        max_run_hours=compute.max_run_hours if compute is not None else None,
        fits=fits if check_memory else None,
        reject=reject,
        mfu=mfu,
        runs=runs,
        catalog=cat,
    )


def _save_every_steps(loaded: LoadedSpec, dur: costmodel.DurationEstimate) -> int | None:
    """Steps between checkpoints the Trainer would use (None for save_strategy "no", and for
    "epoch" when the data set's size, so the length of an epoch, is not known)."""
    tr = loaded.spec.training
    total_steps = dur.total_steps
    strategy = str(tr.get("save_strategy", "steps") or "steps").lower()
    if strategy in ("no", "savestrategy.no"):
        return None
    if strategy in ("epoch", "savestrategy.epoch"):
        return dur.steps_per_epoch
    steps = tr.get("save_steps", 500)
    if steps is None:
        return None
    value = float(steps)
    if 0 < value < 1:  # a ratio of total steps, as the Trainer allows
        return max(int(value * total_steps), 1)
    return max(int(value), 1)


def cost_summary(loaded: LoadedSpec) -> dict[str, Any] | None:
    """The DESIGN.md ``cost`` object for ``preflight check``, or None when it cannot be computed.

    Keys: ``hours`` (expected wall hours in the spec's market), ``on_demand_usd``,
    ``spot_expected_usd``, ``recommendation`` ("spot" or "on-demand" for the spec's instance),
    ``recommendation_reason``, ``optimal_save_steps``, ``optimal_interval_minutes``,
    ``save_steps`` (what the spec's Trainer would use) and ``save_interval_minutes``,
    ``first_checkpoint_hours``, ``seconds_per_step``, ``total_steps``, ``steps_per_epoch``,
    ``compute_hours``,
    ``spot_p90_hours``, ``spot_p90_usd``, ``max_run_hours`` with ``exceeds_max_run`` (P90
    running hours for spot), ``max_wait_hours`` with ``max_wait_risk`` (share of spot runs whose
    wall time, waits included, exceeds it),
    ``budget_usd`` with ``exceeds_budget``, ``deadline_hours`` with ``deadline_risk``, ``market``,
    ``instance_type``, ``region``, ``throughput_basis``, ``price_source``.
    """
    spec = loaded.spec
    compute = spec.compute
    if compute is None or compute.provider != "sagemaker" or not compute.instance_type:
        return None
    try:
        cmp = compare_spec(loaded, [compute.instance_type], runs=SUMMARY_RUNS, check_memory=False)
    except (ValueError, costmodel.UnknownInstanceError):
        return None
    if isinstance(cmp, MissingFacts) or cmp.primary is None:
        return None
    od = cmp.option(cmp.primary, "on-demand")
    sp = cmp.option(cmp.primary, "spot")
    if od is None or sp is None:
        return None
    dur = cmp.durations[cmp.primary]
    market_row = sp if compute.spot else od
    save_every = _save_every_steps(loaded, dur)
    first_ckpt = None
    if save_every is not None and save_every <= dur.total_steps:
        first_ckpt = dur.hours_for_steps(save_every)
    budget = spec.budget
    max_cost = budget.max_cost_usd if budget is not None else None
    deadline = budget.deadline_hours if budget is not None else None
    market_cost = market_row.p90_cost_usd
    # MaxRuntime counts training time across attempts; MaxWait counts everything.
    market_hours = market_row.p90_billed_hours if compute.spot else od.expected_hours
    max_wait_risk = None
    if compute.spot and compute.max_wait_hours is not None:
        sim = costmodel.simulate(
            dur.hours,
            market_row.interval_minutes / 60.0,
            cmp.params[cmp.primary],
            runs=SUMMARY_RUNS,
        )
        max_wait_risk = sim.p_exceeds(compute.max_wait_hours)
    rec = cmp.recommendation
    return {
        "instance_type": cmp.primary,
        "region": cmp.region,
        "market": "spot" if compute.spot else "on-demand",
        "hours": round(market_row.expected_hours, 2),
        "compute_hours": round(dur.hours, 2),
        "on_demand_usd": round(od.expected_cost_usd, 2),
        "spot_expected_usd": round(sp.expected_cost_usd, 2),
        "spot_p90_usd": round(sp.p90_cost_usd, 2),
        "spot_p90_hours": round(sp.p90_hours, 2),
        "spot_p90_running_hours": round(sp.p90_billed_hours, 2),
        "recommendation": rec.market or "on-demand",
        "recommendation_reason": rec.reason,
        "optimal_save_steps": cmp.checkpoint_save_steps,
        "optimal_interval_minutes": (
            round(cmp.checkpoint.minutes, 1) if cmp.checkpoint is not None else None
        ),
        "save_steps": save_every,
        "save_interval_minutes": (
            round(dur.hours_for_steps(save_every) * 60.0, 1) if save_every is not None else None
        ),
        "first_checkpoint_hours": None if first_ckpt is None else round(first_ckpt, 3),
        "seconds_per_step": round(dur.seconds_per_step, 4),
        "total_steps": dur.total_steps,
        "steps_per_epoch": dur.steps_per_epoch,
        "max_run_hours": compute.max_run_hours,
        "exceeds_max_run": market_hours > compute.max_run_hours,
        "max_wait_hours": compute.max_wait_hours,
        "max_wait_risk": max_wait_risk,
        "budget_usd": max_cost,
        "exceeds_budget": None if max_cost is None else market_cost > max_cost,
        "deadline_hours": deadline,
        "deadline_risk": market_row.deadline_risk,
        "throughput_basis": dur.throughput_basis,
        "price_source": cmp.price_source,
        "price_warnings": list(cmp.warnings),
        "inputs": {k: v for k, v in cmp.inputs.get(cmp.primary, [])},
        "spot_mtbf_range_hours": _finite_pair(sp.mtbf_range_hours),
        "spot_expected_usd_range": _finite_pair(sp.expected_cost_range_usd),
        "spot_p90_usd_range": _finite_pair(sp.p90_cost_range_usd),
        "recommendation_holds_across_range": rec.holds_across_range,
        "does_not_fit": list(market_row.does_not_fit),
    }


def _finite_pair(v: tuple[float, float] | None) -> list[float | None] | None:
    if v is None:
        return None
    return [None if math.isinf(x) else round(x, 2) for x in v]


def missing_for_cost(loaded: LoadedSpec) -> str:
    """Why ``cost_summary`` has nothing for this spec, naming the keys that would fix it."""
    compute = loaded.spec.compute
    if compute is None:
        return "no compute section"
    if compute.provider != "sagemaker":
        return "a local job has no instance price"
    if not compute.instance_type:
        return "compute.instance_type is not set"
    work = workload_from_spec(loaded)
    if isinstance(work, MissingFacts):
        return "; ".join(f"{i.key} {i.message}" for i in work.issues)
    return f"no price for {compute.instance_type} in {compute.region}"


def duration_vs_max_run(summary: dict[str, Any]) -> tuple[float, float, bool]:
    """(hours the job needs, compute.max_run_hours, whether it would be cut off).

    For spot, the P90 of running hours: MaxRuntime does not count the waits between attempts.
    """
    spot = summary["market"] == "spot"
    hours = float(summary["spot_p90_running_hours"] if spot else summary["hours"])
    return hours, float(summary["max_run_hours"]), bool(summary["exceeds_max_run"])


def cost_vs_budget(summary: dict[str, Any]) -> tuple[float, float | None, bool | None]:
    """(P90 cost in the spec's market, budget.max_cost_usd, whether it is exceeded)."""
    cost = float(
        summary["spot_p90_usd"] if summary["market"] == "spot" else summary["on_demand_usd"]
    )
    return cost, summary["budget_usd"], summary["exceeds_budget"]


def save_steps_vs_optimal(summary: dict[str, Any]) -> tuple[int | None, int | None]:
    """(the spec's steps between checkpoints, the optimal save_steps for its instance)."""
    return summary["save_steps"], summary["optimal_save_steps"]
