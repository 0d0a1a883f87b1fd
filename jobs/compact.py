"""`ray job submit -- python -m jobs.compact --keep P400D`: retention and compaction of the warehouse.

Drops intervals older than the retention horizon and reclaims their space (DuckDB: delete + checkpoint; StarRocks:
delete on the primary-key table, whose versions StarRocks compacts itself). The seed compacted every 60 minutes; on
AKS a RayCronJob runs this hourly.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import ray

from actors.warehouse import ensure_warehouse_actor
from scalar_ray.composition import worker_warehouse
from scalar_ray.config import load_settings
from scalar_ray.core.durations import add_duration, parse_duration
from scalar_ray.core.errors import WarehouseError


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print the summary; exit status 1 when the warehouse refused the compaction."""
    parser = argparse.ArgumentParser(prog="python -m jobs.compact", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", default="P400D", help="ISO-8601 retention, e.g. P400D (default)")
    args = parser.parse_args(argv)
    settings = load_settings()
    keep_after = add_duration(datetime.now(UTC), parse_duration(args.keep), -1)
    if settings.warehouse.kind == "duckdb":
        ray.init(address="auto", namespace=settings.ray.namespace, log_to_driver=False)
        ensure_warehouse_actor(settings)
    warehouse = worker_warehouse(settings)
    try:
        dropped = warehouse.compact(keep_after)
    except WarehouseError as exc:
        print(f"compaction failed: {exc}", file=sys.stderr)
        return 1
    print(f"compacted {settings.warehouse.kind}: {dropped:,} rows before {keep_after.isoformat()} dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
