"""The change feed on Redis: a stream per platform, ``XADD`` on commit, ``XREAD BLOCK`` for subscribers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis
import redis.asyncio as aioredis
from typing_extensions import override

from scalar_ray.feed.base import ChangeEvent, ChangeFeed, FeedRead, event_order

__all__ = ["RedisChangeFeed"]

# Trim to the retention, remembering the newest id trimmed (a subscriber behind it has lost events). Redis's own
# max-deleted-entry-id counts XDEL only, not trimming.
_TRIM = """
local trimmed = redis.call('XREVRANGE', KEYS[1], '(' .. ARGV[1], '-', 'COUNT', 1)
if #trimmed > 0 then
    redis.call('SET', KEYS[2], trimmed[1][1])
    redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
end
return #trimmed
"""


@dataclass
class RedisChangeFeed(ChangeFeed):
    """A Redis stream: ``XADD`` with ``MINID`` trimming to the retention, ``XREAD BLOCK`` for subscribers."""

    url: str
    password: str | None = None
    retention: timedelta = timedelta(hours=6)
    key: str = "scalar:changes"
    _writer: redis.Redis = field(init=False, repr=False)
    _reader: aioredis.Redis | None = field(init=False, repr=False, default=None)
    _reader_loop: asyncio.AbstractEventLoop | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._writer = redis.Redis.from_url(self.url, password=self.password, socket_timeout=2, decode_responses=True)
        self._trim = self._writer.register_script(_TRIM)

    def _async(self) -> aioredis.Redis:
        # An asyncio client belongs to the loop it was made in: one per loop, made on first use there.
        loop = asyncio.get_running_loop()
        if self._reader is None or self._reader_loop is not loop:
            self._reader = aioredis.Redis.from_url(self.url, password=self.password, decode_responses=True)
            self._reader_loop = loop
        return self._reader

    @override
    def publish(self, events: Sequence[ChangeEvent]) -> list[str]:
        if not events:
            return []
        horizon_ms = int((time.time() - self.retention.total_seconds()) * 1000)
        pipe = self._writer.pipeline(transaction=False)
        for event in events:
            pipe.xadd(self.key, event.fields())  # type: ignore[arg-type]  # redis-py's field types are too narrow
        ids = [str(event_id) for event_id in pipe.execute()]
        self._trim(keys=[self.key, self._trimmed_key], args=[f"{horizon_ms}-0"])
        return ids

    @property
    def _trimmed_key(self) -> str:
        return f"{self.key}:trimmed"

    @override
    async def read(self, after: str, count: int = 500, block_ms: int = 1000) -> FeedRead:
        client = self._async()
        trimmed = await client.get(self._trimmed_key)
        gap = trimmed is not None and event_order(after or "0") < event_order(
            str(trimmed)
        )  # lost: trimmed events came after it
        answer: Any = await client.xread({self.key: after or "0"}, count=count, block=block_ms)
        streams = answer.items() if isinstance(answer, dict) else answer  # RESP3 answers a map, RESP2 a list
        entries = [entry for _, stream_entries in streams for entry in stream_entries]
        return FeedRead([ChangeEvent.from_fields(str(entry_id), fields) for entry_id, fields in entries], gap)

    @override
    async def last_id(self) -> str:
        newest = await self._async().xrevrange(self.key, count=1)
        return str(newest[0][0]) if newest else "0"

    @override
    def close(self) -> None:
        self._writer.close()
