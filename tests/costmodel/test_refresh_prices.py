"""scripts/refresh_prices.py against botocore's Stubber (moto has no Price List API).

The fixture documents follow the GetProducts shape recorded in catalog-facts.md section 5 (aws-cli
``examples/pricing/get-products.rst``): ``PriceList`` is a list of JSON *strings*, each with
``product.attributes``, and ``terms.OnDemand.<sku>.<JRTCKXETXF>`` holding ``effectiveDate``
and ``priceDimensions.*.pricePerUnit.USD`` as a decimal string with unit ``Hrs``.  The rates
are made up for the test; only their shape is real.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

ROOT = Path(__file__).resolve().parents[2]


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "refresh_prices", ROOT / "scripts" / "refresh_prices.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _product(sku: str, attrs: dict[str, str], usd: str, service: str, date: str) -> str:
    term = f"{sku}.JRTCKXETXF"
    return json.dumps(
        {
            "product": {
                "productFamily": attrs.pop("productFamily"),
                "attributes": attrs,
                "sku": sku,
            },
            "serviceCode": service,
            "terms": {
                "OnDemand": {
                    term: {
                        "priceDimensions": {
                            f"{term}.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "endRange": "Inf",
                                "description": "per hour",
                                "appliesTo": [],
                                "rateCode": f"{term}.6YS6EN2CT7",
                                "beginRange": "0",
                                "pricePerUnit": {"USD": usd},
                            }
                        },
                        "sku": sku,
                        "effectiveDate": f"{date}T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20251101000000",
            "publicationDate": "2025-11-01T00:00:00Z",
        }
    )


def test_refresh_writes_dated_first_party_rows(tmp_path: Path) -> None:
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    sm_doc = _product(
        "SKUSM1",
        {
            "productFamily": "ML Instance",
            "regionCode": "us-east-1",
            "instanceName": "ml.p5.48xlarge",
            "platoinstancetype": "Training",
            "usagetype": "USE1-Train:ml.p5.48xlarge",
        },
        "61.0000000000",
        "AmazonSageMaker",
        "2025-06-01",
    )
    ec2_doc = _product(
        "SKUEC1",
        {
            "productFamily": "Compute Instance",
            "regionCode": "us-east-1",
            "instanceType": "p5.48xlarge",
            "operatingSystem": "Linux",
            "tenancy": "Shared",
        },
        "55.0400000000",
        "AmazonEC2",
        "2025-06-01",
    )
    with Stubber(client) as stub:
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [sm_doc]},
            {
                "ServiceCode": "AmazonSageMaker",
                "Filters": [
                    {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "ML Instance"},
                    {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
                    {"Type": "TERM_MATCH", "Field": "instanceName", "Value": "ml.p5.48xlarge"},
                    {"Type": "TERM_MATCH", "Field": "platoinstancetype", "Value": "Training"},
                ],
                "FormatVersion": "aws_v1",
                "MaxResults": 100,
            },
        )
        stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [ec2_doc]})
        out = tmp_path / "refreshed.json"
        code = _script().main(
            ["--region", "us-east-1", "--instances", "ml.p5.48xlarge", "--out", str(out)],
            client=client,
        )
        stub.assert_no_pending_responses()
    assert code == 0
    doc = json.loads(out.read_text())
    row = next(r for r in doc["instances"] if r["name"] == "ml.p5.48xlarge")
    price = row["on_demand_usd"]["us-east-1"]
    assert price["usd"] == 61.0 and price["as_of"] == "2025-06-01"
    assert price["stale"] is False and price["source"] == "PRICE-LIST-API"
    assert row["ec2_on_demand_usd"]["us-east-1"] == 55.04
    # Untouched rows keep their flags: p4d was not asked for and stays stale.
    p4d = next(r for r in doc["instances"] if r["name"] == "ml.p4d.24xlarge")
    assert p4d["on_demand_usd"]["us-east-1"]["stale"] is True


def test_refresh_refuses_to_overwrite_and_unknown_types(tmp_path: Path) -> None:
    out = tmp_path / "exists.json"
    out.write_text("{}")
    assert _script().main(["--out", str(out)]) == 2
    assert out.read_text() == "{}"
    assert _script().main(["--instances", "ml.nope.xlarge", "--out", str(tmp_path / "n.json")]) == 2


def test_api_errors_are_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_client_error("get_products", "AccessDeniedException", "not allowed")
        code = _script().main(
            [
                "--instances",
                "ml.g5.xlarge",
                "--region",
                "us-east-1",
                "--out",
                str(tmp_path / "o.json"),
            ],
            client=client,
        )
    assert code == 2 and "not allowed" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()
