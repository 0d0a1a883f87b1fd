"""GET /v1/stream: committed changes as Server-Sent Events, filtered, live and resumable without a gap."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scalar_ray.feed import InMemoryChangeFeed, change_events
from scalar_ray.marketdata import MarketData
from scalar_ray.serving.api import build_api
from scalar_ray.warehouse import InMemoryWarehouse
from tests.unit.serving.fixtures import platform
from tests.unit.spine_helpers import NOW, observations


@pytest.fixture
def feed() -> InMemoryChangeFeed:
    return InMemoryChangeFeed(retention=timedelta(hours=6))


@pytest.fixture
def api(tmp_path: Path, feed: InMemoryChangeFeed) -> Iterator[TestClient]:
    app = build_api(
        platform(tmp_path).backend, None, champion_poll_s=3600, market=MarketData(InMemoryWarehouse()), feed=feed
    )
    with TestClient(app) as client:
        yield client


def events(client: TestClient, params: dict[str, object], headers: dict[str, str] | None = None) -> list[dict]:  # type: ignore[type-arg]
    """The change events of a stream opened with ``max_events`` (it closes after them)."""
    received: list[dict] = []  # type: ignore[type-arg]
    current: dict[str, str] = {}
    with client.stream("GET", "/v1/stream", params=params, headers=headers or {}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if current.get("event") in ("change", "gap"):
                    received.append({"id": current.get("id"), "event": current["event"], **json.loads(current["data"])})
                current = {}
                continue
            field, _, value = line.partition(": ")
            current[field] = value
    return received


def push(feed: InMemoryChangeFeed, value: float, area: str = "DK1", hours: int = 0) -> str:
    return feed.publish(change_events(observations([value], area=area, issued_at=NOW + timedelta(hours=hours))))[0]


def test_a_subscriber_sees_a_change_committed_after_it_connected_within_a_second(
    api: TestClient, feed: InMemoryChangeFeed
) -> None:
    push(feed, 1.0)  # before the subscriber: not sent to it
    sent: dict[str, float] = {}

    def later() -> None:
        time.sleep(0.5)
        sent["at"] = time.monotonic()
        push(feed, 2.0, hours=1)

    threading.Thread(target=later).start()
    received = events(api, {"max_events": 1})
    latency = time.monotonic() - sent["at"]

    assert [event["values"][0][1] for event in received] == [2.0]
    assert received[0]["series_id"] == "entsoe/A44/DK1/price" and received[0]["n_values"] == 1
    assert latency < 1.0


def test_resuming_with_last_event_id_misses_nothing_and_repeats_nothing(
    api: TestClient, feed: InMemoryChangeFeed
) -> None:
    ids = [push(feed, float(n), hours=n) for n in range(5)]

    first = events(api, {"last_id": "0", "max_events": 2})  # then the connection drops
    resumed = events(api, {"max_events": 3}, headers={"Last-Event-ID": first[-1]["id"]})

    assert [event["id"] for event in first + resumed] == ids


def test_filters_by_series_or_attributes(api: TestClient, feed: InMemoryChangeFeed) -> None:
    push(feed, 1.0, area="DK1")
    push(feed, 2.0, area="DK2", hours=1)
    push(feed, 3.0, area="DK1", hours=2)

    by_area = events(api, {"last_id": "0", "area": "dk2", "max_events": 1})
    by_id = events(api, {"last_id": "0", "id": "entsoe/A44/DK1/price", "max_events": 2})

    assert [event["values"][0][1] for event in by_area] == [2.0]
    assert [event["values"][0][1] for event in by_id] == [1.0, 3.0]


def test_a_resume_from_before_the_retention_is_told_a_gap(tmp_path: Path) -> None:
    clock = {"now": 1_000.0}
    feed = InMemoryChangeFeed(retention=timedelta(seconds=60), clock=lambda: clock["now"])
    app = build_api(
        platform(tmp_path).backend, None, champion_poll_s=3600, market=MarketData(InMemoryWarehouse()), feed=feed
    )
    old = push(feed, 1.0)
    clock["now"] += 120  # the first event is now past the retention
    push(feed, 2.0, hours=1)
    with TestClient(app) as client:
        received = events(client, {"max_events": 1}, headers={"Last-Event-ID": "0"})
        not_lost = events(client, {"max_events": 1}, headers={"Last-Event-ID": old})

    assert [event["event"] for event in received] == ["gap", "change"] and received[1]["values"][0][1] == 2.0
    assert [event["event"] for event in not_lost] == ["change"]  # it had seen the trimmed event: nothing lost


def test_a_malformed_last_event_id_is_refused(api: TestClient) -> None:
    answer = api.get("/v1/stream", headers={"Last-Event-ID": "not-an-id"})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request"
