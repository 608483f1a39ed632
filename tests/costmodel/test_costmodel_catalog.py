"""The bundled catalog: every instance resolvable, every price sourced or explicitly missing."""

from __future__ import annotations

import json
from importlib import resources

import pytest

import costmodel
from costmodel import MissingPriceError, UnknownInstanceError, load_catalog

REQUIRED_FAMILIES = {"g5", "g6", "g6e", "p4d", "p4de", "p5"}


def _raw() -> dict[str, object]:
    text = resources.files("costmodel").joinpath("data", "instances.json").read_text()
    return json.loads(text)


def test_required_families_and_regions_present() -> None:
    cat = load_catalog()
    assert REQUIRED_FAMILIES <= {i.family for i in cat.instances.values()}
    for inst in cat.instances.values():
        assert {"us-east-1", "us-west-2"} <= set(inst.on_demand), inst.name
        assert inst.gpu in cat.gpus


def test_every_price_has_a_source_or_says_why_not() -> None:
    raw = _raw()
    sources = raw["sources"]  # type: ignore[index]
    for row in raw["instances"]:  # type: ignore[index,union-attr]
        for region, price in row["on_demand_usd"].items():
            if price["usd"] is None:
                assert price["note"], f"{row['name']} {region}: null price without a note"
            else:
                for key in price["source"].split("+"):
                    assert key in sources, f"{row['name']} {region}: unknown source {key}"
        for spot in row["spot_savings_pct"].values():
            assert 0 < spot["pct"] < 100
            assert spot["source"] in sources


def test_lookup_accepts_the_ec2_spelling_and_suggests() -> None:
    cat = load_catalog()
    assert cat.instance("g5.xlarge").name == "ml.g5.xlarge"
    with pytest.raises(UnknownInstanceError) as err:
        cat.instance("ml.g5.xlarg")
    assert "ml.g5.xlarge" in err.value.suggestions
    assert isinstance(err.value, ValueError)


def test_seed_instance_prices() -> None:
    g5 = load_catalog().instance("ml.g5.xlarge")
    assert g5.gpu == "A10G" and g5.gpu_count == 1 and g5.vcpu == 4 and g5.memory_gib == 16
    assert g5.gpu_memory_gib == pytest.approx(22.03)
    assert g5.on_demand_usd_per_hour("us-west-2") == 1.408
    # Spot Advisor: 59% saving in us-east-1 -> 1.408 x 0.41.
    assert g5.spot_usd_per_hour("us-east-1") == pytest.approx(0.57728)


def test_missing_price_raises_instead_of_guessing() -> None:
    p4de = load_catalog().instance("ml.p4de.24xlarge")
    with pytest.raises(MissingPriceError, match="p4de"):
        p4de.on_demand_usd_per_hour("us-east-1")
    with pytest.raises(MissingPriceError):
        load_catalog().instance("ml.g5.xlarge").on_demand_usd_per_hour("eu-west-1")


def test_effective_tflops_basis() -> None:
    cat = load_catalog()
    tflops, basis = cat.effective_tflops("L40S")
    assert tflops == pytest.approx(362 * cat.default_mfu)
    assert "default MFU" in basis
    # A10G has no sourced peak: only its calibration works, an explicit MFU cannot.
    assert cat.effective_tflops("A10G")[0] == pytest.approx(44.5)
    with pytest.raises(costmodel.MissingThroughputError):
        cat.effective_tflops("A10G", mfu=0.4)


def test_live_price_override_keeps_the_rest() -> None:
    cat = load_catalog()
    live = cat.with_on_demand_prices("us-east-1", {"ml.g5.xlarge": 1.5}, "test")
    assert live.instance("ml.g5.xlarge").on_demand_usd_per_hour("us-east-1") == 1.5
    assert live.instance("ml.g5.xlarge").on_demand_usd_per_hour("us-west-2") == 1.408
    assert cat.instance("ml.g5.xlarge").on_demand_usd_per_hour("us-east-1") == 1.408
