"""--live-prices against botocore's Stubber.

moto (5.2.5 here) does not implement the Price List API (no ``moto/pricing`` backend and no
``get_products`` handler), so moto's server mode cannot answer these calls.  botocore's Stubber
validates our request against the real service model (operation, parameter names, filter
shapes) and returns a response shaped like the real one: PriceList items are JSON strings with
``terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD`` (aws-cli's get-products example).
"""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from botocore.stub import Stubber

from costmodel.pricing import LivePriceError, fetch_on_demand_prices, parse_on_demand_usd


def _item(instance: str, usd: str, component: str = "Training") -> str:
    sku = "ABCDEFGHJKLMNPQR"
    return json.dumps(
        {
            "product": {
                "productFamily": "ML Instance",
                "attributes": {
                    "regionCode": "us-east-1",
                    "instanceName": instance,
                    "platoinstancetype": component,
                    "usagetype": f"USE1-Train:{instance}",
                },
                "sku": sku,
            },
            "serviceCode": "AmazonSageMaker",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "pricePerUnit": {"USD": usd},
                                "description": f"${usd} per {component} {instance} hour",
                                "beginRange": "0",
                                "endRange": "Inf",
                                "appliesTo": [],
                            }
                        },
                        "sku": sku,
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20261101000000",
            "publicationDate": "2026-11-01T00:00:00Z",
        }
    )


def _expected(instance: str, token: str | None = None) -> dict[str, object]:
    params: dict[str, object] = {
        "ServiceCode": "AmazonSageMaker",
        "Filters": [
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "ML Instance"},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
            {"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance},
            {"Type": "TERM_MATCH", "Field": "platoinstancetype", "Value": "Training"},
        ],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    if token:
        params["NextToken"] = token
    return params


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    return boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_fetch_parses_and_paginates(client) -> None:  # type: ignore[no-untyped-def]
    with Stubber(client) as stub:
        stub.add_response(
            "get_products",
            {
                "FormatVersion": "aws_v1",
                "PriceList": [_item("ml.g5.xlarge", "1.4080000000")],
                "NextToken": "page2",
            },
            _expected("ml.g5.xlarge"),
        )
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [_item("ml.g5.xlarge", "1.5000000000")]},
            _expected("ml.g5.xlarge", "page2"),
        )
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": []},
            _expected("ml.p4de.24xlarge"),
        )
        prices = fetch_on_demand_prices(["ml.g5.xlarge", "ml.p4de.24xlarge"], "us-east-1", client)
        stub.assert_no_pending_responses()
    # lowest of the matching Training SKUs; types without a row are left out
    assert prices == {"ml.g5.xlarge": 1.408}


def test_api_errors_become_live_price_errors(client) -> None:  # type: ignore[no-untyped-def]
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_products", service_error_code="AccessDeniedException", service_message="nope"
        )
        with pytest.raises(LivePriceError, match="AccessDenied"):
            fetch_on_demand_prices(["ml.g5.xlarge"], "us-east-1", client)


def test_parse_ignores_zero_and_non_hourly_rates() -> None:
    assert parse_on_demand_usd(_item("ml.g5.xlarge", "0.0000000000")) is None
    item = json.loads(_item("ml.g5.xlarge", "2.0"))
    dims = next(iter(item["terms"]["OnDemand"].values()))["priceDimensions"]
    next(iter(dims.values()))["unit"] = "GB-Mo"
    assert parse_on_demand_usd(item) is None


def test_import_costmodel_stays_light() -> None:
    code = (
        "import sys, costmodel; costmodel.load_catalog();"
        "heavy = [m for m in ('boto3', 'botocore', 'matplotlib', 'torch') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
