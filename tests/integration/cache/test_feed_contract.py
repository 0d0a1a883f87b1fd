"""One contract for the change feed: the in-memory fake and a Redis stream on a real Redis server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from scalar_ray.feed import (
    MAX_VALUES_PER_EVENT,
    ChangeEvent,
    ChangeFeed,
    InMemoryChangeFeed,
    change_events,
)
from scalar_ray.feed.redis import RedisChangeFeed
from scalar_ray.local import RedisServer
from tests.unit.spine_helpers import NOW, observations

pytestmark = pytest.mark.integration

SERIES = "entsoe/A44/DK1/price"
H = timedelta(hours=1)


@pytest.fixture(params=["memory", "redis"])
def feed(request: pytest.FixtureRequest) -> Iterator[ChangeFeed]:
    adapter: ChangeFeed
    if request.param == "memory":
        adapter = InMemoryChangeFeed(retention=timedelta(seconds=2))
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        url = f"redis://127.0.0.1:{server.port}/0"
        adapter = RedisChangeFeed(url, retention=timedelta(seconds=2), key=f"contract:{uuid.uuid4().hex[:8]}")
    yield adapter
    adapter.close()


def order(event_id: str) -> tuple[int, int]:
    milliseconds, sequence = event_id.split("-")
    return int(milliseconds), int(sequence)


def read(feed: ChangeFeed, after: str, block_ms: int = 200) -> tuple[list[ChangeEvent], bool]:
    answer = asyncio.run(feed.read(after, block_ms=block_ms))
    return answer.events, answer.gap


def test_events_come_back_in_order_with_increasing_ids_and_their_values(feed: ChangeFeed) -> None:
    first = feed.publish(change_events(observations([1.0, 2.0, 3.0])))
    second = feed.publish(change_events(observations([4.0], issued_at=NOW + H)))

    events, gap = read(feed, "0")

    assert [event.event_id for event in events] == first + second and not gap
    assert order(first[-1]) < order(second[0])  # ids increase
    assert [value for _, value in events[0].values] == [1.0, 2.0, 3.0] and events[0].series_id == SERIES
    assert events[1].issued_at == NOW + H and events[1].begin == events[1].end


def test_a_subscriber_resumes_after_its_last_id_without_a_gap_or_a_repeat(feed: ChangeFeed) -> None:
    ids = [feed.publish(change_events(observations([float(n)], issued_at=NOW + n * H)))[0] for n in range(5)]

    seen, _ = read(feed, "0")
    resumed, gap = read(feed, seen[2].event_id)  # it lost its connection after the third

    assert [event.event_id for event in resumed] == ids[3:] and not gap
    assert asyncio.run(feed.last_id()) == ids[-1]


def test_a_read_waits_for_the_next_event_and_returns_it_at_once(feed: ChangeFeed) -> None:
    start = asyncio.run(feed.last_id())

    async def wait_then_publish() -> tuple[list[ChangeEvent], float]:
        async def later() -> None:
            await asyncio.sleep(0.3)
            await asyncio.to_thread(feed.publish, change_events(observations([9.0])))

        publisher = asyncio.create_task(later())
        started = time.monotonic()
        answer = await feed.read(start, block_ms=5000)
        await publisher
        return answer.events, time.monotonic() - started

    events, waited = asyncio.run(wait_then_publish())
    assert [value for _, value in events[0].values] == [9.0]
    assert 0.2 < waited < 2.0  # woken by the event, not by the timeout


def test_resuming_from_before_the_retention_reports_the_gap(feed: ChangeFeed) -> None:
    old = feed.publish(change_events(observations([1.0])))
    time.sleep(2.2)  # past the retention of 2 s
    new = feed.publish(change_events(observations([2.0], issued_at=NOW + H)))

    events, gap = read(feed, "0")
    from_old, gap_after_old = read(feed, old[0])

    assert gap and [event.event_id for event in events] == new  # the first event was trimmed
    assert not gap_after_old and [event.event_id for event in from_old] == new  # it had seen the trimmed one


def test_a_large_group_is_split_and_an_empty_batch_publishes_nothing(feed: ChangeFeed) -> None:
    big = change_events(observations([1.0] * (MAX_VALUES_PER_EVENT + 5)))

    assert [len(event.values) for event in big] == [MAX_VALUES_PER_EVENT, 5]
    assert feed.publish(change_events(observations([]))) == []
