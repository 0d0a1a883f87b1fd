"""One contract for every cache: the in-memory fake and the Redis adapter on a real Redis server (its Lua merge).

The rule that matters most: an older vintage never replaces a newer one, however the two arrive.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
import redis

from scalar_ray.cache.base import Cache, InMemoryCache
from scalar_ray.cache.redis import RedisCache
from scalar_ray.core.forecasts import FORECAST_SCHEMA
from scalar_ray.local import RedisServer
from tests.unit.spine_helpers import HOUR, NOW, forecast_issue, observations

pytestmark = pytest.mark.integration

SERIES = "entsoe/A44/DK1/price"
OTHER = "entsoe/A44/DK2/price"
KEEP = 4


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    adapter: Cache
    if request.param == "memory":
        adapter = InMemoryCache(points_per_series=KEEP)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        client = redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
        adapter = RedisCache(client, points_per_series=KEEP, prefix=f"contract-{uuid.uuid4().hex[:8]}")
    yield adapter
    adapter.close()


def values(cache: Cache, series: str = SERIES, count: int = 10) -> list[float]:
    return [point.value for point in cache.recent(series, count)]


def test_the_last_points_are_kept_oldest_first_and_the_latest_is_the_newest_interval(cache: Cache) -> None:
    touched = cache.update(observations([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))

    assert touched == 1
    assert values(cache) == [3.0, 4.0, 5.0, 6.0]
    assert values(cache, count=2) == [5.0, 6.0]
    latest = cache.latest(SERIES)
    assert latest is not None and latest.ts == HOUR + timedelta(minutes=75) and latest.value == 6.0


def test_an_older_vintage_arriving_later_never_replaces_a_newer_one(cache: Cache) -> None:
    cache.update(observations([10.0, 11.0], issued_at=NOW))

    cache.update(observations([7.0, 8.0], issued_at=NOW - timedelta(hours=5)))

    assert values(cache) == [10.0, 11.0]
    assert {point.issued_at for point in cache.recent(SERIES, 2)} == {NOW}


def test_a_newer_vintage_replaces_the_older_one_and_a_redelivery_changes_nothing(cache: Cache) -> None:
    cache.update(observations([7.0, 8.0], issued_at=NOW - timedelta(hours=5)))
    cache.update(observations([10.0], issued_at=NOW))
    cache.update(observations([10.0], issued_at=NOW))

    assert values(cache) == [10.0, 8.0]
    assert [point.issued_at for point in cache.recent(SERIES, 2)] == [NOW, NOW - timedelta(hours=5)]


def test_within_one_batch_the_newest_vintage_of_an_interval_wins(cache: Cache) -> None:
    both = pa.concat_tables([observations([3.0], issued_at=NOW), observations([1.0], issued_at=NOW - timedelta(1))])

    cache.update(both)

    assert values(cache) == [3.0]


def test_several_series_are_answered_at_once_and_unknown_ones_are_empty(cache: Cache) -> None:
    cache.update(observations([1.0, 2.0]))
    cache.update(observations([5.0], area="DK2"))

    answered = cache.recent_many([SERIES, OTHER, "entsoe/A44/SE3/price"], 1)

    assert {series: [p.value for p in points] for series, points in answered.items()} == {
        SERIES: [2.0],
        OTHER: [5.0],
        "entsoe/A44/SE3/price": [],
    }
    assert cache.recent(SERIES, 0) == [] and cache.recent_many([SERIES], 0) == {SERIES: []}
    assert cache.latest("entsoe/A44/SE3/price") is None


def test_times_come_back_exactly_in_utc(cache: Cache) -> None:
    odd = datetime(2026, 10, 25, 1, 59, 59, 999_999, tzinfo=UTC)  # the long DST night, to the microsecond

    cache.update(observations([4.5], start=odd, issued_at=odd - timedelta(microseconds=1)))

    point = cache.recent(SERIES, 1)[0]
    assert (point.ts, point.issued_at, point.value) == (odd, odd - timedelta(microseconds=1), 4.5)
    assert point.ts.utcoffset() == timedelta(0)


# Forecasts: each model's newest issue, whole, whatever order the issues arrive in.
ISSUE = datetime(2026, 10, 25, 0, 30, 17, 123_456, tzinfo=UTC)  # the long DST night, to the microsecond


def test_a_models_newest_issue_is_kept_whole_and_read_back_as_forecasts_rows(cache: Cache) -> None:
    issued = forecast_issue(ISSUE, "v1", 100.0)

    assert cache.update_forecasts(issued) == 1

    held = cache.latest_forecast("dk_demand", "DK1")
    assert held is not None and held.schema.equals(FORECAST_SCHEMA)
    assert held.to_pylist() == issued.to_pylist()
    assert cache.latest_issue_time("dk_demand", "DK1") == ISSUE
    assert cache.latest_forecast("dk_demand", "DK2") is None and cache.latest_issue_time("dk_demand", "DK2") is None


def test_an_older_issue_arriving_later_never_replaces_a_newer_one(cache: Cache) -> None:
    cache.update_forecasts(forecast_issue(ISSUE, "v2", 200.0))

    cache.update_forecasts(forecast_issue(ISSUE - timedelta(hours=1), "v1", 100.0))

    held = cache.latest_forecast("dk_demand", "DK1")
    assert held is not None and set(held["model_version"].to_pylist()) == {"v2"}
    assert cache.latest_issue_time("dk_demand", "DK1") == ISSUE


def test_one_batch_of_several_issues_and_models_keeps_each_models_newest(cache: Cache) -> None:
    batch = pa.concat_tables(
        [
            forecast_issue(ISSUE + timedelta(hours=1), "v1", 150.0),
            forecast_issue(ISSUE, "v1", 100.0),
            forecast_issue(ISSUE, "v1", 5.0, zone="DK2"),
        ]
    )

    assert cache.update_forecasts(batch) == 2

    dk1, dk2 = cache.latest_forecast("dk_demand", "DK1"), cache.latest_forecast("dk_demand", "DK2")
    assert dk1 is not None and set(dk1["mean"].to_pylist()) == {150.0, 151.0, 152.0}
    assert dk2 is not None and dk2.num_rows == 6
    assert cache.latest_issue_time("dk_demand", "DK1") == ISSUE + timedelta(hours=1)
