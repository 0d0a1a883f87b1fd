"""The real-time cache port: the latest points of every series, for dashboards and the forecast API.

The cache is never on ingestion's critical path: ``BestEffortCache`` wraps any adapter, swallows its failures,
stops calling it for a back-off period and tries again later, so a Redis outage costs freshness of the cache only.
"""

from __future__ import annotations

import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from typing_extensions import override

from scalar_ray.core.backoff import Backoff

__all__ = ["BestEffortCache", "Cache", "CacheStats", "CachedPoint", "InMemoryCache", "latest_per_key"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class CachedPoint:
    """One interval of a series with the vintage the cache holds for it."""

    ts: datetime
    value: float
    issued_at: datetime


class Cache(ABC):
    """Latest value and the last N points per series."""

    @abstractmethod
    def update(self, observations: pa.Table) -> int:
        """Merge canonical rows (a newer vintage of an interval replaces an older one); return series touched."""

    @abstractmethod
    def recent(self, series_id: str, count: int) -> list[CachedPoint]:
        """Up to ``count`` latest intervals of the series, oldest first."""

    def recent_many(self, series_ids: Sequence[str], count: int) -> dict[str, list[CachedPoint]]:
        """``recent`` for several series at once (adapters answer in one round trip)."""
        return {series_id: self.recent(series_id, count) for series_id in series_ids}

    def latest(self, series_id: str) -> CachedPoint | None:
        """The series' latest interval, or None when the cache has none."""
        points = self.recent(series_id, 1)
        return points[-1] if points else None

    def close(self) -> None:  # noqa: B027 - the fake holds nothing
        """Release connections."""


def latest_per_key(observations: pa.Table) -> dict[str, list[tuple[datetime, float, datetime]]]:
    """Rows grouped by series as (ts, value, issued_at), keeping the newest vintage per interval."""
    grouped: dict[str, dict[datetime, tuple[float, datetime]]] = {}
    columns = observations.select(["series_id", "ts", "value", "issued_at"]).to_pydict()
    for series_id, ts, value, issued_at in zip(
        columns["series_id"], columns["ts"], columns["value"], columns["issued_at"], strict=True
    ):
        points = grouped.setdefault(series_id, {})
        if ts not in points or issued_at >= points[ts][1]:
            points[ts] = (value, issued_at)
    return {
        series_id: sorted((ts, value, issued) for ts, (value, issued) in points.items())
        for series_id, points in grouped.items()
    }


class InMemoryCache(Cache):
    """The cache's semantics in a dictionary, for unit tests."""

    def __init__(self, points_per_series: int = 192) -> None:
        self.points_per_series = points_per_series
        self._series: dict[str, dict[datetime, CachedPoint]] = {}

    @override
    def update(self, observations: pa.Table) -> int:
        grouped = latest_per_key(observations)
        for series_id, rows in grouped.items():
            points = self._series.setdefault(series_id, {})
            for ts, value, issued_at in rows:
                held = points.get(ts)
                if held is None or issued_at >= held.issued_at:
                    points[ts] = CachedPoint(ts, value, issued_at)
            for stale in sorted(points)[: max(0, len(points) - self.points_per_series)]:
                del points[stale]
        return len(grouped)

    @override
    def recent(self, series_id: str, count: int) -> list[CachedPoint]:
        points = self._series.get(series_id, {})
        return [points[ts] for ts in sorted(points)[-count:]] if count > 0 else []


@dataclass
class CacheStats:
    """How the cache path is doing."""

    updates: int = 0
    failures: int = 0
    disabled_until: float = 0.0
    last_error: str = ""


class BestEffortCache(Cache):
    """Calls the wrapped cache unless it failed recently; never raises."""

    def __init__(
        self,
        inner: Cache,
        *,
        backoff_s: float = 2.0,
        max_backoff_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._backoff = Backoff(backoff_s, max_backoff_s)
        self._clock = clock
        self._failures_in_row = 0
        self.stats = CacheStats()

    @property
    def enabled(self) -> bool:
        """Whether the next call goes to the cache (False while backing off after a failure)."""
        return self._clock() >= self.stats.disabled_until

    @override
    def update(self, observations: pa.Table) -> int:
        if not self.enabled:
            return 0
        try:
            touched = self._inner.update(observations)
        except Exception as exc:
            self._failed(exc)
            return 0
        self.stats.updates += 1
        self._failures_in_row = 0
        return touched

    @override
    def recent(self, series_id: str, count: int) -> list[CachedPoint]:
        if not self.enabled:
            return []
        try:
            return self._inner.recent(series_id, count)
        except Exception as exc:
            self._failed(exc)
            return []

    @override
    def recent_many(self, series_ids: Sequence[str], count: int) -> dict[str, list[CachedPoint]]:
        if not self.enabled:
            return {}
        try:
            return self._inner.recent_many(series_ids, count)
        except Exception as exc:
            self._failed(exc)
            return {}

    def _failed(self, exc: Exception) -> None:
        self.stats.failures += 1
        self.stats.last_error = f"{type(exc).__name__}: {exc}"
        self._failures_in_row += 1
        pause = self._backoff.delay(self._failures_in_row)
        self.stats.disabled_until = self._clock() + pause
        logger.warning("cache unavailable, retrying in %.0f s: %s", pause, self.stats.last_error)

    @override
    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection: nothing left to do
            self._inner.close()
