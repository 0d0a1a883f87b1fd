"""The change feed: every committed observation, as events a client can follow live and resume.

Ingestion publishes, right after each warehouse commit, one event per (series, issue time) of the batch, with its
interval range and its values inline (at most ``MAX_VALUES_PER_EVENT``; a larger group is split). Event ids are
``<milliseconds>-<sequence>`` and increase, so a client that lost its connection asks for what came after the last id
it saw (``Last-Event-ID``) and misses nothing within the retention; asking from before the retention is answered
with a ``gap`` so the client knows to re-read the warehouse. ``RedisChangeFeed`` keeps the events in a Redis stream
(the ids are the stream's, ``feed.redis``), trimmed to ``retention``; ``InMemoryChangeFeed`` is the fake; both
pass one contract suite. Publishing is best effort for ingestion: a feed that is down never stalls a commit
(``BestEffortFeed``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from typing_extensions import override

__all__ = [
    "MAX_VALUES_PER_EVENT",
    "BestEffortFeed",
    "ChangeEvent",
    "ChangeFeed",
    "FeedRead",
    "InMemoryChangeFeed",
    "change_events",
    "event_order",
]

logger = logging.getLogger(__name__)

MAX_VALUES_PER_EVENT = 2000


@dataclass(frozen=True)
class ChangeEvent:
    """What one commit changed of one series for one issue time."""

    series_id: str
    issued_at: datetime
    begin: datetime
    end: datetime  # the last interval's start (inclusive)
    values: tuple[tuple[datetime, float], ...]
    event_id: str = ""

    def as_json(self) -> dict[str, Any]:
        """The event's body on the wire."""
        return {
            "id": self.event_id,
            "series_id": self.series_id,
            "issued_at": _iso(self.issued_at),
            "begin": _iso(self.begin),
            "end": _iso(self.end),
            "n_values": len(self.values),
            "values": [[_iso(ts), value] for ts, value in self.values],
        }

    def fields(self) -> dict[str, str]:
        """The event as a Redis stream entry."""
        body = self.as_json()
        del body["id"]
        return {"event": json.dumps(body, separators=(",", ":"))}

    @classmethod
    def from_fields(cls, event_id: str, fields: dict[str, str]) -> ChangeEvent:
        """An event read back from a stream entry."""
        body = json.loads(fields["event"])
        return cls(
            body["series_id"],
            _parse(body["issued_at"]),
            _parse(body["begin"]),
            _parse(body["end"]),
            tuple((_parse(ts), float(value)) for ts, value in body["values"]),
            event_id,
        )


@dataclass(frozen=True)
class FeedRead:
    """Events after an id, and whether some were lost to the retention before the first of them."""

    events: list[ChangeEvent]
    gap: bool = False


def change_events(observations: pa.Table) -> list[ChangeEvent]:
    """The events of one committed batch: one per (series, issue time), split past ``MAX_VALUES_PER_EVENT``."""
    if observations.num_rows == 0:
        return []
    ordered = observations.select(["series_id", "issued_at", "ts", "value"]).sort_by(
        [("series_id", "ascending"), ("issued_at", "ascending"), ("ts", "ascending")]
    )
    # One pass over the sorted rows (this runs on every commit): a group starts where series or issue time changes.
    series = ordered["series_id"].to_pylist()
    issued = ordered["issued_at"].to_pylist()
    pairs = list(zip(ordered["ts"].to_pylist(), ordered["value"].to_pylist(), strict=True))
    starts = [0, *(i for i in range(1, len(pairs)) if (series[i], issued[i]) != (series[i - 1], issued[i - 1]))]
    events: list[ChangeEvent] = []
    for first, stop in zip(starts, [*starts[1:], len(pairs)], strict=True):
        for begin in range(first, stop, MAX_VALUES_PER_EVENT):
            piece = tuple(pairs[begin : min(begin + MAX_VALUES_PER_EVENT, stop)])
            events.append(ChangeEvent(series[first], issued[first], piece[0][0], piece[-1][0], piece))
    return events


class ChangeFeed(ABC):
    """Where committed changes are kept for a retention, in order, with increasing ids."""

    @abstractmethod
    def publish(self, events: Sequence[ChangeEvent]) -> list[str]:
        """Append ``events``; their ids, in order."""

    @abstractmethod
    async def read(self, after: str, count: int = 500, block_ms: int = 1000) -> FeedRead:
        """Up to ``count`` events after id ``after`` (``"0"``: from the oldest kept), waiting up to ``block_ms``."""

    @abstractmethod
    async def last_id(self) -> str:
        """The id of the newest event (``"0"`` when empty): where a new subscriber starts."""

    def close(self) -> None:  # noqa: B027 - the fake holds nothing
        """Release connections."""


def event_order(event_id: str) -> tuple[int, int]:
    """An id as (milliseconds, sequence), the order events were published in."""
    milliseconds, _, sequence = event_id.partition("-")
    return int(milliseconds), int(sequence or 0)


class InMemoryChangeFeed(ChangeFeed):
    """The fake: a list with the stream's ids and retention."""

    def __init__(self, retention: timedelta = timedelta(hours=6), clock: Any = time.time) -> None:
        self.retention = retention
        self._clock = clock
        self._events: list[ChangeEvent] = []
        self._trimmed_up_to = (0, 0)
        self._lock = threading.Lock()

    @override
    def publish(self, events: Sequence[ChangeEvent]) -> list[str]:
        ids = []
        with self._lock:
            now_ms = int(self._clock() * 1000)
            for event in events:
                last = event_order(self._events[-1].event_id) if self._events else self._trimmed_up_to
                event_id = f"{now_ms}-0" if now_ms > last[0] else f"{last[0]}-{last[1] + 1}"
                self._events.append(ChangeEvent(**{**event.__dict__, "event_id": event_id}))
                ids.append(event_id)
            horizon = now_ms - int(self.retention / timedelta(milliseconds=1))
            kept = [event for event in self._events if event_order(event.event_id)[0] >= horizon]
            if len(kept) < len(self._events):
                self._trimmed_up_to = event_order(self._events[len(self._events) - len(kept) - 1].event_id)
            self._events = kept
        return ids

    @override
    async def read(self, after: str, count: int = 500, block_ms: int = 1000) -> FeedRead:
        deadline = time.monotonic() + block_ms / 1000
        while True:
            with self._lock:
                gap = event_order(after) < self._trimmed_up_to
                later = [event for event in self._events if event_order(event.event_id) > event_order(after)][:count]
            if later or gap or time.monotonic() >= deadline:
                return FeedRead(later, gap)
            await asyncio.sleep(0.02)

    @override
    async def last_id(self) -> str:
        with self._lock:
            return self._events[-1].event_id if self._events else "0"


class BestEffortFeed(ChangeFeed):
    """A feed whose publishing never raises: ingestion's commit must not depend on the push feed."""

    def __init__(self, inner: ChangeFeed) -> None:
        self.inner = inner
        self.failures = 0

    @override
    def publish(self, events: Sequence[ChangeEvent]) -> list[str]:
        try:
            return self.inner.publish(events)
        except Exception as exc:  # any failure of the feed is the feed's, never the commit's
            self.failures += 1
            logger.warning("change feed unavailable, %d events not pushed: %s", len(events), type(exc).__name__)
            return []

    @override
    async def read(self, after: str, count: int = 500, block_ms: int = 1000) -> FeedRead:
        return await self.inner.read(after, count, block_ms)

    @override
    async def last_id(self) -> str:
        return await self.inner.last_id()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
