"""The hardware and price catalog: GPUs, SageMaker training instance types, MFU and MTBF defaults.

Every figure lives in ``costmodel/data/*.json`` with its source and the date it was checked; this
module only reads those files into typed, immutable objects.  A price that no citable source gave
is ``None`` (never a guess), and asking for it raises :class:`MissingPriceError`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from costmodel.errors import (
    MissingPriceError,
    MissingThroughputError,
    UnknownGPUError,
    UnknownInstanceError,
    close_matches,
)


@dataclass(frozen=True)
class GPU:
    """Peak figures of one GPU (per device, dense)."""

    name: str
    memory_gib: float
    memory_bandwidth_gb_s: float | None
    bf16_tflops: float | None
    fp16_tflops: float | None
    fp32_tflops: float | None
    source: str
    note: str | None = None

    @property
    def peak_tflops(self) -> float | None:
        """The half-precision tensor peak a mixed-precision job can use (BF16, else FP16)."""
        return self.bf16_tflops if self.bf16_tflops is not None else self.fp16_tflops


#: A price or spot figure older than this many days is flagged in every report.
PRICE_MAX_AGE_DAYS = 90


@dataclass(frozen=True)
class Price:
    """One on-demand $/hour figure with where it came from.

    ``as_of`` is the date the source states (None when it is undated: its age then counts
    from ``checked``, the day the project last compared it with its source); ``stale`` marks
    a figure known to predate a price change.
    """

    usd: float | None
    basis: str
    source: str | None
    note: str | None = None
    as_of: str | None = None
    checked: str | None = None
    stale: bool = False
    stale_reason: str | None = None

    def age_days(self, today: dt.date | None = None) -> int | None:
        """Days since ``as_of`` (else ``checked``); None when neither is known."""
        stamp = self.as_of or self.checked
        if stamp is None:
            return None
        return ((today or dt.date.today()) - dt.date.fromisoformat(stamp)).days

    def warning(self, today: dt.date | None = None) -> str | None:
        """Why this figure should not be trusted as is, or None."""
        if self.usd is None:
            return None
        if self.stale:
            return f"stale: {self.stale_reason or 'flagged stale in the catalog'}"
        if self.basis == "inferred":
            return f"not a first-party figure for this region: {self.note or 'inferred'}"
        age = self.age_days(today)
        if age is not None and age > PRICE_MAX_AGE_DAYS:
            return f"{age} days old (over {PRICE_MAX_AGE_DAYS})"
        return None

    def describe(self, today: dt.date | None = None) -> str:
        """``$1.408/h (price-list, ANON-TRAIN, undated source, checked 2026-11-24 (7 d ago))``."""
        if self.usd is None:
            return "no price"
        age = self.age_days(today)
        if self.as_of:
            when = f"as of {self.as_of}" + (f", {age} d old" if age is not None else "")
        elif self.checked:
            when = f"undated source, checked {self.checked}" + (
                f" ({age} d ago)" if age is not None else ""
            )
        else:
            when = "undated source"
        return f"${self.usd:,.4g}/h ({self.basis}, {self.source or 'no source'}, {when})"


@dataclass(frozen=True)
class SpotSaving:
    """The typical managed-spot saving for one type and region, with where it came from."""

    pct: float
    basis: str
    source: str | None
    as_of: str | None = None

    def age_days(self, today: dt.date | None = None) -> int | None:
        """Days since ``as_of``."""
        if self.as_of is None:
            return None
        return ((today or dt.date.today()) - dt.date.fromisoformat(self.as_of)).days


@dataclass(frozen=True)
class InterruptionRisk:
    """The spot interruption band of one type and region and the MTBF range it implies.

    ``mtbf_low_hours`` is the pessimistic end (the band's high share), ``mtbf_high_hours``
    the optimistic one (``inf``: no interruption); ``mtbf_hours`` is what single-figure
    answers use (the pessimistic end, or the caller's own figure).
    """

    band: str | None
    mtbf_low_hours: float
    mtbf_high_hours: float
    basis: str
    source: str
    as_of: str | None

    @property
    def mtbf_hours(self) -> float:
        """The figure single-number answers use: the pessimistic end."""
        return self.mtbf_low_hours

    @property
    def is_range(self) -> bool:
        """Whether the two ends differ."""
        return self.mtbf_low_hours != self.mtbf_high_hours

    def describe(self) -> str:
        """One line: band, MTBF range and basis."""
        hi = (
            "no interruption"
            if math.isinf(self.mtbf_high_hours)
            else f"{self.mtbf_high_hours:,.0f} h"
        )
        rng = (
            f"MTBF {self.mtbf_low_hours:,.0f} h"
            if not self.is_range
            else f"MTBF {self.mtbf_low_hours:,.0f} h to {hi}"
        )
        band = f"advisor band {self.band}, " if self.band else ""
        when = f", as of {self.as_of}" if self.as_of else ""
        return f"{band}{rng} ({self.basis}{when})"


def mtbf_from_monthly_share(share: float, month_hours: float = 730.0) -> float:
    """MTBF of a constant-rate process that interrupts ``share`` of month-long instances.

    ``P(interrupted within a month) = 1 - exp(-month/MTBF) = share``.  ``share = 0`` gives
    ``inf``.  The month-long life is the stated assumption of docs/costmodel.md.
    """
    if not 0.0 <= share < 1.0:
        raise ValueError("a monthly interruption share must be in [0, 1)")
    if share == 0.0:
        return math.inf
    return -month_hours / math.log1p(-share)


@dataclass(frozen=True)
class InstanceType:
    """A SageMaker training instance type: hardware plus prices per region."""

    name: str
    family: str
    gpu: str
    gpu_count: int
    gpu_memory_gib: float
    vcpu: int
    memory_gib: float
    on_demand: Mapping[str, Price] = field(default_factory=dict)
    spot_savings_pct: Mapping[str, float] = field(default_factory=dict)
    spot_savings_basis: Mapping[str, str] = field(default_factory=dict)
    spot_savings: Mapping[str, SpotSaving] = field(default_factory=dict)
    spot_price_override: Mapping[str, float] = field(default_factory=dict)

    def price(self, region: str) -> Price:
        """The on-demand price record for ``region`` (usd may be None)."""
        found = self.on_demand.get(region)
        if found is None:
            return Price(None, "missing", None, f"region {region} not in the catalog")
        return found

    def on_demand_usd_per_hour(self, region: str = "us-east-1") -> float:
        """SageMaker training on-demand $/hour; raises MissingPriceError when unsourced."""
        p = self.price(region)
        if p.usd is None:
            raise MissingPriceError(self.name, region, p.note)
        return p.usd

    def spot_usd_per_hour(self, region: str = "us-east-1") -> float:
        """Effective managed-spot $/hour: on-demand x (1 - typical saving).

        SageMaker bills spot at the on-demand rate for fewer billable seconds, so the saving
        (EC2 Spot Advisor's 30-day figure for the same type) is what turns into an hourly rate.
        """
        given = self.spot_price_override.get(region)
        if given is not None:
            return given
        pct = self.spot_savings_pct.get(region)
        if pct is None:
            raise MissingPriceError(self.name, region, "no spot saving figure for this region")
        return self.on_demand_usd_per_hour(region) * (1.0 - pct / 100.0)

    def spot_basis(self, region: str, today: dt.date | None = None) -> str:
        """Where the spot rate comes from, with its age."""
        if region in self.spot_price_override:
            return f"${self.spot_price_override[region]:,.4g}/h spot (given)"
        sav = self.spot_savings.get(region)
        pct = self.spot_savings_pct.get(region)
        if pct is None:
            return "no spot saving figure"
        if sav is None or sav.basis == "given":
            return f"spot saving {pct:g}% ({'given' if sav else 'catalog'})"
        age = sav.age_days(today)
        aged = f", {age} d old" if age is not None else ""
        return f"spot saving {pct:g}% ({sav.basis}, {sav.source}, as of {sav.as_of}{aged})"

    def spot_warning(self, region: str, today: dt.date | None = None) -> str | None:
        """Why the spot saving should not be trusted as is, or None."""
        if region in self.spot_price_override:
            return None
        sav = self.spot_savings.get(region)
        if sav is None or sav.basis == "given":
            return None
        age = sav.age_days(today)
        if age is not None and age > PRICE_MAX_AGE_DAYS:
            return f"spot saving {age} days old (over {PRICE_MAX_AGE_DAYS})"
        return None


@dataclass(frozen=True)
class Calibration:
    """An achieved-throughput figure for a GPU, with how it was derived."""

    gpu: str
    effective_tflops: float
    derivation: str
    source: str
    label: str


@dataclass(frozen=True)
class Catalog:
    """Everything costmodel knows about hardware, prices and defaults."""

    gpus: Mapping[str, GPU]
    instances: Mapping[str, InstanceType]
    default_mfu: float
    default_mfu_basis: str
    calibrations: Mapping[str, Calibration]
    family_mtbf_hours: Mapping[str, float]
    default_mtbf_hours: float
    mtbf_basis: str
    price_source: str = "bundled catalog (costmodel/data/instances.json, checked 2026-11-24)"
    interruption_bands: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    band_table: tuple[tuple[str, float, float | None], ...] = ()
    month_hours: float = 730.0
    interruption_source: str = ""
    interruption_as_of: str | None = None
    observed_mtbf_hours: float | None = None
    published_mfu: Mapping[tuple[str, str], tuple[float, ...]] = field(default_factory=dict)

    def instance(self, name: str) -> InstanceType:
        """Look an instance up by ``ml.g5.xlarge`` (or ``g5.xlarge``)."""
        key = name if name.startswith("ml.") else f"ml.{name}"
        found = self.instances.get(key)
        if found is None:
            raise UnknownInstanceError(name, close_matches(name, self.instances))
        return found

    def gpu(self, name: str) -> GPU:
        """Look a GPU up by its catalog name (``A10G``, ``A100-80GB``)."""
        found = self.gpus.get(name)
        if found is None:
            raise UnknownGPUError(name, close_matches(name, self.gpus))
        return found

    def mtbf_hours(self, instance: InstanceType, region: str = "us-east-1") -> float:
        """Default mean time between spot interruptions: the pessimistic end of its band."""
        return self.interruption(instance, region).mtbf_hours

    def interruption(self, instance: InstanceType, region: str = "us-east-1") -> InterruptionRisk:
        """The advisor band of ``instance`` in ``region`` and the MTBF range it implies."""
        ec2 = instance.name.removeprefix("ml.")
        idx = self.interruption_bands.get(region, {}).get(ec2)
        if idx is None or idx >= len(self.band_table):
            m = self.family_mtbf_hours.get(instance.family, self.default_mtbf_hours)
            return InterruptionRisk(
                None, m, m, f"not in the advisor feed for {region}: {self.mtbf_basis}", "", None
            )
        label, low_pct, high_pct = self.band_table[idx]
        optimistic = mtbf_from_monthly_share(low_pct / 100.0, self.month_hours)
        if high_pct is None:
            pessimistic = self.observed_mtbf_hours or self.default_mtbf_hours
            basis = (
                f"-{self.month_hours:g}/ln(1-f) at f={low_pct:g}%; the band has no upper share, "
                f"so the short end is the seed's observed {pessimistic:g} h"
            )
        else:
            pessimistic = mtbf_from_monthly_share(high_pct / 100.0, self.month_hours)
            basis = f"-{self.month_hours:g}/ln(1-f) for f={low_pct:g}-{high_pct:g}% a month"
        return InterruptionRisk(
            label, pessimistic, optimistic, basis, self.interruption_source, self.interruption_as_of
        )

    def effective_tflops(self, gpu_name: str, mfu: float | None = None) -> tuple[float, str]:
        """Achieved TFLOPS per GPU for fine-tuning, and a one-line statement of its basis.

        An explicit ``mfu`` always multiplies the peak; without one a calibrated figure wins
        over ``peak x default_mfu`` because it was observed rather than assumed.
        """
        gpu = self.gpu(gpu_name)
        peak = gpu.peak_tflops
        if mfu is not None:
            if peak is None:
                raise MissingThroughputError(gpu_name)
            return peak * mfu, f"{peak:g} TFLOPS peak x MFU {mfu:g} (given)"
        cal = self.calibrations.get(gpu_name)
        if cal is not None:
            return (
                cal.effective_tflops,
                f"{cal.effective_tflops:g} TFLOPS, calibrated on {cal.label}",
            )
        if peak is None:
            raise MissingThroughputError(gpu_name)
        return (
            peak * self.default_mfu,
            f"{peak:g} TFLOPS peak x default MFU {self.default_mfu:g}",
        )

    def with_on_demand_prices(
        self, region: str, prices: Mapping[str, float], source: str
    ) -> Catalog:
        """A copy whose on-demand prices in ``region`` are replaced (e.g. by live Price List data)."""
        instances = dict(self.instances)
        for name, usd in prices.items():
            inst = instances.get(name)
            if inst is None:
                continue
            od = dict(inst.on_demand)
            od[region] = Price(usd, "live", source, None, checked=dt.date.today().isoformat())
            instances[name] = replace(inst, on_demand=od)
        return replace(self, instances=instances, price_source=source)

    def with_overrides(
        self,
        region: str,
        *,
        prices: Mapping[str, float] | None = None,
        spot_prices: Mapping[str, float] | None = None,
        spot_discount_pct: float | None = None,
    ) -> Catalog:
        """A copy with the user's own on-demand prices, spot prices or spot discount.

        Negotiated rates and savings plans change what a job costs; the overrides are shown
        as ``given`` in every report.  Names are looked up as :meth:`instance` does.
        """
        instances = dict(self.instances)
        for raw, usd in (prices or {}).items():
            inst = self.instance(raw)
            od = dict(instances[inst.name].on_demand)
            od[region] = Price(float(usd), "given", "user", "given with --price or budget.prices")
            instances[inst.name] = replace(instances[inst.name], on_demand=od)
        if spot_discount_pct is not None:
            for name, inst in instances.items():
                pct = dict(inst.spot_savings_pct)
                pct[region] = float(spot_discount_pct)
                sav = dict(inst.spot_savings)
                sav[region] = SpotSaving(float(spot_discount_pct), "given", "user", None)
                instances[name] = replace(inst, spot_savings_pct=pct, spot_savings=sav)
        for raw, usd in (spot_prices or {}).items():
            inst = self.instance(raw)
            sp = dict(instances[inst.name].spot_price_override)
            sp[region] = float(usd)
            instances[inst.name] = replace(instances[inst.name], spot_price_override=sp)
        return replace(self, instances=instances)


def _read_json(name: str) -> Any:
    text = resources.files("costmodel").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def gpu_family(name: str) -> str:
    """``A100-40GB`` and ``A100-80GB`` are one silicon (same peak): MFU is shared by family."""
    return name.split("-")[0]


def published_row_mfu(row: Mapping[str, Any], bf16_peak: float) -> float:
    """The MFU one published throughput implies, with costmodel's own FLOPs count.

    FP8 rows are compared with the FP8 dense peak, 2 x the BF16 one (Hopper).
    """
    from costmodel.workload import Workload

    lora = row["method"] in ("lora", "qlora")
    total = int(row["params_total"])
    work = Workload(
        params_total=total,
        params_trainable=4_194_304 if lora else total,
        num_layers=int(row["num_layers"]),
        hidden_size=int(row["hidden_size"]),
        embedding_params=int(row["embedding_params"]),
        tokens_per_example=float(row["seq_len"]),
        max_steps=1,
        lora=lora,
        gradient_checkpointing=bool(row["gradient_checkpointing"]),
    )
    if "tokens_per_second_per_gpu" in row:
        tok_s = float(row["tokens_per_second_per_gpu"])
    else:
        tok_s = row["examples_per_step"] * row["seq_len"] / row["seconds_per_step"] / row["gpus"]
    peak = bf16_peak * (2.0 if row.get("precision") == "fp8" else 1.0)
    return tok_s * work.flops_per_token() / 1e12 / peak


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Read the bundled catalog (cached: the files never change while a process runs)."""
    gpu_doc = _read_json("gpus.json")
    gpus = {
        g["name"]: GPU(
            name=g["name"],
            memory_gib=float(g["memory_gib"]),
            memory_bandwidth_gb_s=_opt_float(g.get("memory_bandwidth_gb_s")),
            bf16_tflops=_opt_float(g.get("bf16_tflops")),
            fp16_tflops=_opt_float(g.get("fp16_tflops")),
            fp32_tflops=_opt_float(g.get("fp32_tflops")),
            source=g["source"],
            note=g.get("note"),
        )
        for g in gpu_doc["gpus"]
    }
    inst_doc = _read_json("instances.json")
    instances: dict[str, InstanceType] = {}
    for row in inst_doc["instances"]:
        gpu = gpus[row["gpu"]]
        instances[row["name"]] = InstanceType(
            name=row["name"],
            family=row["family"],
            gpu=row["gpu"],
            gpu_count=int(row["gpu_count"]),
            gpu_memory_gib=gpu.memory_gib,
            vcpu=int(row["vcpu"]),
            memory_gib=float(row["memory_gib"]),
            on_demand={
                region: Price(
                    _opt_float(p["usd"]),
                    p["basis"],
                    p.get("source"),
                    p.get("note"),
                    as_of=p.get("as_of"),
                    checked=p.get("checked", inst_doc.get("checked")),
                    stale=bool(p.get("stale", False)),
                    stale_reason=p.get("stale_reason"),
                )
                for region, p in row["on_demand_usd"].items()
            },
            spot_savings_pct={r: float(s["pct"]) for r, s in row["spot_savings_pct"].items()},
            spot_savings_basis={r: s["basis"] for r, s in row["spot_savings_pct"].items()},
            spot_savings={
                r: SpotSaving(float(s["pct"]), s["basis"], s.get("source"), s.get("as_of"))
                for r, s in row["spot_savings_pct"].items()
            },
        )
    mfu_doc = _read_json("mfu.json")
    calibrations = {
        c["gpu"]: Calibration(
            c["gpu"], float(c["effective_tflops"]), c["derivation"], c["source"], c["label"]
        )
        for c in mfu_doc["calibrations"]
    }
    published: dict[tuple[str, str], list[float]] = {}
    for row in mfu_doc.get("published", {}).get("rows", []):
        peak = gpus[row["gpu"]].peak_tflops
        if peak is not None:
            key = (gpu_family(row["gpu"]), row["method"])
            published.setdefault(key, []).append(published_row_mfu(row, peak))
    mtbf_doc = _read_json("interruptions.json")
    observed = [float(o["interrupted_after_hours"]) for o in mtbf_doc.get("observations", [])]
    return Catalog(
        gpus=gpus,
        instances=instances,
        default_mfu=float(mfu_doc["default_mfu"]),
        default_mfu_basis=mfu_doc["default_mfu_basis"],
        calibrations=calibrations,
        family_mtbf_hours={
            k: float(v["mtbf_hours"]) for k, v in mtbf_doc.get("families", {}).items()
        },
        default_mtbf_hours=float(mtbf_doc["default_mtbf_hours"]),
        mtbf_basis=mtbf_doc["default_basis"],
        interruption_bands={
            region: {t: int(i) for t, i in types.items()}
            for region, types in mtbf_doc.get("regions", {}).items()
        },
        band_table=tuple(
            (b["label"], float(b["low_pct"]), _opt_float(b["high_pct"]))
            for b in mtbf_doc.get("bands", [])
        ),
        month_hours=float(mtbf_doc.get("month_hours", 730.0)),
        interruption_source=mtbf_doc.get("source", ""),
        interruption_as_of=mtbf_doc.get("as_of"),
        observed_mtbf_hours=min(observed) if observed else None,
        published_mfu={k: tuple(sorted(v)) for k, v in published.items()},
    )
