"""The push feed end to end on real services: ingestion commits to a DuckDB file and pushes to a Redis stream, and a
client following ``/v1/stream`` over HTTP (uvicorn) sees each change within a second, and resumes after a drop."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage
from scalar_ray.feed.redis import RedisChangeFeed
from scalar_ray.ingestion.batcher import FlushPolicy
from scalar_ray.ingestion.worker import IngestionWorker
from scalar_ray.local import RedisServer
from scalar_ray.marketdata import MarketData
from scalar_ray.serving.api import build_api
from scalar_ray.warehouse import DuckDBWarehouse
from tests.integration.conftest import free_port
from tests.unit.serving.fixtures import platform
from tests.unit.spine_helpers import NOW, envelope, observations

pytestmark = pytest.mark.integration

TOPIC = "persistent://scalar/acquisition/entsoe"


@pytest.fixture
def served(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[str, RedisChangeFeed, DuckDBWarehouse]]:
    feed = RedisChangeFeed(f"redis://127.0.0.1:{redis_server.port}/0", key=f"e2e:{uuid.uuid4().hex[:8]}")
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    app = build_api(platform(tmp_path).backend, None, champion_poll_s=3600, market=MarketData(warehouse), feed=feed)
    port = free_port()
    # The asyncio loop: uvloop refuses to close while the feed's Redis connection is still registered with it.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop="asyncio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", feed, warehouse
    server.should_exit = True
    thread.join(timeout=10)
    warehouse.close()
    feed.close()


def follow(url: str, count: int, last_id: str | None, seen: list[tuple[str, dict, float]]) -> None:  # type: ignore[type-arg]
    headers = {"Last-Event-ID": last_id} if last_id else {}
    with httpx.stream("GET", f"{url}/v1/stream", params={"max_events": count}, headers=headers, timeout=30) as answer:
        event_id = None
        for line in answer.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: ") and event_id:
                seen.append((event_id, json.loads(line[6:]), time.monotonic()))
                event_id = None


def test_a_commit_reaches_a_follower_within_a_second_and_a_resume_misses_nothing(
    served: tuple[str, RedisChangeFeed, DuckDBWarehouse],
) -> None:
    url, feed, warehouse = served
    broker = InMemoryBroker()
    worker = IngestionWorker(
        broker.source(), warehouse, None, broker, "dlq", FlushPolicy(max_rows=1, max_age_s=0.01), feed=feed
    )
    seen: list[tuple[str, dict, float]] = []  # type: ignore[type-arg]
    follower = threading.Thread(target=follow, args=(url, 2, None, seen))
    follower.start()
    time.sleep(1.0)  # subscribed (it starts after the newest event)

    committed = []
    for number in range(4):
        payload, properties = envelope(observations([float(number)], issued_at=NOW + timedelta(hours=number))).encode()
        broker.send(OutgoingMessage(TOPIC, payload, properties, "entsoe/A44/DK1"))
        while worker.stats.batches <= number:
            worker.step()
        committed.append(time.monotonic())
    follower.join(timeout=20)

    assert [data["values"][0][1] for _, data, _ in seen] == [0.0, 1.0]
    latencies = [arrived - at for (_, _, arrived), at in zip(seen, committed, strict=False)]
    assert max(latencies) < 1.0, latencies
    # The follower dropped after two; it comes back with its last id and gets exactly the other two.
    resumed: list[tuple[str, dict, float]] = []  # type: ignore[type-arg]
    follow(url, 2, seen[-1][0], resumed)
    assert [data["values"][0][1] for _, data, _ in resumed] == [2.0, 3.0]
