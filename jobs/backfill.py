"""`ray job submit -- python -m jobs.backfill --datasets entsoe/A44 --start 2026-10-01 --end 2026-11-01`.

Fetches a date range for the chosen datasets in parallel windows (Ray Data, one provider client per worker), validates
each window as ingestion would, and writes through the warehouse datasink. Progress is printed while it runs; the
summary lists rows per dataset and every window that failed (the others are written regardless).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from typing import Any

import pyarrow as pa
import ray

from jobs.datasink import WarehouseDatasink
from scalar_ray.acquisition.backfill import BackfillItem, BackfillTally, fetch_item, plan_backfill
from scalar_ray.composition import acquisition_tasks
from scalar_ray.config import Settings, load_settings
from scalar_ray.core.durations import fixed_duration
from scalar_ray.core.observations import OBSERVATION_SCHEMA
from scalar_ray.providers.client import ProviderClient
from scalar_ray.providers.clients import build_client
from scalar_ray.providers.fetching import window_from

# Outcomes reported by the fetch workers, read by the driver.
BackfillProgress: Any = ray.remote(num_cpus=0)(BackfillTally)  # Ray's stub types a remote class as a function


# One client per provider in each worker process, kept across its fetch tasks (connections and the request budget
# are reused); Ray gives every job its own worker processes, so the settings are those of this job.
_CLIENTS: dict[str, ProviderClient] = {}


def fetch_windows(batch: dict[str, Any], settings: Settings, progress: Any) -> pa.Table:
    """Ray Data task: fetch, validate and report each item of the batch.

    A task rather than an actor pool: Ray Data hands a pool's actors their constructor arguments through the object
    store while restarting them on failure, which Ray warns cannot be relied on (ray-project/ray#53727); a failed
    task is simply retried.
    """
    tables = []
    for row in range(len(batch["provider"])):
        item = BackfillItem.from_row({name: column[row] for name, column in batch.items()})
        client = _CLIENTS.get(item.provider) or build_client(item.provider, settings)
        _CLIENTS[item.provider] = client
        outcome = fetch_item(client, item)
        progress.report.remote(
            item.name, f"{item.provider}/{item.dataset_id}", outcome.observations.num_rows, outcome.error
        )
        tables.append(outcome.observations)
    return pa.concat_tables(tables) if tables else OBSERVATION_SCHEMA.empty_table()


def run(settings: Settings, items: list[BackfillItem], concurrency: int) -> BackfillTally:
    """Fetch and write every item; return the tally, with the rows written."""
    progress = BackfillProgress.remote(len(items))
    sink = WarehouseDatasink(settings, job_id=f"backfill-{uuid.uuid4().hex[:8]}")
    finished = threading.Event()

    def report() -> None:
        while not finished.wait(5):
            print(ray.get(progress.snapshot.remote()).progress_line(), flush=True)

    reporter = threading.Thread(target=report, daemon=True)
    reporter.start()
    try:
        dataset = ray.data.from_items([item.as_row() for item in items]).map_batches(
            fetch_windows,  # type: ignore[arg-type]  # Ray Data's stub does not see the keyword arguments
            fn_kwargs={"settings": settings, "progress": progress},
            batch_size=1,
            batch_format="numpy",
            compute=ray.data.TaskPoolStrategy(size=concurrency),
            num_cpus=0.5,  # fetching waits on the network; two per core keeps the providers busy
        )
        dataset.write_datasink(sink)
    finally:
        finished.set()
    tally: BackfillTally = ray.get(progress.snapshot.remote())
    tally.written = sink.rows_written
    return tally


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print the summary; exit status 1 when something failed."""
    parser = argparse.ArgumentParser(prog="python -m jobs.backfill", description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", required=True, help="comma-separated provider/dataset ids, e.g. entsoe/A44")
    parser.add_argument("--areas", help="comma-separated areas (default: every area of each dataset)")
    parser.add_argument("--start", help="ISO-8601 start (UTC unless it has an offset)")
    parser.add_argument("--end", help="ISO-8601 end (default: now)")
    parser.add_argument("--last", help="ISO-8601 duration back from --end, e.g. P7D")
    parser.add_argument("--piece", default="P1D", help="window per task (default P1D)")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel fetch workers (default 4)")
    args = parser.parse_args(argv)
    environment = dict(os.environ)
    environment["SCALAR_ACQUISITION__DATASETS"] = args.datasets
    if args.areas:
        environment["SCALAR_ACQUISITION__AREAS"] = args.areas
    settings = load_settings(environment)
    window = window_from(args.start, args.end, args.last)
    if window is None:
        parser.error("give --start or --last")
    providers = sorted({name.split("/")[0] for name in settings.acquisition.datasets or []})
    tasks = [task for provider in providers for task in acquisition_tasks(settings, provider)]
    if not tasks:
        parser.error(f"no catalogue dataset matches {args.datasets!r} (and areas {args.areas!r})")
    items = plan_backfill(tasks, window, fixed_duration(args.piece))
    ray.init(address="auto", namespace=settings.ray.namespace, log_to_driver=False)
    started = time.monotonic()
    tally = run(settings, items, args.concurrency)
    print(
        f"\nbackfill of {len(tasks)} task(s) over {window}: {tally.written:,} rows written "
        f"in {time.monotonic() - started:.0f} s"
    )
    print("\n".join(tally.summary_lines()))
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
