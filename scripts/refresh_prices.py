"""Refresh the bundled SageMaker on-demand prices from the AWS Price List API.

Needs AWS credentials that may call ``pricing:GetProducts``.  Prints the differences from
``costmodel/data/instances.json`` and writes a refreshed copy to ``--out`` (default: a new file
next to the catalog; the bundled file is replaced only with ``--in-place``).  Prices the API
does not return keep their current value and source.

    .venv/bin/python scripts/refresh_prices.py --region us-east-1 --region us-west-2
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from costmodel.pricing import LivePriceError, fetch_on_demand_prices

CATALOG = Path(__file__).resolve().parents[1] / "costmodel" / "data" / "instances.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", action="append", help="Region to refresh (repeatable).")
    ap.add_argument("--out", type=Path, default=CATALOG.with_name("instances.refreshed.json"))
    ap.add_argument("--in-place", action="store_true", help="Overwrite the bundled catalog.")
    args = ap.parse_args(argv)
    regions = args.region or ["us-east-1", "us-west-2"]
    out: Path = CATALOG if args.in_place else args.out
    if out.exists() and not args.in_place:
        print(f"error: {out} exists; remove it or pass another --out", file=sys.stderr)
        return 2
    doc = json.loads(CATALOG.read_text(encoding="utf-8"))
    names = [row["name"] for row in doc["instances"]]
    today = dt.date.today().isoformat()
    changed = 0
    for region in regions:
        try:
            prices = fetch_on_demand_prices(names, region)
        except LivePriceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for row in doc["instances"]:
            usd = prices.get(row["name"])
            if usd is None:
                continue
            old = row["on_demand_usd"].get(region, {}).get("usd")
            if old != usd:
                changed += 1
                print(f"{region} {row['name']}: {old} -> {usd}")
            row["on_demand_usd"][region] = {
                "usd": usd,
                "basis": "price-list",
                "source": "PRICE-LIST-API",
                "note": f"AWS Price List API, AmazonSageMaker Training, fetched {today}",
            }
    doc["sources"]["PRICE-LIST-API"] = "AWS Price List API (pricing.get_products, AmazonSageMaker)"
    doc["checked"] = today
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"{changed} price(s) changed; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
