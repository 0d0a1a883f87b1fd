"""One ingestion replica's loop: receive → decode → validate → micro-batch → write → acknowledge → feed and cache.

Under a backlog a full batch's write can overlap the next batch's receipt and validation (``write_executor``): the
replica's own work and the warehouse's then run side by side instead of in turn. One write is in flight at most and
batches are written in the order they were taken, so a later message's row still wins; acknowledgements, the cache,
the feed and a failed write's handling stay on the loop's thread. A write started because nothing more is waiting is
waited for at once (there is nothing to overlap it with, and the cache and the feed get it without delay).

Delivery is at-least-once and writes are idempotent upserts, so the warehouse ends up with every row exactly once:
a message is acknowledged only after the batch holding it is committed; a replica killed before that leaves the
message unacknowledged and the broker hands it to another replica. A failed write keeps the batch, stops receiving
and retries with back-off (Pulsar keeps the backlog meanwhile). A message that fails validation goes to the
dead-letter topic with its reasons and is then acknowledged; the stream goes on.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from scalar_ray.broker.messaging import MessageSource, OutgoingMessage, Publisher, ReceivedMessage
from scalar_ray.cache.base import BestEffortCache, Cache
from scalar_ray.core.backoff import Backoff
from scalar_ray.core.errors import BrokerUnavailableError, WarehouseError
from scalar_ray.feed import ChangeFeed, change_events
from scalar_ray.ingestion.batcher import FlushPolicy, MicroBatcher, PendingBatch
from scalar_ray.ingestion.judging import ForecastTargets, judge_message
from scalar_ray.status import IngestionStatus
from scalar_ray.telemetry.instruments import (
    ingestion_failed,
    ingestion_freshness,
    ingestion_redelivered,
    messages_consumed,
    tracer,
)
from scalar_ray.telemetry.propagation import context_from
from scalar_ray.warehouse.base import Warehouse, WriteResult

__all__ = ["IngestionStats", "IngestionWorker"]

logger = logging.getLogger(__name__)

_FRESHNESS_SAMPLES = 10_000
# Status reports freshness over the last five minutes: a start-up backlog should not colour it for the day.
_FRESHNESS_WINDOW_S = 300.0


@dataclass
class IngestionStats:
    """What a replica has done; the operator's checklist reads these."""

    messages: int = 0
    rows_written: int = 0
    batches: int = 0
    dead_lettered: int = 0
    # Messages handed back to the broker after a fault of ours while judging them.
    released: int = 0
    duplicates_dropped: int = 0
    redelivered: int = 0
    warehouse_errors: int = 0
    broker_errors: int = 0
    last_batch_rows: int = 0
    last_batch_ms: float = 0.0
    last_commit_at: datetime | None = None
    last_error: str = ""
    writing_blocked_since: datetime | None = None
    # (commit time in Unix seconds, publish → committed in ms) per message, the newest samples.
    freshness: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=_FRESHNESS_SAMPLES))

    def freshness_percentiles(self, now: float, window_s: float = _FRESHNESS_WINDOW_S) -> tuple[float | None, ...]:
        """Median and 99th percentile of publish → commit, ms, over the ``window_s`` seconds before ``now``."""
        samples = sorted(ms for at, ms in self.freshness if at >= now - window_s)
        if not samples:
            return None, None
        return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.99))]


@dataclass
class _Write:
    """A batch's write under way: what to acknowledge, cache and publish once it commits."""

    batch: PendingBatch
    table: pa.Table
    forecasts: pa.Table
    started: float
    span: Span
    # The rows written and when the commit returned (the freshness clock stops there, not when it is settled).
    outcome: Future[tuple[WriteResult, datetime]]


