"""Write preflight/data/training_arguments.json from the installed transformers (no import).

Run after upgrading transformers:  .venv/bin/python scripts/snapshot_training_args.py
"""

from __future__ import annotations

import json
from pathlib import Path

from preflight.spec.training_fields import installed_table, table_to_json

OUT = Path(__file__).resolve().parents[1] / "preflight" / "data" / "training_arguments.json"


def main() -> None:
    table = installed_table()
    if table is None:
        raise SystemExit("transformers is not installed: nothing to snapshot")
    OUT.write_text(json.dumps(table_to_json(table), indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(table.fields)} fields of transformers {table.version} to {OUT}")


if __name__ == "__main__":
    main()
