"""Spot vs on-demand across instance types: the rows of ``costmodel compare`` and its verdict.

``compare`` is pure computation over a :class:`Workload`; whether a job fits an instance's GPU
memory is the caller's knowledge (``preflight`` asks ``memplan``) and comes in as ``fits``;
anything else the caller would reject the instance for (``preflight``: a dtype the GPU lacks)
comes in as ``reject``.  A row with a reason in ``does_not_fit`` is never recommended.

Every spot row is priced at both ends of its interruption band (:class:`InterruptionRisk`),
with the checkpoint plan fixed, and the recommendation says whether it holds across them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from costmodel.catalog import Catalog, InstanceType, InterruptionRisk, gpu_family, load_catalog
from costmodel.duration import (
    CONTAINER_START_MINUTES,
    RESTORE_READ_MB_S,
    DurationEstimate,
    estimate_checkpoint_minutes,
    estimate_duration,
    estimate_restore_minutes,
)
from costmodel.errors import MissingPriceError, MissingThroughputError
from costmodel.heuristic import SeedHeuristic, seed_heuristic
from costmodel.simulate import simulate
from costmodel.spot import (
    CheckpointInterval,
    SpotParams,
    on_demand_hours,
    optimal_checkpoint_interval,
    spot_expectation,
)
from costmodel.workload import Workload

#: Unbilled wait for spot capacity after an interruption when the caller gives none (minutes).
#: An assumption, overridable (--capacity-wait-minutes): the seed waited over 2 h for
#: capacity and gave up, so raise it for scarce types.  The billed part of a restart
#: (container start, model load, checkpoint download) is sized separately
#: (:func:`costmodel.duration.estimate_restore_minutes`).
DEFAULT_CAPACITY_WAIT_MINUTES = 30.0
DEFAULT_RESTART_MINUTES = DEFAULT_CAPACITY_WAIT_MINUTES

#: Largest share of spot runs allowed to miss the deadline before an option is ruled out.
DEADLINE_RISK_LIMIT = 0.10

MARKETS = ("on-demand", "spot")


@dataclass(frozen=True)
class Option:
    """One instance type x market row."""

    instance_type: str
    market: str
    usd_per_hour: float
    expected_hours: float
    p50_hours: float
    p90_hours: float
    p99_hours: float
    expected_cost_usd: float
    p50_cost_usd: float
    p90_cost_usd: float
    p99_cost_usd: float
    deadline_risk: float | None
    expected_interruptions: float
    save_steps: int
    interval_minutes: float
    fits_memory: bool | None
    compute_hours: float
    seconds_per_step: float
    total_steps: int
    does_not_fit: tuple[str, ...] = ()
    mtbf_range_hours: tuple[float, float] | None = None
    expected_cost_range_usd: tuple[float, float] | None = None
    p90_cost_range_usd: tuple[float, float] | None = None
    expected_hours_range: tuple[float, float] | None = None
    p90_hours_range: tuple[float, float] | None = None

    @property
    def feasible(self) -> bool:
        """False when the caller (preflight) would reject the job on this instance."""
        return not self.does_not_fit

    def fit_text(self) -> str:
        """``fits`` or ``does not fit: <reasons>``: the words every format shows."""
        if self.does_not_fit:
            return "does not fit: " + "; ".join(self.does_not_fit)
        return (
            "fits"
            if self.fits_memory
            else "fit not checked"
            if self.fits_memory is None
            else "fits"
        )

    def fit_short(self) -> str:
        """``fits`` or ``does not fit: memory, dtype``: the table cell (reasons listed below it)."""
        if self.does_not_fit:
            return "does not fit: " + ", ".join(r.split(":")[0] for r in self.does_not_fit)
        return self.fit_text()

    def at_end(self, end: int) -> Option:
        """This spot row as priced at one end of its interruption range (0 short MTBF, 1 long)."""
        if (
            self.expected_cost_range_usd is None
            or self.p90_cost_range_usd is None
            or self.expected_hours_range is None
            or self.p90_hours_range is None
        ):
            return self
        return replace(
            self,
            expected_cost_usd=self.expected_cost_range_usd[end],
            p90_cost_usd=self.p90_cost_range_usd[end],
            expected_hours=self.expected_hours_range[end],
            p90_hours=self.p90_hours_range[end],
        )

    @property
    def p90_billed_hours(self) -> float:
        """P90 of the hours the instance runs (and is billed), waits excluded."""
        return self.p90_cost_usd / self.usd_per_hour if self.usd_per_hour else self.p90_hours

    def to_json(self) -> dict[str, object]:
        """JSON row (hours to 0.1 h, money to the cent)."""
        return {
            "instance_type": self.instance_type,
            "market": self.market,
            "usd_per_hour": round(self.usd_per_hour, 4),
            "expected_hours": round(self.expected_hours, 2),
            "p50_hours": round(self.p50_hours, 2),
            "p90_hours": round(self.p90_hours, 2),
            "p99_hours": round(self.p99_hours, 2),
            "expected_cost_usd": round(self.expected_cost_usd, 2),
            "p50_cost_usd": round(self.p50_cost_usd, 2),
            "p90_cost_usd": round(self.p90_cost_usd, 2),
            "p99_cost_usd": round(self.p99_cost_usd, 2),
            "deadline_risk": None if self.deadline_risk is None else round(self.deadline_risk, 4),
            "expected_interruptions": round(self.expected_interruptions, 2),
            "save_steps": self.save_steps,
            "interval_minutes": round(self.interval_minutes, 1),
            "fits_memory": self.fits_memory,
            "feasible": self.feasible,
            "fit": self.fit_text(),
            "does_not_fit": list(self.does_not_fit),
            "mtbf_range_hours": _pair(self.mtbf_range_hours, 1),
            "expected_cost_range_usd": _pair(self.expected_cost_range_usd, 2),
            "p90_cost_range_usd": _pair(self.p90_cost_range_usd, 2),
            "expected_hours_range": _pair(self.expected_hours_range, 2),
            "p90_hours_range": _pair(self.p90_hours_range, 2),
            "compute_hours": round(self.compute_hours, 2),
            "seconds_per_step": round(self.seconds_per_step, 4),
            "total_steps": self.total_steps,
        }


def _pair(v: tuple[float, float] | None, nd: int) -> list[float | None] | None:
    """JSON for a (short-MTBF, long-MTBF) pair; ``inf`` becomes None."""
    if v is None:
        return None
    return [None if math.isinf(x) else round(x, nd) for x in v]


@dataclass(frozen=True)
class Recommendation:
    """The option to use and why; ``holds_across_range`` is None when nothing was varied."""

    instance_type: str | None
    market: str | None
    reason: str
    holds_across_range: bool | None = None
    range_note: str = ""

    def to_json(self) -> dict[str, object]:
        """JSON object."""
        return {
            "instance_type": self.instance_type,
            "market": self.market,
            "reason": self.reason,
            "holds_across_interruption_range": self.holds_across_range,
            "range_note": self.range_note,
        }


@dataclass(frozen=True)
class Comparison:
    """Everything ``costmodel compare`` reports."""

    region: str
    instance_count: int
    options: list[Option]
    durations: dict[str, DurationEstimate]
    primary: str | None
    checkpoint: CheckpointInterval | None
    checkpoint_save_steps: int | None
    params: dict[str, SpotParams]
    seed_heuristic: SeedHeuristic | None
    model_spot_expected_usd: float | None
    recommendation: Recommendation
    skipped: list[tuple[str, str]] = field(default_factory=list)
    price_source: str = ""
    deadline_hours: float | None = None
    budget_usd: float | None = None
    max_run_hours: float | None = None
    inputs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    risks: dict[str, InterruptionRisk] = field(default_factory=dict)

    def option(self, instance_type: str, market: str) -> Option | None:
        """The row for one instance x market, if it was priced."""
        for opt in self.options:
            if opt.instance_type == instance_type and opt.market == market:
                return opt
        return None

    def to_json(self) -> dict[str, object]:
        """The ``--format json`` object (keys fixed by the issue and DESIGN.md)."""
        ckpt: dict[str, object] | None = None
        if self.checkpoint is not None and self.primary is not None:
            p = self.params[self.primary]
            ckpt = {
                "instance_type": self.primary,
                "optimal_interval_minutes": round(self.checkpoint.minutes, 1),
                "daly_interval_minutes": round(self.checkpoint.daly_hours * 60.0, 1),
                "young_interval_minutes": round(self.checkpoint.young_hours * 60.0, 1),
                "save_steps": self.checkpoint_save_steps,
                "mtbf_hours": p.mtbf_hours,
                "checkpoint_minutes": round(p.checkpoint_hours * 60.0, 2),
                "restart_minutes": round(p.total_restart_hours * 60.0, 2),
                "capacity_wait_minutes": round(p.restart_hours * 60.0, 2),
                "billed_restart_minutes": round(p.billed_restart_hours * 60.0, 2),
            }
        heur: dict[str, object] | None = None
        if self.seed_heuristic is not None:
            heur = self.seed_heuristic.to_json()
            heur["model_spot_expected_usd"] = (
                None
                if self.model_spot_expected_usd is None
                else round(self.model_spot_expected_usd, 2)
            )
        return {
            "region": self.region,
            "instance_count": self.instance_count,
            "price_source": self.price_source,
            "options": [o.to_json() for o in self.options],
            "durations": {k: d.to_json() for k, d in self.durations.items()},
            "checkpoint": ckpt,
            "seed_heuristic": heur,
            "recommendation": self.recommendation.to_json(),
            "skipped": [{"instance_type": n, "reason": r} for n, r in self.skipped],
            "deadline_hours": self.deadline_hours,
            "budget_usd": self.budget_usd,
            "max_run_hours": self.max_run_hours,
            "inputs": {k: [{"input": a, "value": b} for a, b in v] for k, v in self.inputs.items()},
            "warnings": list(self.warnings),
        }


def default_instances(catalog: Catalog, region: str) -> list[str]:
    """The smallest priced size of each family in ``region`` (one row pair per GPU kind)."""
    best: dict[str, InstanceType] = {}
    for inst in catalog.instances.values():
        if inst.price(region).usd is None:
            continue
        cur = best.get(inst.family)
        key = (inst.gpu_count, inst.price(region).usd or 0.0)
        if cur is None or key < (cur.gpu_count, cur.price(region).usd or 0.0):
            best[inst.family] = inst
    return sorted(i.name for i in best.values())


def _fits(
    fits: Mapping[str, bool] | Callable[[InstanceType], bool | None] | None, inst: InstanceType
) -> bool | None:
    if fits is None:
        return None
    if callable(fits):
        answer = fits(inst)
        return None if answer is None else bool(answer)
    return fits.get(inst.name)


def compare(
    workload: Workload,
    instances: Sequence[str] | None = None,
    *,
    region: str = "us-east-1",
    instance_count: int = 1,
    primary: str | None = None,
    mtbf_hours: float | None = None,
    checkpoint_minutes: float | None = None,
    restart_minutes: float = DEFAULT_CAPACITY_WAIT_MINUTES,
    billed_restart_minutes: float | None = None,
    deadline_hours: float | None = None,
    budget_usd: float | None = None,
    max_run_hours: float | None = None,
    fits: Mapping[str, bool] | Callable[[InstanceType], bool | None] | None = None,
    reject: Callable[[InstanceType], Sequence[str]] | None = None,
    mfu: float | None = None,
    runs: int = 100_000,
    seed: int | None = 0,
    catalog: Catalog | None = None,
    today: dt.date | None = None,
) -> Comparison:
    """Price ``workload`` on each instance type, on-demand and spot, and pick one.

    Spot rows use the optimal checkpoint interval for that instance (exact optimum of the
    closed form at the pessimistic end of its interruption band); on-demand rows save at the
    same interval.  Interruptions of a job on ``instance_count`` nodes arrive
    ``instance_count`` times as often (any node stops it).  ``restart_minutes`` is the
    unbilled capacity wait after an interruption; ``billed_restart_minutes`` (default: sized
    from the model and checkpoint) the billed restore.  With ``max_steps`` set the workload is
    read at the primary instance's GPU count so every row trains the same examples.
    Instances without a price or throughput figure are listed in ``skipped`` with the reason.
    """
    cat = catalog or load_catalog()
    names = list(instances) if instances else default_instances(cat, region)
    if primary is not None and cat.instance(primary).name not in [
        cat.instance(n).name for n in names
    ]:
        names.insert(0, primary)
    if workload.reference_world_size is None and workload.max_steps:
        ref_inst = cat.instance(primary or names[0]) if names else None
        if ref_inst is not None:
            workload = replace(workload, reference_world_size=ref_inst.gpu_count * instance_count)
    ckpt_min = (
        checkpoint_minutes
        if checkpoint_minutes is not None
        else estimate_checkpoint_minutes(workload)
    )
    restore_min = (
        billed_restart_minutes
        if billed_restart_minutes is not None
        else estimate_restore_minutes(workload)
    )
    options: list[Option] = []
    durations: dict[str, DurationEstimate] = {}
    params_by: dict[str, SpotParams] = {}
    risks: dict[str, InterruptionRisk] = {}
    skipped: list[tuple[str, str]] = []
    intervals: dict[str, CheckpointInterval] = {}
    inputs: dict[str, list[tuple[str, str]]] = {}
    warnings: list[str] = []
    for name in names:
        inst = cat.instance(name)
        if inst.name in durations:
            continue
        try:
            od_rate = inst.on_demand_usd_per_hour(region) * instance_count
            spot_rate = inst.spot_usd_per_hour(region) * instance_count
            dur = estimate_duration(
                workload, inst, instance_count=instance_count, mfu=mfu, catalog=cat
            )
        except (MissingPriceError, MissingThroughputError) as exc:
            skipped.append((inst.name, str(exc)))
            continue
        durations[inst.name] = dur
        fit = _fits(fits, inst)
        if mtbf_hours is not None:
            risk = InterruptionRisk(None, mtbf_hours, mtbf_hours, "given", "", None)
        else:
            risk = cat.interruption(inst, region)
        risks[inst.name] = risk
        m = risk.mtbf_hours / instance_count
        params = SpotParams(m, ckpt_min / 60.0, restart_minutes / 60.0, restore_min / 60.0)
        params_by[inst.name] = params
        interval = optimal_checkpoint_interval(m, params.checkpoint_hours)
        intervals[inst.name] = interval
        tau = min(interval.exact_hours, dur.hours) if dur.hours > 0 else interval.exact_hours
        tau = max(tau, dur.seconds_per_step / 3600.0)
        save_steps = dur.steps_for_hours(tau)
        od_h = on_demand_hours(dur.hours, tau, params.checkpoint_hours)
        od_cost = od_h * od_rate
        reasons: list[str] = []
        if fit is False:
            reasons.append(
                f"memory: the caller's estimate of one step exceeds {inst.gpu_memory_gib:g} "
                f"GiB per {inst.gpu}"
            )
        if reject is not None:
            reasons.extend(reject(inst))
        base_reasons = tuple(reasons)
        od_reasons = base_reasons + _runtime_cap(od_h, max_run_hours)
        options.append(
            Option(
                instance_type=inst.name,
                market="on-demand",
                usd_per_hour=od_rate,
                expected_hours=od_h,
                p50_hours=od_h,
                p90_hours=od_h,
                p99_hours=od_h,
                expected_cost_usd=od_cost,
                p50_cost_usd=od_cost,
                p90_cost_usd=od_cost,
                p99_cost_usd=od_cost,
                deadline_risk=None if deadline_hours is None else float(od_h > deadline_hours),
                expected_interruptions=0.0,
                save_steps=save_steps,
                interval_minutes=tau * 60.0,
                fits_memory=fit,
                compute_hours=dur.hours,
                seconds_per_step=dur.seconds_per_step,
                total_steps=dur.total_steps,
                does_not_fit=od_reasons,
            )
        )
        exp = spot_expectation(dur.hours, tau, params)
        sim = simulate(dur.hours, tau, params, runs=runs, seed=seed)
        ends: list[tuple[float, float, float, float]] = []
        for end_mtbf in (risk.mtbf_low_hours, risk.mtbf_high_hours):
            if end_mtbf == risk.mtbf_hours:
                ends.append(
                    (
                        exp.expected_billed_hours * spot_rate,
                        sim.billed_percentile(90) * spot_rate,
                        exp.expected_hours,
                        sim.hours_percentile(90),
                    )
                )
                continue
            p_end = replace(params, mtbf_hours=end_mtbf / instance_count)
            e_end = spot_expectation(dur.hours, tau, p_end)
            s_end = simulate(dur.hours, tau, p_end, runs=runs, seed=seed)
            ends.append(
                (
                    e_end.expected_billed_hours * spot_rate,
                    s_end.billed_percentile(90) * spot_rate,
                    e_end.expected_hours,
                    s_end.hours_percentile(90),
                )
            )
        sp_p90_billed = sim.billed_percentile(90)
        options.append(
            Option(
                instance_type=inst.name,
                market="spot",
                usd_per_hour=spot_rate,
                expected_hours=exp.expected_hours,
                p50_hours=sim.hours_percentile(50),
                p90_hours=sim.hours_percentile(90),
                p99_hours=sim.hours_percentile(99),
                expected_cost_usd=exp.expected_billed_hours * spot_rate,
                p50_cost_usd=sim.billed_percentile(50) * spot_rate,
                p90_cost_usd=sp_p90_billed * spot_rate,
                p99_cost_usd=sim.billed_percentile(99) * spot_rate,
                deadline_risk=None if deadline_hours is None else sim.p_exceeds(deadline_hours),
                expected_interruptions=exp.expected_interruptions,
                save_steps=save_steps,
                interval_minutes=tau * 60.0,
                fits_memory=fit,
                compute_hours=dur.hours,
                seconds_per_step=dur.seconds_per_step,
                total_steps=dur.total_steps,
                # MaxRuntime counts training time across attempts, not the waits between them.
                does_not_fit=base_reasons + _runtime_cap(sp_p90_billed, max_run_hours),
                mtbf_range_hours=(risk.mtbf_low_hours, risk.mtbf_high_hours),
                expected_cost_range_usd=(ends[0][0], ends[1][0]),
                p90_cost_range_usd=(ends[0][1], ends[1][1]),
                expected_hours_range=(ends[0][2], ends[1][2]),
                p90_hours_range=(ends[0][3], ends[1][3]),
            )
        )
        inputs[inst.name], row_warnings = _row_inputs(
            cat,
            inst,
            region,
            dur,
            risk,
            params,
            workload,
            ckpt_min,
            checkpoint_minutes,
            restart_minutes,
            restore_min,
            billed_restart_minutes,
            today,
        )
        warnings.extend(f"{inst.name}: {w}" for w in row_warnings)

    prim = cat.instance(primary).name if primary is not None else None
    if prim is None and durations:
        prim = next(iter(durations))
    heuristic: SeedHeuristic | None = None
    model_spot: float | None = None
    ckpt: CheckpointInterval | None = None
    save_steps_primary: int | None = None
    if prim is not None and prim in durations:
        od_row = next(o for o in options if o.instance_type == prim and o.market == "on-demand")
        spot_row = next(o for o in options if o.instance_type == prim and o.market == "spot")
        p = params_by[prim]
        # The seed's rule with the model's probability of at least one interruption and a
        # failure priced as losing the whole on-demand run (what unsynced checkpoints cost).
        p_fail = 1.0 - math.exp(-od_row.expected_hours / p.mtbf_hours)
        heuristic = seed_heuristic(
            od_row.usd_per_hour, spot_row.usd_per_hour, od_row.expected_hours, p_fail
        )
        model_spot = spot_row.expected_cost_usd
        ckpt = intervals[prim]
        save_steps_primary = spot_row.save_steps
    rec = _recommend(options, deadline_hours, budget_usd)
    rec = _with_range_verdict(rec, options, deadline_hours, budget_usd)
    return Comparison(
        region=region,
        instance_count=instance_count,
        options=options,
        durations=durations,
        primary=prim,
        checkpoint=ckpt,
        checkpoint_save_steps=save_steps_primary,
        params=params_by,
        seed_heuristic=heuristic,
        model_spot_expected_usd=model_spot,
        recommendation=rec,
        skipped=skipped,
        price_source=cat.price_source,
        deadline_hours=deadline_hours,
        budget_usd=budget_usd,
        max_run_hours=max_run_hours,
        inputs=inputs,
        warnings=warnings,
        risks=risks,
    )


def _runtime_cap(hours: float, max_run: float | None) -> tuple[str, ...]:
    if max_run is not None and hours > max_run:
        return (f"runtime cap: needs {hours:,.0f} h, over max_run_hours {max_run:g}",)
    return ()


def _row_inputs(
    cat: Catalog,
    inst: InstanceType,
    region: str,
    dur: DurationEstimate,
    risk: InterruptionRisk,
    params: SpotParams,
    workload: Workload,
    ckpt_min: float,
    ckpt_given: float | None,
    wait_min: float,
    restore_min: float,
    restore_given: float | None,
    today: dt.date | None,
) -> tuple[list[tuple[str, str]], list[str]]:
    """What one row rests on, with sources and ages, and the warnings about them."""
    price = inst.price(region)
    restore = (
        f"{restore_min:.1f} min billed (given)"
        if restore_given is not None
        else f"{restore_min:.1f} min billed (container start {CONTAINER_START_MINUTES:g} min + "
        f"model and checkpoint read at {RESTORE_READ_MB_S:g} MB/s: assumptions)"
    )
    ckpt_size = workload.checkpoint_bytes() / 1e9
    rows = [
        ("on-demand price", price.describe(today)),
        ("spot price", inst.spot_basis(region, today)),
        ("interruptions", risk.describe() + _age_text(risk.as_of, today)),
        ("throughput", _throughput_text(cat, inst, dur, workload)),
        (
            "batch",
            f"global batch {dur.global_batch} (grad accum {dur.grad_accum} x "
            f"{dur.world_size} GPU(s)), {dur.total_steps:,} steps, "
            f"{dur.tokens:,.0f} tokens",
        ),
        (
            "checkpoint",
            f"{ckpt_size:,.3g} GB, {ckpt_min:.1f} min per save"
            + (" (given)" if ckpt_given is not None else " (size / assumed write speed)"),
        ),
        ("restart", f"capacity wait {wait_min:g} min unbilled; restore {restore}"),
    ]
    warns = [w for w in (price.warning(today), inst.spot_warning(region, today)) if w]
    return rows, warns


def _age_text(stamp: str | None, today: dt.date | None) -> str:
    if stamp is None:
        return ""
    days = ((today or dt.date.today()) - dt.date.fromisoformat(stamp)).days
    return f", {days} d old"


def _throughput_text(
    cat: Catalog, inst: InstanceType, dur: DurationEstimate, workload: Workload
) -> str:
    """The throughput basis with where its figure comes from, and the published MFU range."""
    cal = cat.calibrations.get(inst.gpu)
    if cal is not None and "calibrated" in dur.throughput_basis:
        text = f"{dur.throughput_basis}; source: {cal.source}"
    elif "default MFU" in dur.throughput_basis:
        text = f"{dur.throughput_basis}; basis: {cat.default_mfu_basis.split(':')[0]}"
    else:
        text = dur.throughput_basis
    family = gpu_family(inst.gpu)
    mfus = cat.published_mfu.get((family, workload.method))
    peak = cat.gpu(inst.gpu).peak_tflops
    if mfus and peak:
        used = dur.effective_tflops_per_gpu / peak
        lo, hi = mfus[0], mfus[-1]
        rows = f"{len(mfus)} row{'s' if len(mfus) > 1 else ''}"
        if lo == hi:
            text += (
                f"; a published {family} {workload.method} run implies MFU {lo:.0%} ({rows}, "
                f"benchmarks/costmodel/inputs.md): {dur.hours * used / lo:,.1f} h of compute"
            )
        else:
            text += (
                f"; published {family} {workload.method} runs imply MFU {lo:.0%}-{hi:.0%} ({rows}, "
                f"benchmarks/costmodel/inputs.md): {dur.hours * used / hi:,.1f}-"
                f"{dur.hours * used / lo:,.1f} h of compute"
            )
    return text


def _violations(opt: Option, deadline: float | None, budget: float | None) -> list[str]:
    """Soft constraints (deadline, budget) an option misses; hard ones are ``does_not_fit``."""
    out: list[str] = []
    if deadline is not None and opt.deadline_risk is not None:
        if opt.deadline_risk > DEADLINE_RISK_LIMIT:
            out.append(f"misses the {deadline:g} h deadline in {opt.deadline_risk:.0%} of runs")
    if budget is not None and opt.p90_cost_usd > budget:
        out.append(f"P90 cost ${opt.p90_cost_usd:,.0f} exceeds the ${budget:,.0f} budget")
    return out


def _recommend(
    options: list[Option], deadline: float | None, budget: float | None
) -> Recommendation:
    if not options:
        return Recommendation(None, None, "no instance type could be priced")
    feasible = [o for o in options if o.feasible]
    if not feasible:
        why = "; ".join(sorted({r for o in options for r in o.does_not_fit}))
        return Recommendation(None, None, f"no option preflight would accept: {why}")
    ok = [o for o in feasible if not _violations(o, deadline, budget)]
    if not ok:
        fastest = min(feasible, key=lambda o: o.p90_hours)
        why = "; ".join(_violations(fastest, deadline, budget))
        return Recommendation(
            fastest.instance_type,
            fastest.market,
            f"no option meets every constraint; the fastest is {fastest.market} "
            f"{fastest.instance_type} ({fastest.p90_hours:,.0f} h P90) but it {why}",
        )
    best = min(ok, key=lambda o: (o.expected_cost_usd, o.p90_hours))
    reason = (
        f"cheapest of {len(ok)} options that meet the constraints: expected "
        f"${best.expected_cost_usd:,.2f} (P90 ${best.p90_cost_usd:,.2f}), "
        f"{best.expected_hours:,.1f} h expected"
    )
    twin_market = "on-demand" if best.market == "spot" else "spot"
    twin = next(
        (o for o in options if o.instance_type == best.instance_type and o.market == twin_market),
        None,
    )
    if twin is not None and twin.feasible:
        diff = twin.expected_cost_usd - best.expected_cost_usd
        reason += f"; {twin_market} on the same type costs ${diff:,.2f} more expected"
        if best.market == "spot":
            later = best.p90_hours - twin.p90_hours
            if later >= 0.05:
                reason += f" but finishes {later:,.1f} h later at P90"
            else:
                reason += " and finishes about as soon at P90"
    return Recommendation(best.instance_type, best.market, reason)


def _with_range_verdict(
    rec: Recommendation, options: list[Option], deadline: float | None, budget: float | None
) -> Recommendation:
    """Say whether the pick survives both ends of every spot row's interruption range.

    Deadline risk is not re-simulated at the ends; cost and hours are.
    """
    if not any(
        o.mtbf_range_hours and o.mtbf_range_hours[0] != o.mtbf_range_hours[1] for o in options
    ):
        return rec
    picks = []
    for end in (0, 1):
        shifted = [o.at_end(end) if o.market == "spot" else o for o in options]
        picks.append(_recommend(shifted, deadline, budget))
    same = all((p.instance_type, p.market) == (rec.instance_type, rec.market) for p in picks)
    if same:
        note = "holds across the interruption range (short and long MTBF ends of every band)"
    else:
        short, long_ = picks
        note = (
            f"does not hold across the interruption range: at the short-MTBF end the pick is "
            f"{short.market or 'none'} {short.instance_type or ''}, at the long end "
            f"{long_.market or 'none'} {long_.instance_type or ''}".rstrip()
        )
    return replace(rec, holds_across_range=same, range_note=note)