class IngestionWorker:
    """The library service an ingestion actor runs; ``step`` does one round and never raises for bad data."""

    def __init__(
        self,
        source: MessageSource,
        warehouse: Warehouse,
        cache: Cache | None,
        dead_letters: Publisher,
        dead_letter_topic: str,
        policy: FlushPolicy,
        *,
        retry_max_s: float = 10.0,
        forecast_targets: ForecastTargets | None = None,
        feed: ChangeFeed | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        write_executor: Executor | None = None,
    ) -> None:
        self._source = source
        self._warehouse = warehouse
        self._cache = cache
        self._feed = feed
        self._dead_letters = dead_letters
        self._dead_letter_topic = dead_letter_topic
        self._batcher = MicroBatcher(policy)
        self._write_backoff = Backoff(0.2, retry_max_s)
        # (family, zone, target variable) → the target's series: what the forecasts of each model may target.
        self._forecast_targets = forecast_targets or {}
        self._failed_writes_in_row = 0
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._blocked: PendingBatch | None = None
        self._retry_at = 0.0
        # Where a full batch's write runs while the next one fills (one worker thread); None: writes run inline.
        self._write_executor = write_executor
        self._in_flight: _Write | None = None
        self.stats = IngestionStats()
        # Each message's process span, from receipt to the acknowledgement after its batch's commit.
        self._spans: dict[str, Span] = {}

    def snapshot(self) -> IngestionStatus:
        """The replica's counters and, when the cache is guarded, its health."""
        stats = self.stats
        p50, p99 = stats.freshness_percentiles(self._wall_clock().timestamp())
        guarded = self._cache if isinstance(self._cache, BestEffortCache) else None
        return IngestionStatus(
            messages=stats.messages,
            rows_written=stats.rows_written,
            batches=stats.batches,
            dead_lettered=stats.dead_lettered,
            duplicates_dropped=stats.duplicates_dropped,
            redelivered=stats.redelivered,
            warehouse_errors=stats.warehouse_errors,
            broker_errors=stats.broker_errors,
            last_batch_rows=stats.last_batch_rows,
            last_batch_ms=stats.last_batch_ms,
            last_commit_at=stats.last_commit_at,
            last_error=stats.last_error,
            writing_blocked_since=stats.writing_blocked_since,
            freshness_p50_ms=p50,
            freshness_p99_ms=p99,
            cache_enabled=guarded.enabled if guarded else None,
            cache_failures=guarded.stats.failures if guarded else 0,
            cache_updates=guarded.stats.updates if guarded else 0,
        )

    def step(self) -> None:
        """Settle a finished write, retry a blocked one, or receive what is waiting; write the batch when it is due."""
        if self._in_flight is not None and self._in_flight.outcome.done():
            self._settle()
        if self._blocked is not None:
            if self._monotonic() >= self._retry_at:
                self._write(self._blocked, wait=True)
            else:
                time.sleep(min(0.1, max(0.0, self._retry_at - self._monotonic())))
            return
        idle = True
        if not self._batcher.full():
            try:
                messages = self._source.receive()
            except BrokerUnavailableError as exc:
                self._broker_failed(exc)
                messages = []
            idle = not messages
            for message in messages:
                self._accept(message)
        elif self._in_flight is not None:
            wait_for([self._in_flight.outcome], timeout=0.1)  # the next batch is full: its turn comes after this one
            return
        if self._in_flight is None and self._batcher.due(self._monotonic(), source_idle=idle):
            self._write(self._batcher.take(), wait=idle)

    def drain(self) -> None:
        """Write what is pending (before a planned stop)."""
        self._settle()
        if self._blocked is not None:
            self._write(self._blocked, wait=True)
        if self._blocked is None and self._batcher.pending.messages:
            self._write(self._batcher.take(), wait=True)

    def _accept(self, message: ReceivedMessage) -> None:
        self.stats.messages += 1
        topic = {"messaging.system": "pulsar", "messaging.destination.name": message.topic}
        messages_consumed.add(1, topic)
        # Current while the message is judged, so a dead-letter warning carries the message's trace id.
        with trace.use_span(self._open_span(message), end_on_exit=False):
            try:
                self._judge(message, topic)
            except Exception:
                # A fault of ours, not the message's: handed back to the broker (redelivered after a delay, and
                # dead-lettered by the subscription after its redelivery limit) rather than held unacknowledged
                # in this replica's memory until it restarts.
                logger.exception("judging message %s failed; released for redelivery", message.message_id)
                self.stats.released += 1
                self._source.release([message])

    def _judge(self, message: ReceivedMessage, topic: dict[str, str]) -> None:
        if message.redelivery_count:
            self.stats.redelivered += 1
            ingestion_redelivered.add(1, topic)
        judged = judge_message(message.payload, message.properties, self._wall_clock(), self._forecast_targets)
        if not judged.accepted:
            self._dead_letter(message, list(judged.reasons), judged.error_type)
            return
        self.stats.duplicates_dropped += judged.duplicates_dropped
        self._batcher.add(message, judged.observations, self._monotonic(), judged.forecasts)

    def _open_span(self, message: ReceivedMessage) -> Span:
        # A child of the producer's send span: the trace goes on from the fetch that published the message.
        stale = self._spans.pop(message.message_id, None)
        if stale is not None:
            stale.end()
        span = self._spans[message.message_id] = tracer.start_span(
            f"process {message.topic}",
            context=context_from(message.properties),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "pulsar",
                "messaging.operation.type": "process",
                "messaging.destination.name": message.topic,
                "messaging.message.id": message.message_id,
                "messaging.pulsar.redelivery_count": message.redelivery_count,
            },
        )
        return span

    def _dead_letter(self, message: ReceivedMessage, reasons: list[str], error_type: str) -> None:
        if self._send_dead_letter(message, reasons, error_type):
            # Acknowledged in order with the rest of its batch, so a blocked write also holds this acknowledgement.
            self._batcher.add(message, None, self._monotonic())
        else:
            # The dead-letter topic could not take it: handed back, judged again when it returns (not held here).
            self.stats.released += 1
            self._source.release([message])

    def _send_dead_letter(self, message: ReceivedMessage, reasons: list[str], error_type: str) -> bool:
        reason = "; ".join(reasons)
        properties = {
            **message.properties,
            "dead_letter_reason": reason,
            "source_topic": message.topic,
            "source_message_id": message.message_id,
            "dead_lettered_at": self._wall_clock().isoformat(),
        }
        try:
            self._dead_letters.send(OutgoingMessage(self._dead_letter_topic, message.payload, properties, message.key))
        except BrokerUnavailableError as exc:
            self._broker_failed(exc)  # not acknowledged: the caller hands it back or retries its batch
            return False
        logger.warning(
            "dead-lettered %s from %s: %s", message.message_id, message.topic, reason, extra={"reason": reason}
        )
        self.stats.dead_lettered += 1
        ingestion_failed.add(1, {"error.type": error_type, "messaging.destination.name": message.topic})
        span = self._spans.get(message.message_id)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, reason))
            span.set_attribute("error.type", error_type)
        return True

    def _write(self, batch: PendingBatch, *, wait: bool) -> None:
        """Start the batch's write (on the write executor, when there is one); with ``wait``, settle it at once."""
        started = self._monotonic()
        table = batch.combined()
        forecasts = batch.combined_forecasts()
        span = self._batch_span(batch)

        def write() -> tuple[WriteResult, datetime]:
            with trace.use_span(span, end_on_exit=False):  # the warehouse's INSERT span is the batch span's child
                result = self._write_rows(batch, table, forecasts)
            return result, self._wall_clock()

        outcome: Future[tuple[WriteResult, datetime]]
        if self._write_executor is None:
            outcome = Future()
            try:
                outcome.set_result(write())
            except Exception as exc:  # settled below, as the executor would hand it over
                outcome.set_exception(exc)
        else:
            outcome = self._write_executor.submit(write)
        self._in_flight = _Write(batch, table, forecasts, started, span, outcome)
        if wait or outcome.done():
            self._settle()

    def _batch_span(self, batch: PendingBatch) -> Span:
        # The batch's span continues the trace of its first message and links the others (OpenTelemetry's batch
        # pattern). Messages with rows first: a dead letter in the batch is not where the write belongs.
        carrying = {m.message_id for m in batch.carrying}
        ordered = [*batch.carrying, *(m for m in batch.messages if m.message_id not in carrying)]
        spans = [span for m in ordered if (span := self._spans.get(m.message_id)) is not None]
        parent = trace.set_span_in_context(spans[0]) if spans else None
        links = [Link(span.get_span_context()) for span in spans[1:]]
        attributes = {"scalar.batch.messages": len(batch.messages), "scalar.batch.rows": batch.rows}
        return tracer.start_span("ingest batch", context=parent, links=links, attributes=attributes)

    def _settle(self) -> None:
        """Wait for the write in flight and act on its outcome: acknowledge, or isolate poison, or hold and retry."""
        write, self._in_flight = self._in_flight, None
        if write is None:
            return
        batch, span = write.batch, write.span
        with trace.use_span(span, end_on_exit=True):
            try:
                result, committed_at = write.outcome.result()
            except WarehouseError as exc:
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                if exc.permanent and self._isolate_poison(batch, exc):
                    return
                self._write_failed(batch, exc)
                return
            except Exception as exc:
                # An adapter's unforeseen error: the batch stays blocked and is retried like any failed write,
                # instead of its messages being dropped from memory unacknowledged.
                logger.exception("warehouse write raised %s", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                self._write_failed(batch, WarehouseError(self._warehouse.name, "write", f"{type(exc).__name__}: {exc}"))
                return
        self._committed(batch, write.table, write.forecasts, result, write.started, committed_at)

    def _committed(
        self,
        batch: PendingBatch,
        table: pa.Table,
        forecasts: pa.Table,
        result: WriteResult,
        started: float,
        committed: datetime,
    ) -> None:
        self._blocked, self._failed_writes_in_row = None, 0
        self.stats.writing_blocked_since = None
        try:
            self._source.acknowledge(batch.messages)
        except BrokerUnavailableError as exc:
            # The rows are committed. Handed back, the messages come again and are rewritten to the same keys; kept
            # unacknowledged by a consumer that stays connected, they would wait until the replica restarts. (No
            # broker ack timeout: it would count a long warehouse outage's held batch as redeliveries and
            # dead-letter good data. Every path that lets go of a message acknowledges or releases it instead.)
            self._release_quietly(batch.messages)
            self._broker_failed(exc)
        committed_s = committed.timestamp()
        for message in batch.messages:
            if message.publish_time_ms:
                freshness_ms = committed_s * 1000 - message.publish_time_ms
                self.stats.freshness.append((committed_s, freshness_ms))
                ingestion_freshness.record(freshness_ms / 1000, {"messaging.destination.name": message.topic})
            span = self._spans.pop(message.message_id, None)
            if span is not None:
                span.add_event("committed", {"scalar.batch.rows": result.rows})
                span.end()
        self.stats.batches += 1
        self.stats.rows_written += result.rows
        self.stats.last_batch_rows = result.rows
        self.stats.last_batch_ms = (self._monotonic() - started) * 1000
        self.stats.last_commit_at = committed
        if self._cache is not None and table.num_rows:
            self._cache.update(table)
        if self._cache is not None and forecasts.num_rows:
            self._cache.update_forecasts(forecasts)
        if self._feed is not None and table.num_rows:
            # After the cache: a feed that is down waits out its socket timeout, which must not delay the cache.
            self._feed.publish(change_events(table))

    def _isolate_poison(self, batch: PendingBatch, refusal: WarehouseError) -> bool:
        """Bisect a batch the warehouse refuses for its data: write the good halves, dead-letter the bad messages.

        A refusal that follows the data (a value the warehouse cannot hold) fails the same way on every retry, and
        retrying the whole batch forever would stall every key routed to this replica. Halves are written until each
        refused part is one message, which goes to the dead-letter topic with the warehouse's reason; the rest is
        committed and acknowledged as usual. False when the bisection met a failure that is not the data's (the
        warehouse went away): the whole batch is then retried as any failed write, its committed halves rewritten to
        the same keys.
        """
        culprits: list[tuple[ReceivedMessage, WarehouseError]] = []
        pending = [(batch.carrying, refusal)]
        while pending:
            messages, error = pending.pop()
            if len(messages) == 1:
                culprits.append((messages[0], error))
                continue
            for half in (messages[: len(messages) // 2], messages[len(messages) // 2 :]):
                part = batch.only(half)
                try:
                    self._write_rows(part, part.combined(), part.combined_forecasts())
                except WarehouseError as exc:
                    if not exc.permanent:
                        return False
                    pending.append((half, exc))
        for message, error in culprits:
            logger.error("warehouse refuses message %s for its data: %s", message.message_id, error)
            if not self._send_dead_letter(message, [f"the warehouse refuses its rows: {error}"], "WarehouseRefused"):
                return False  # the dead letter could not be sent: retried later, nothing acknowledged
        refused = {message.message_id for message, _ in culprits}
        good = batch.only([m for m in batch.carrying if m.message_id not in refused])
        good.messages = list(batch.messages)  # every message is done: committed, or dead-lettered with its reason
        written = WriteResult(good.rows, 0)
        self._committed(
            good, good.combined(), good.combined_forecasts(), written, self._monotonic(), self._wall_clock()
        )
        return True

    def _write_rows(self, batch: PendingBatch, table: pa.Table, forecasts: pa.Table) -> WriteResult:
        # Both writes are idempotent: a retry after the first one committed rewrites the same keys.
        result = self._warehouse.write(table, batch.batch_id()) if table.num_rows else WriteResult(0, 0)
        if forecasts.num_rows:
            issued = self._warehouse.write_forecasts(forecasts, f"{batch.batch_id()}_forecasts")
            result = WriteResult(result.rows + issued.rows, result.series + issued.series)
        return result

    def _write_failed(self, batch: PendingBatch, exc: WarehouseError) -> None:
        self._blocked = batch
        self._failed_writes_in_row += 1
        pause = self._write_backoff.delay(self._failed_writes_in_row)
        self._retry_at = self._monotonic() + pause
        self.stats.warehouse_errors += 1
        self.stats.last_error = str(exc)
        if self.stats.writing_blocked_since is None:
            self.stats.writing_blocked_since = self._wall_clock()
        logger.warning(
            "warehouse write of %d rows failed, retrying in %.1f s (nothing acknowledged): %s",
            batch.rows,
            pause,
            exc,
        )

    def _release_quietly(self, messages: list[ReceivedMessage]) -> None:
        try:
            self._source.release(messages)
        except BrokerUnavailableError as exc:  # gone with the connection: the broker redelivers them on reconnect
            logger.debug("release after a failed acknowledgement: %s", exc)
            return
        self.stats.released += len(messages)

    def _broker_failed(self, exc: BrokerUnavailableError) -> None:
        self.stats.broker_errors += 1
        self.stats.last_error = str(exc)
        logger.warning("broker: %s", exc)
        time.sleep(0.5)  # the client reconnects on its own; do not spin meanwhile
