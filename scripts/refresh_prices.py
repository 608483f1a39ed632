"""Refresh the bundled SageMaker and EC2 on-demand prices from the AWS Price List API.

Needs AWS credentials that may call ``pricing:GetProducts``.  For every region it asks
``AmazonSageMaker`` (training meter) and ``AmazonEC2`` (Linux, shared tenancy) for each
instance type, prints the differences from ``costmodel/data/instances.json`` and writes a
refreshed copy to ``--out`` (default: a new file next to the catalog; the bundled file is
replaced only with ``--in-place``).  Each refreshed row records the rate's effective date
(``as_of``), the day it was fetched (``checked``) and its source, and loses any stale flag;
prices the API does not return keep their value, source and flags.

    .venv/bin/python scripts/refresh_prices.py --region us-east-1 --region us-west-2
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from costmodel.pricing import EC2_SERVICE_CODE, SERVICE_CODE, LivePriceError, fetch_dated_prices

CATALOG = Path(__file__).resolve().parents[1] / "costmodel" / "data" / "instances.json"


def main(argv: list[str] | None = None, client: Any | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--region", action="append", help="Region to refresh (repeatable).")
    ap.add_argument("--instances", help="Comma-separated ml.* types (default: the whole catalog).")
    ap.add_argument("--catalog", type=Path, default=CATALOG, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--in-place", action="store_true", help="Overwrite the bundled catalog.")
    args = ap.parse_args(argv)
    regions = args.region or ["us-east-1", "us-west-2"]
    catalog: Path = args.catalog
    out: Path = (
        catalog if args.in_place else (args.out or catalog.with_name("instances.refreshed.json"))
    )
    if out.exists() and not args.in_place:
        print(f"error: {out} exists; remove it or pass another --out", file=sys.stderr)
        return 2
    doc = json.loads(catalog.read_text(encoding="utf-8"))
    names = [row["name"] for row in doc["instances"]]
    if args.instances:
        wanted = [
            n.strip() if n.strip().startswith("ml.") else f"ml.{n.strip()}"
            for n in args.instances.split(",")
        ]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            print(f"error: --instances: not in the catalog: {', '.join(unknown)}", file=sys.stderr)
            return 2
        names = wanted
    today = dt.date.today().isoformat()
    changed = 0
    for region in regions:
        try:
            sm = fetch_dated_prices(names, region, client, service=SERVICE_CODE)
            ec2 = fetch_dated_prices(names, region, client, service=EC2_SERVICE_CODE)
        except LivePriceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for row in doc["instances"]:
            name = row["name"]
            if name in ec2:
                row.setdefault("ec2_on_demand_usd", {})[region] = ec2[name][0]
            if name not in sm:
                continue
            usd, as_of = sm[name]
            old = row["on_demand_usd"].get(region, {}).get("usd")
            if old != usd:
                changed += 1
                print(f"{region} {name}: {old} -> {usd}")
            row["on_demand_usd"][region] = {
                "usd": usd,
                "basis": "price-list",
                "source": "PRICE-LIST-API",
                "note": f"AWS Price List API, AmazonSageMaker Training, fetched {today}",
                "as_of": as_of,
                "checked": today,
                "stale": False,
            }
    doc["sources"]["PRICE-LIST-API"] = (
        "AWS Price List API (pricing.get_products, AmazonSageMaker Training and AmazonEC2 Linux)"
    )
    doc["checked"] = today
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"{changed} price(s) changed; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
