"""The hardware and price catalog: GPUs, SageMaker training instance types, MFU and MTBF defaults.

Every figure lives in ``costmodel/data/*.json`` with its source and the date it was checked; this
module only reads those files into typed, immutable objects.  A price that no citable source gave
is ``None`` (never a guess), and asking for it raises :class:`MissingPriceError`.
"""

from __future__ import annotations

import json
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


@dataclass(frozen=True)
class Price:
    """One on-demand $/hour figure with where it came from."""

    usd: float | None
    basis: str
    source: str | None
    note: str | None = None


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
        pct = self.spot_savings_pct.get(region)
        if pct is None:
            raise MissingPriceError(self.name, region, "no spot saving figure for this region")
        return self.on_demand_usd_per_hour(region) * (1.0 - pct / 100.0)


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

    def mtbf_hours(self, instance: InstanceType) -> float:
        """Default mean time between spot interruptions for this instance's family."""
        return self.family_mtbf_hours.get(instance.family, self.default_mtbf_hours)

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
            od[region] = Price(usd, "live", source, None)
            instances[name] = replace(inst, on_demand=od)
        return replace(self, instances=instances, price_source=source)


def _read_json(name: str) -> Any:
    text = resources.files("costmodel").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


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
                region: Price(_opt_float(p["usd"]), p["basis"], p.get("source"), p.get("note"))
                for region, p in row["on_demand_usd"].items()
            },
            spot_savings_pct={r: float(s["pct"]) for r, s in row["spot_savings_pct"].items()},
            spot_savings_basis={r: s["basis"] for r, s in row["spot_savings_pct"].items()},
        )
    mfu_doc = _read_json("mfu.json")
    calibrations = {
        c["gpu"]: Calibration(
            c["gpu"], float(c["effective_tflops"]), c["derivation"], c["source"], c["label"]
        )
        for c in mfu_doc["calibrations"]
    }
    mtbf_doc = _read_json("interruptions.json")
    return Catalog(
        gpus=gpus,
        instances=instances,
        default_mfu=float(mfu_doc["default_mfu"]),
        default_mfu_basis=mfu_doc["default_mfu_basis"],
        calibrations=calibrations,
        family_mtbf_hours={k: float(v["mtbf_hours"]) for k, v in mtbf_doc["families"].items()},
        default_mtbf_hours=float(mtbf_doc["default_mtbf_hours"]),
        mtbf_basis=mtbf_doc["default_basis"],
    )
