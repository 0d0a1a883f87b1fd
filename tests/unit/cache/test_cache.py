"""The cache's semantics (newest vintage wins, last N points) and the best-effort guard's back-off."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa

from scalar_ray.cache.base import BestEffortCache, InMemoryCache
from tests.unit.spine_helpers import HOUR, NOW, observations

SERIES = "entsoe/A44/DK1/price"


def test_only_the_last_points_are_kept_and_the_latest_is_the_newest_interval() -> None:
    cache = InMemoryCache(points_per_series=3)

    cache.update(observations([1.0, 2.0, 3.0, 4.0, 5.0]))

    assert [p.value for p in cache.recent(SERIES, 10)] == [3.0, 4.0, 5.0]
    latest = cache.latest(SERIES)
    assert latest is not None
    assert latest.ts == HOUR + timedelta(minutes=60)


def test_an_older_vintage_arriving_late_does_not_replace_a_newer_one() -> None:
    cache = InMemoryCache()
    cache.update(observations([10.0], issued_at=NOW))

    cache.update(observations([7.0], issued_at=NOW - timedelta(hours=5)))

    assert cache.recent(SERIES, 1)[0].value == 10.0


class Failing(InMemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.broken = True

    def update(self, observations: pa.Table) -> int:
        self.calls += 1
        if self.broken:
            raise TimeoutError("no answer")
        return super().update(observations)


def test_the_guard_backs_off_after_a_failure_and_tries_again_later() -> None:
    now = [0.0]
    inner = Failing()
    guard = BestEffortCache(inner, backoff_s=2.0, clock=lambda: now[0])

    assert guard.update(observations([1.0])) == 0
    assert guard.update(observations([1.0])) == 0  # within the back-off: not even tried
    assert inner.calls == 1
    now[0] = 2.5
    inner.broken = False

    assert guard.update(observations([1.0])) == 1
    assert guard.stats.failures == 1
    assert guard.stats.last_error.startswith("TimeoutError")
