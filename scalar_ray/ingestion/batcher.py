"""Adaptive micro-batching: gather accepted windows and decide when to write them (pure; clock passed in).

A batch is written when it is full (rows or bytes), when its oldest message has waited ``max_age_s``, or as soon as
the subscription has nothing more waiting. Under load that yields large batches (upserts cost ~8x less per row in
50,000-row batches than in 100-row ones); when idle, each window is written the moment it arrives. The seed instead
waited for 100 rows or 30 s.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.broker.messaging import ReceivedMessage
from scalar_ray.core.forecasts import FORECAST_KEY, FORECAST_SCHEMA
from scalar_ray.core.observations import OBSERVATION_SCHEMA, unique_keys

__all__ = ["FlushPolicy", "MicroBatcher", "PendingBatch"]


@dataclass(frozen=True)
class FlushPolicy:
    """When a batch is due; defaults chosen by ``bench/ingest.py`` (see docs/benchmarks.md)."""

    max_rows: int = 100_000
    max_bytes: int = 32 * 1024 * 1024
    max_age_s: float = 1.0
    # Write as soon as nothing more is waiting (lowest latency when idle); off, batches wait for size or age.
    flush_when_idle: bool = True


@dataclass
class PendingBatch:
    """Accepted rows and the messages they came from (acknowledged once the rows are committed)."""

    tables: list[pa.Table] = field(default_factory=list)
    # Forecast messages' rows, for the forecasts table.
    forecasts: list[pa.Table] = field(default_factory=list)
    messages: list[ReceivedMessage] = field(default_factory=list)
    # The messages whose rows are in ``tables`` (the others are dead letters, acknowledged with the batch).
    carrying: list[ReceivedMessage] = field(default_factory=list)
    rows: int = 0
    nbytes: int = 0
    opened_at: float | None = None
    # Each carrying message's own rows (observations, forecasts): what a poison batch is bisected by.
    parts: dict[str, tuple[pa.Table | None, pa.Table | None]] = field(default_factory=dict)

    def only(self, messages: list[ReceivedMessage]) -> PendingBatch:
        """The batch of just these carrying messages (a half, when a batch the warehouse refuses is bisected)."""
        part = PendingBatch(opened_at=self.opened_at)
        for message in messages:
            rows, forecast = self.parts[message.message_id]
            part.messages.append(message)
            part.carrying.append(message)
            part.parts[message.message_id] = (rows, forecast)
            for table, into in ((rows, part.tables), (forecast, part.forecasts)):
                if table is not None and table.num_rows:
                    into.append(table)
                    part.rows += table.num_rows
                    part.nbytes += table.nbytes
        return part

    def batch_id(self) -> str:
        """A name for the batch that is the same on every retry: a digest of its message ids."""
        ids = "|".join(message.message_id for message in self.messages)
        return hashlib.sha256(ids.encode()).hexdigest()[:40]

    def combined(self) -> pa.Table:
        """One table, one row per key: when two windows carry the same key, the later message wins."""
        if not self.tables:
            return OBSERVATION_SCHEMA.empty_table()
        table = pa.concat_tables(self.tables)
        # Each table is one validated message, unique already: only keys shared between messages can repeat.
        return unique_keys(table, "last") if _may_share_keys(self.tables) else table

    def combined_forecasts(self) -> pa.Table:
        """The forecast messages' rows (one issue per message, so keys cannot repeat across them but by redelivery)."""
        if not self.forecasts:
            return FORECAST_SCHEMA.empty_table()
        table = pa.concat_tables(self.forecasts)
        return table if len(self.forecasts) == 1 else unique_keys(table, "last", FORECAST_KEY)


def _may_share_keys(tables: list[pa.Table]) -> bool:
    """Whether two of these validated windows could hold the same key: their series meet in overlapping time spans.

    A series id starts with its provider and dataset, and validation holds a message to one of each, so windows of
    different datasets never share a key, and windows of one dataset only where their interval spans overlap. A
    backlog's consecutive windows then skip the hash of every key (a tenth of a replica's time); overlapping ones,
    a live window fetched twice, are deduplicated.
    """
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for table in tables:
        if table.num_rows == 0:
            continue
        earliest_latest = pc.min_max(table["ts"].cast(pa.int64()))
        origin = (table["provider"][0].as_py(), table["dataset"][0].as_py())
        spans.setdefault(origin, []).append((earliest_latest["min"].as_py(), earliest_latest["max"].as_py()))
    for ranges in spans.values():
        ranges.sort()
        if any(later_start <= end for (_, end), (later_start, _) in itertools.pairwise(ranges)):
            return True
    return False


class MicroBatcher:
    """Collects accepted windows into ``PendingBatch``es according to a ``FlushPolicy``."""

    def __init__(self, policy: FlushPolicy) -> None:
        self.policy = policy
        self._batch = PendingBatch()

    @property
    def pending(self) -> PendingBatch:
        """The batch being filled."""
        return self._batch

    def add(
        self, message: ReceivedMessage, rows: pa.Table | None, now: float, forecast: pa.Table | None = None
    ) -> None:
        """Add a message and its accepted rows (None for a message with nothing to write, still to be acked).

        ``rows`` are observations; a forecast message brings ``forecast``, its forecasts-table rows, instead.
        """
        batch = self._batch
        if batch.opened_at is None:
            batch.opened_at = now
        batch.messages.append(message)
        carried = False
        for table, into in ((rows, batch.tables), (forecast, batch.forecasts)):
            if table is not None and table.num_rows:
                into.append(table)
                batch.rows += table.num_rows
                batch.nbytes += table.nbytes
                carried = True
        if carried:
            batch.carrying.append(message)
            batch.parts[message.message_id] = (rows, forecast)

    def due(self, now: float, source_idle: bool) -> bool:
        """Whether the batch should be written now."""
        batch, policy = self._batch, self.policy
        if not batch.messages:
            return False
        if batch.rows >= policy.max_rows or batch.nbytes >= policy.max_bytes:
            return True
        if batch.opened_at is not None and now - batch.opened_at >= policy.max_age_s:
            return True
        return policy.flush_when_idle and source_idle

    def full(self) -> bool:
        """Whether the batch reached its row or byte limit (stop receiving until it is written)."""
        return self._batch.rows >= self.policy.max_rows or self._batch.nbytes >= self.policy.max_bytes

    def take(self) -> PendingBatch:
        """Hand over the batch and start a new one."""
        batch, self._batch = self._batch, PendingBatch()
        return batch
