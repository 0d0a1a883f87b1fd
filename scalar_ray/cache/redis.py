"""Redis adapter of the cache: a sorted set per series, a hash per model's newest forecast issue.

Series: ``<prefix>:recent:<series_id>``, scored by interval start, merged by a server-side script. Forecasts:
``<prefix>:forecast:<family>/<zone>`` holds ``issued`` (microseconds since the epoch) and ``rows`` (the issue's
forecasts-table rows as a base64 Arrow IPC stream: the client decodes responses as text).

Both merges run in Redis (one Lua call per batch) so concurrent ingestion replicas cannot interleave a read and a
write: an older vintage (or issue) arriving late never replaces a newer one, and each set is trimmed to the last N
intervals.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import redis
from typing_extensions import override

from scalar_ray.cache.base import Cache, CachedPoint, latest_per_key, newest_issues
from scalar_ray.config.settings import CacheSettings
from scalar_ray.core.arrow_ipc import from_ipc, to_ipc
from scalar_ray.core.forecasts import FORECAST_SCHEMA

__all__ = ["RedisCache"]

# KEYS: one sorted set per series. ARGV: keep, then per key a count followed by (ts_us, issued_us, value) triples.
_MERGE = """
local keep = tonumber(ARGV[1])
local at = 2
for k = 1, #KEYS do
  local key = KEYS[k]
  local n = tonumber(ARGV[at]); at = at + 1
  for i = 1, n do
    local ts, issued, value = ARGV[at], ARGV[at + 1], ARGV[at + 2]; at = at + 3
    local held = redis.call('ZRANGEBYSCORE', key, ts, ts)
    local newer = true
    if #held > 0 then
      local held_issued = tonumber(string.match(held[1], '^[^|]*|([^|]*)|'))
      if held_issued > tonumber(issued) then newer = false else redis.call('ZREMRANGEBYSCORE', key, ts, ts) end
    end
    if newer then redis.call('ZADD', key, ts, ts .. '|' .. issued .. '|' .. value) end
  end
  redis.call('ZREMRANGEBYRANK', key, 0, -keep - 1)
end
return #KEYS
"""


# KEYS: one hash per model. ARGV: per key its issue time (microseconds) and its rows.
_KEEP_NEWEST_ISSUE = """
for k = 1, #KEYS do
  local issued, rows = ARGV[2 * k - 1], ARGV[2 * k]
  local held = redis.call('HGET', KEYS[k], 'issued')
  if not held or tonumber(held) <= tonumber(issued) then redis.call('HSET', KEYS[k], 'issued', issued, 'rows', rows) end
end
return #KEYS
"""


class RedisCache(Cache):
    """Latest points per series in Redis sorted sets under ``<prefix>:recent:<series_id>``."""

    def __init__(self, client: redis.Redis, points_per_series: int = 192, prefix: str = "scalar") -> None:
        self._client = client
        self._prefix = prefix
        self.points_per_series = points_per_series
        self._merge = client.register_script(_MERGE)
        self._keep_newest_issue = client.register_script(_KEEP_NEWEST_ISSUE)

    @classmethod
    def from_settings(cls, settings: CacheSettings) -> RedisCache:
        """Connect as configured (the password from its secret, short timeouts: the cache must not stall ingestion)."""
        client = redis.Redis.from_url(
            str(settings.url),
            password=settings.password.get_secret_value() if settings.password else None,
            socket_timeout=settings.socket_timeout_s,
            socket_connect_timeout=settings.socket_timeout_s,
            decode_responses=True,
        )
        return cls(client, settings.points_per_series)

    def _key(self, series_id: str) -> str:
        return f"{self._prefix}:recent:{series_id}"

    @override
    def update(self, observations: pa.Table) -> int:
        grouped = latest_per_key(observations)
        if not grouped:
            return 0
        keys: list[str] = []
        arguments: list[str | int | float] = [self.points_per_series]
        for series_id, rows in grouped.items():
            keys.append(self._key(series_id))
            recent = rows[-self.points_per_series :]
            arguments.append(len(recent))
            for ts, value, issued_at in recent:
                arguments += [_micros(ts), _micros(issued_at), repr(float(value))]
        self._merge(keys=keys, args=arguments)
        return len(keys)

    @override
    def recent(self, series_id: str, count: int) -> list[CachedPoint]:
        if count <= 0:
            return []
        return _points(self._client.zrange(self._key(series_id), -count, -1))

    @override
    def recent_many(self, series_ids: Sequence[str], count: int) -> dict[str, list[CachedPoint]]:
        if count <= 0:
            return {series_id: [] for series_id in series_ids}
        pipeline = self._client.pipeline(transaction=False)
        for series_id in series_ids:
            pipeline.zrange(self._key(series_id), -count, -1)
        return {series_id: _points(members) for series_id, members in zip(series_ids, pipeline.execute(), strict=True)}

    @override
    def update_forecasts(self, forecasts: pa.Table) -> int:
        issues = newest_issues(forecasts)
        if not issues:
            return 0
        keys: list[str] = []
        arguments: list[str | int] = []
        for (family, zone), (issued_at, rows) in issues.items():
            keys.append(self._forecast_key(family, zone))
            arguments += [_micros(issued_at), base64.b64encode(to_ipc(rows, FORECAST_SCHEMA)).decode("ascii")]
        self._keep_newest_issue(keys=keys, args=arguments)
        return len(keys)

    @override
    def latest_forecast(self, family: str, zone: str) -> pa.Table | None:
        encoded = self._client.hget(self._forecast_key(family, zone), "rows")
        if encoded is None:
            return None
        return from_ipc(base64.b64decode(str(encoded)))

    @override
    def latest_issue_time(self, family: str, zone: str) -> datetime | None:
        issued = self._client.hget(self._forecast_key(family, zone), "issued")
        return _from_micros(int(str(issued))) if issued is not None else None

    def _forecast_key(self, family: str, zone: str) -> str:
        return f"{self._prefix}:forecast:{family}/{zone}"

    @override
    def close(self) -> None:
        self._client.close()


def _points(members: Any) -> list[CachedPoint]:
    points = []
    for member in members:
        ts, issued, value = str(member).split("|")
        points.append(CachedPoint(_from_micros(int(ts)), float(value), _from_micros(int(issued))))
    return points


def _micros(moment: datetime) -> int:
    # Integer arithmetic (a float timestamp would round); exact in a Redis score (a double) before year 2255.
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(micros: int) -> datetime:
    return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)
