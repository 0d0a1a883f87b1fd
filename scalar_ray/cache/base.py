"""The real-time cache port: the latest points of every series and each model's newest forecast issue.

Series points serve dashboards; forecast issues serve the forecast API's "latest" without reading the warehouse.

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
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from typing_extensions import override

from scalar_ray.core.backoff import Backoff

__all__ = [
    "BestEffortCache",
    "Cache",
    "CacheStats",
    "CachedPoint",
    "InMemoryCache",
    "latest_per_key",
    "newest_issues",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


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

    @abstractmethod
    def update_forecasts(self, forecasts: pa.Table) -> int:
        """Keep each model's newest issue of forecasts-table rows (an older issue never replaces a newer one).

        Returns the models whose issue the rows carried.
        """

    @abstractmethod
    def latest_forecast(self, family: str, zone: str) -> pa.Table | None:
        """The rows of the newest issue held for the model, or None."""

    @abstractmethod
    def latest_issue_time(self, family: str, zone: str) -> datetime | None:
        """When the newest issue held for the model was issued (cheaper than reading its rows), or None."""

    def close(self) -> None:  # noqa: B027 - the fake holds nothing
        """Release connections."""


def newest_issues(forecasts: pa.Table) -> dict[tuple[str, str], tuple[datetime, pa.Table]]:
    """Per (family, zone): the newest issue time in the rows and that issue's rows."""
    found: dict[tuple[str, str], tuple[datetime, pa.Table]] = {}
    if forecasts.num_rows == 0:
        return found
    issues = forecasts.group_by(["family", "zone"]).aggregate([("issued_at", "max")])
    for family, zone, issued_at in zip(
        issues["family"].to_pylist(), issues["zone"].to_pylist(), issues["issued_at_max"].to_pylist(), strict=True
    ):
        chosen = pc.and_(
            pc.and_(pc.equal(forecasts["family"], family), pc.equal(forecasts["zone"], zone)),
            pc.equal(forecasts["issued_at"], pa.scalar(issued_at, forecasts.schema.field("issued_at").type)),
        )
        found[(family, zone)] = (issued_at, forecasts.filter(chosen))
    return found


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
        self._issues: dict[tuple[str, str], tuple[datetime, pa.Table]] = {}

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

    @override
    def update_forecasts(self, forecasts: pa.Table) -> int:
        issues = newest_issues(forecasts)
        for model, (issued_at, rows) in issues.items():
            held = self._issues.get(model)
            if held is None or issued_at >= held[0]:
                self._issues[model] = (issued_at, rows)
        return len(issues)

    @override
    def latest_forecast(self, family: str, zone: str) -> pa.Table | None:
        held = self._issues.get((family, zone))
        return held[1] if held else None

    @override
    def latest_issue_time(self, family: str, zone: str) -> datetime | None:
        held = self._issues.get((family, zone))
        return held[0] if held else None


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
        return self._guarded(lambda: self._inner.update(observations), 0, counts=True)

    @override
    def recent(self, series_id: str, count: int) -> list[CachedPoint]:
        return self._guarded(lambda: self._inner.recent(series_id, count), [])

    @override
    def recent_many(self, series_ids: Sequence[str], count: int) -> dict[str, list[CachedPoint]]:
        return self._guarded(lambda: self._inner.recent_many(series_ids, count), {})

    @override
    def update_forecasts(self, forecasts: pa.Table) -> int:
        return self._guarded(lambda: self._inner.update_forecasts(forecasts), 0, counts=True)

    @override
    def latest_forecast(self, family: str, zone: str) -> pa.Table | None:
        return self._guarded(lambda: self._inner.latest_forecast(family, zone), None)

    @override
    def latest_issue_time(self, family: str, zone: str) -> datetime | None:
        return self._guarded(lambda: self._inner.latest_issue_time(family, zone), None)

    def _guarded(self, call: Callable[[], T], fallback: T, *, counts: bool = False) -> T:
        """``call()``'s answer, or ``fallback`` while backing off or when it fails (an update also counts)."""
        if not self.enabled:
            return fallback
        try:
            answer = call()
        except Exception as exc:
            self._failed(exc)
            return fallback
        if counts:
            self.stats.updates += 1
            self._failures_in_row = 0
        return answer

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
