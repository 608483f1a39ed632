"""Live SageMaker on-demand prices from the AWS Price List API (``pricing.get_products``).

The Price List API is served from us-east-1 whatever region you are pricing; SageMaker's
service code is ``AmazonSageMaker``, instance rows have ``productFamily = ML Instance`` and
the training meter is ``platoinstancetype = Training`` (filter set and response shape as
recorded in catalog-facts.md section 5).  boto3 is imported only when a client is needed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

SERVICE_CODE = "AmazonSageMaker"
EC2_SERVICE_CODE = "AmazonEC2"
PRICING_ENDPOINT_REGION = "us-east-1"


class LivePriceError(RuntimeError):
    """The Price List API could not be used (no boto3, no credentials, an API error)."""


def make_client() -> Any:
    """A boto3 pricing client on the us-east-1 endpoint (lazy import)."""
    try:
        import boto3  # type: ignore[import-untyped, unused-ignore]
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise LivePriceError(
            "--live-prices needs boto3: pip install 'preflight-toolkit[aws]'"
        ) from exc
    return boto3.client("pricing", region_name=PRICING_ENDPOINT_REGION)


def _filters(instance: str, region: str) -> list[dict[str, str]]:
    pairs = {
        "productFamily": "ML Instance",
        "regionCode": region,
        "instanceName": instance,
        "platoinstancetype": "Training",
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in pairs.items()]


def _ec2_filters(instance: str, region: str) -> list[dict[str, str]]:
    """Linux, shared tenancy, no pre-installed software, the on-demand capacity meter."""
    pairs = {
        "instanceType": instance.removeprefix("ml."),
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in pairs.items()]


def parse_effective_date(price_list_item: str | dict[str, Any]) -> str | None:
    """The OnDemand term's ``effectiveDate`` as ``YYYY-MM-DD`` (the date the rate took effect)."""
    item = json.loads(price_list_item) if isinstance(price_list_item, str) else price_list_item
    for term in item.get("terms", {}).get("OnDemand", {}).values():
        stamp = term.get("effectiveDate")
        if isinstance(stamp, str) and len(stamp) >= 10:
            return stamp[:10]
    return None


def fetch_dated_prices(
    instances: Iterable[str], region: str, client: Any | None = None, *, service: str = SERVICE_CODE
) -> dict[str, tuple[float, str | None]]:
    """``{instance: (usd per hour, effective date)}`` from the Price List API.

    ``service`` is ``AmazonSageMaker`` (training meter) or ``AmazonEC2`` (Linux on-demand).
    Types without a row are left out; several matching SKUs keep the lowest rate.
    """
    cli = client if client is not None else make_client()
    try:
        from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
            BotoCoreError,
            ClientError,
        )
    except ImportError as exc:  # pragma: no cover
        raise LivePriceError("the Price List API needs boto3/botocore") from exc
    filters = _filters if service == SERVICE_CODE else _ec2_filters
    out: dict[str, tuple[float, str | None]] = {}
    for name in instances:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "ServiceCode": service,
                "Filters": filters(name, region),
                "FormatVersion": "aws_v1",
                "MaxResults": 100,
            }
            if token:
                kwargs["NextToken"] = token
            try:
                resp = cli.get_products(**kwargs)
            except (BotoCoreError, ClientError) as exc:
                raise LivePriceError(f"AWS Price List API: {exc}") from exc
            for item in resp.get("PriceList", []):
                usd = parse_on_demand_usd(item)
                if usd is not None and (name not in out or usd < out[name][0]):
                    out[name] = (usd, parse_effective_date(item))
            token = resp.get("NextToken")
            if not token:
                break
    return out


def parse_on_demand_usd(price_list_item: str | dict[str, Any]) -> float | None:
    """The hourly USD rate of one ``PriceList`` entry (a JSON string in the real API)."""
    item = json.loads(price_list_item) if isinstance(price_list_item, str) else price_list_item
    for term in item.get("terms", {}).get("OnDemand", {}).values():
        for dim in term.get("priceDimensions", {}).values():
            usd = dim.get("pricePerUnit", {}).get("USD")
            if usd is not None and dim.get("unit", "Hrs") in ("Hrs", "Hours", "hour"):
                value = float(usd)
                if value > 0:
                    return value
    return None


def fetch_on_demand_prices(
    instances: Iterable[str], region: str, client: Any | None = None
) -> dict[str, float]:
    """SageMaker training on-demand $/hour for each instance type that the API prices.

    Types the API has no row for are left out (the bundled figure then stands).  Raises
    :class:`LivePriceError` on credential or API errors, with the AWS message.
    """
    dated = fetch_dated_prices(instances, region, client, service=SERVICE_CODE)
    return {name: usd for name, (usd, _date) in dated.items()}
