"""`ray job submit -- python -m jobs.replay --provider entsoe [--since 2026-11-20T00:00Z] [--until ...]`.

Re-loads what a provider's topic holds (all of it, or the messages published in a time range) into the warehouse:
after a warehouse restore, a schema fix, or to reprocess dead letters (``--topic`` with the dead-letter topic).
It reads with a Pulsar reader (no subscription, so live ingestion is untouched), validates each message as ingestion
does, and loads the observations in bulk: chunks staged under the replay's load id, merged once at the end (by key, so
a replay can be repeated safely, and a replay that fails leaves nothing staged).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import pulsar
import pyarrow as pa
import ray

from scalar_ray.broker.topics import acquisition_topic
from scalar_ray.composition import forecast_targets, pulsar_client, worker_warehouse
from scalar_ray.config import Settings, load_settings
from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.utc import parse_utc
from scalar_ray.ingestion.judging import judge_message
from scalar_ray.warehouse.base import BULK_CHUNK_ROWS, Warehouse, content_digest

logger = logging.getLogger(__name__)


def replay(
    settings: Settings, topic: str, since: datetime | None, until: datetime | None, chunk_rows: int = BULK_CHUNK_ROWS
) -> dict[str, Any]:
    """Read ``topic`` from ``since`` (or its start) to ``until`` (or its end) and write what passes validation."""
    client = pulsar_client(settings)
    warehouse, targets = worker_warehouse(settings), forecast_targets()  # once: forecast messages reuse them
    summary = {"messages": 0, "rejected": 0, "rows": 0, "written": 0}
    load_id = f"replay-{uuid.uuid4().hex[:8]}"
    pending: list[pa.Table] = []
    try:
        reader = client.create_reader(topic, pulsar.MessageId.earliest)
        if since is not None:
            reader.seek(int(since.timestamp() * 1000))
        while reader.has_message_available():
            message = reader.read_next(timeout_millis=10_000)
            # Skipped, not the end: a partitioned topic's reader interleaves its partitions, so a later message in
            # one partition can come before earlier ones in another.
            if until is not None and message.publish_timestamp() > until.timestamp() * 1000:
                continue
            summary["messages"] += 1
            judged = judge_message(message.data(), dict(message.properties()), datetime.now(UTC), targets)
            if not judged.accepted:
                summary["rejected"] += 1
                logger.warning("skipping %s: %s", message.message_id(), "; ".join(judged.reasons))
            elif judged.forecasts is not None:  # into the forecasts table, as ingestion stores them
                summary["written"] += warehouse.write_forecasts(judged.forecasts).rows
            elif judged.observations is not None:
                pending.append(judged.observations)
                summary["rows"] += judged.observations.num_rows
                if sum(table.num_rows for table in pending) >= chunk_rows:
                    summary["written"] += _stage(warehouse, load_id, pending)
                    pending = []
        if pending:
            summary["written"] += _stage(warehouse, load_id, pending)
        warehouse.merge_staged(load_id)
    except BaseException:
        with contextlib.suppress(WarehouseError):
            warehouse.discard_staged(load_id)
        raise
    finally:
        client.close()
        warehouse.close()
    return summary


def _stage(warehouse: Warehouse, load_id: str, tables: list[pa.Table]) -> int:
    chunk = pa.concat_tables(tables)
    return warehouse.stage(chunk, load_id, content_digest(chunk, salt=load_id))


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print the summary; exit status 1 when a message was rejected or a write failed."""
    parser = argparse.ArgumentParser(prog="python -m jobs.replay", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--provider", help="replay persistent://<tenant>/acquisition/<provider>")
    target.add_argument("--topic", help="replay this fully qualified topic")
    parser.add_argument("--since", help="first publish time (ISO-8601)")
    parser.add_argument("--until", help="last publish time (ISO-8601)")
    args = parser.parse_args(argv)
    settings = load_settings()
    topic = args.topic or acquisition_topic(settings.broker.tenant, args.provider)
    ray.init(address="auto", namespace=settings.ray.namespace, log_to_driver=False)
    since = parse_utc(args.since) if args.since else None
    until = parse_utc(args.until) if args.until else None
    try:
        summary = replay(settings, topic, since, until)
    except WarehouseError as exc:
        print(f"replay of {topic} failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"replayed {topic}: {summary['messages']} messages, {summary['rejected']} rejected, "
        f"{summary['written']:,} rows written"
    )
    return 1 if summary["rejected"] else 0


if __name__ == "__main__":
    sys.exit(main())
