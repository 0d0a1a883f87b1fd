"""One provider's acquisition: run each (dataset, area) on its schedule, fetch, publish, advance the cursor.

The order inside a run is what makes restarts safe: fetch, hand every message to the broker (or, when the broker is
away, to the disk spool), and only then store the cursor. While anything is spooled, new messages are spooled
behind it, so the broker always receives a task's windows in the order they were fetched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from opentelemetry.trace import SpanKind

from scalar_ray.acquisition.cursors import Cursor, CursorStore
from scalar_ray.broker.envelope import Envelope
from scalar_ray.broker.messaging import OutgoingMessage, Publisher
from scalar_ray.broker.spool import DiskSpool
from scalar_ray.core.backoff import Backoff
from scalar_ray.core.durations import add_duration, clock_step, parse_duration
from scalar_ray.core.errors import BrokerUnavailableError, ProviderError, ProviderHTTPError, RateLimitedError
from scalar_ray.core.utc import floor_to
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec
from scalar_ray.providers.client import ProviderClient
from scalar_ray.status import AcquisitionStatus, TaskStatus
from scalar_ray.telemetry.instruments import messages_sent, provider_errors, tracer
from scalar_ray.telemetry.propagation import with_trace_context

__all__ = ["AcquisitionService", "AcquisitionTask"]

logger = logging.getLogger(__name__)

# After a failed fetch, try again after this long (doubling up to the schedule's own interval).
_FIRST_RETRY = timedelta(seconds=30)
_LONGEST_HOLD = timedelta(hours=1)
_LONGEST_ERROR = 500  # status travels to the CLI and the dashboard: the error's gist, not a payload


@dataclass(frozen=True)
class AcquisitionTask:
    """One dataset for one area."""

    spec: DatasetSpec
    area: str

    @property
    def name(self) -> str:
        """``A65-actual/DK1``: the cursor key."""
        return f"{self.spec.id}/{self.area}"


class AcquisitionService:
    """The schedules of one provider's datasets; ``run_due`` is called by the actor's loop."""

    def __init__(
        self,
        provider: str,
        tasks: Sequence[AcquisitionTask],
        client: ProviderClient,
        publisher: Publisher,
        topic: str,
        cursors: CursorStore,
        spool: DiskSpool,
        *,
        initial_history: str | None = None,
        max_catch_up: str = "P7D",
        max_rows_per_message: int = 20_000,
        max_message_bytes: int = 4 * 2**20,  # under Pulsar's default maxMessageSize (5 MB) with room for properties
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        cursors_recovered: int = 0,
    ) -> None:
        self.provider = provider
        self.tasks = list(tasks)
        self._client = client
        self._publisher = publisher
        self._topic = topic
        self._cursors = cursors
        self._spool = spool
        self._initial_history = parse_duration(initial_history) if initial_history else None
        self._max_catch_up = parse_duration(max_catch_up)
        self._max_rows = max_rows_per_message
        self._max_message_bytes = max_message_bytes
        self._clock = clock
        self._cursors_recovered = cursors_recovered
        now = clock()
        self.status: dict[str, TaskStatus] = {}
        for task in self.tasks:
            cursor = cursors.get(task.name)
            due = task.spec.schedule.next_run(cursor.last_run) if cursor else now
            self.status[task.name] = TaskStatus(next_run=due, last_success=cursor.last_run if cursor else None)
        self.spooled_total = 0
        self.drained_total = 0
        self._published: dict[str, dict[tuple[str, datetime], float]] = {}
        # An operator's reach-back per task (run_now's ``since``), kept until a fetch with it succeeds.
        self._reach_back: dict[str, datetime] = {}

    def run_due(self) -> int:
        """Drain the spool, then run every task whose time has come; return the tasks run."""
        if len(self._spool):
            self.drained_total += self._spool.drain(self._publisher)
        now = self._clock()
        due = [task for task in self.tasks if self.status[task.name].next_run <= now]
        for task in sorted(due, key=lambda t: self.status[t.name].next_run):
            if self.status[task.name].next_run <= now:  # not held meanwhile by a provider's pause
                self.run_task(task, self._clock())
        return len(due)

    def run_now(self, datasets: Iterable[str] | None = None, since: datetime | None = None) -> list[str]:
        """Make the tasks of ``datasets`` (catalogue ids; all when None) due at once; the names of the tasks made due.

        An operator's "fetch now" (after a provider's late publication, or to see a fault through): the loop runs them
        in its next round, at most ``poll_interval_s`` away, in their usual window from the cursor. With ``since``
        (an aware time) that window reaches back to it, within ``max_catch_up``: a re-fetch after a provider revised
        or filled older data. Values as published before are not sent again.
        """
        if since is not None:
            if since.tzinfo is None:
                raise ValueError(f"run_now: since must carry its time zone, got {since!r}")
            since = since.astimezone(UTC)
        wanted = None if datasets is None else set(datasets)
        now = self._clock()
        chosen = [task for task in self.tasks if wanted is None or task.spec.id in wanted]
        for task in chosen:
            self.status[task.name].next_run = min(self.status[task.name].next_run, now)
            if since is not None:
                self._reach_back[task.name] = since
        return [task.name for task in chosen]

    def run_task(self, task: AcquisitionTask, now: datetime) -> None:
        """Fetch the task's window, publish it, store the cursor; a provider failure reschedules a retry.

        The run is the root span of its data's trace: the messages carry its context to ingestion and the warehouse.
        """
        attributes = {"scalar.provider": self.provider, "scalar.dataset": task.spec.id, "scalar.area": task.area}
        with tracer.start_as_current_span(f"acquire {self.provider}", attributes=attributes):
            try:
                self._run_task(task, now)
            except ProviderError as exc:
                self._failed(task, now, exc)
                logger.warning("%s: fetch failed (%s), retrying at %s", task.name, exc, self._retry_at(task))
            except Exception as exc:
                # Containment: whatever one task meets (a bug, a library's own error) is that task's failure, retried
                # with back-off like a provider's; the provider's other tasks keep their turns.
                self._failed(task, now, exc)
                logger.exception(
                    "%s: unexpected %s, retrying at %s", task.name, type(exc).__name__, self._retry_at(task)
                )

    def _failed(self, task: AcquisitionTask, now: datetime, exc: Exception) -> None:
        status = self.status[task.name]
        provider_errors.add(1, {"scalar.provider": self.provider, "error.type": type(exc).__name__})
        status.consecutive_errors += 1
        text = str(exc) if isinstance(exc, ProviderError) else f"{type(exc).__name__}: {exc}"
        status.last_error, status.last_error_at = text[:_LONGEST_ERROR], now
        if isinstance(exc, RateLimitedError):
            status.throttled += 1
        backoff = Backoff(_FIRST_RETRY.total_seconds(), self._interval(task, now).total_seconds())
        status.next_run = now + timedelta(seconds=backoff.delay(status.consecutive_errors))
        asked = exc.retry_after_s if isinstance(exc, ProviderHTTPError) else None
        if asked:
            # The provider asked for a pause (a ban, maintenance): every task of this provider waits, not only the
            # one that heard it, and none longer than an hour (a "Retry-After: 86400" is not a day without data).
            held_until = now + min(timedelta(seconds=asked), _LONGEST_HOLD)
            for other in self.status.values():
                other.next_run = max(other.next_run, held_until)

    def _retry_at(self, task: AcquisitionTask) -> str:
        return self.status[task.name].next_run.isoformat()

    def _run_task(self, task: AcquisitionTask, now: datetime) -> None:
        status = self.status[task.name]
        cursor = self._cursors.get(task.name)
        window = self.window_for(task, cursor, now, since=self._reach_back.get(task.name))
        table = self._client.fetch(task.spec, task.area, window)
        self._reach_back.pop(task.name, None)
        changed = self._changed_only(task, table, window)
        messages = self._messages(task, window, changed, now) if changed.num_rows else []
        for message in messages:
            self._hand_over(message)
        covered = _covered_until(table, window, task.spec.resolution)
        previous = cursor.covered_until if cursor else None
        self._cursors.put(
            task.name,
            Cursor(
                covered_until=max(filter(None, (covered, previous)), default=None),
                last_run=now,
                runs=(cursor.runs if cursor else 0) + 1,
            ),
        )
        status.consecutive_errors = 0
        status.last_success = now
        status.messages += len(messages)
        status.rows += changed.num_rows
        status.unchanged_rows += table.num_rows - changed.num_rows
        status.next_run = task.spec.schedule.next_run(now)
        logger.info("%s: %d rows in %d message(s) for %s", task.name, table.num_rows, len(messages), window)

    def _changed_only(self, task: AcquisitionTask, table: pa.Table, window: Window) -> pa.Table:
        """The rows whose value differs from the last one this actor published for the same series and interval.

        Every scheduled run re-fetches its look-back; providers that stamp no publication time get the fetch time as
        ``issued_at``, so an unchanged value would otherwise be stored as a new vintage on every run. A revision (a
        different value) always goes out. The memory is per actor life: after a restart the first run sends
        everything once more, which the warehouse absorbs.
        """
        published = self._published.setdefault(task.name, {})
        for key in [key for key in published if key[1] < window.start]:
            del published[key]  # older than any window this task will fetch again
        if table.num_rows == 0:
            return table
        columns = table.select(["series_id", "ts", "value"]).to_pydict()
        keep = []
        for index, key in enumerate(zip(columns["series_id"], columns["ts"], strict=True)):
            value = columns["value"][index]
            if published.get(key) != value:
                keep.append(index)
                published[key] = value
        # Typed indices: an empty Python list would be a null-typed array, which `take` refuses (all rows unchanged).
        return table if len(keep) == table.num_rows else table.take(pa.array(keep, type=pa.int64()))

    def window_for(
        self, task: AcquisitionTask, cursor: Cursor | None, now: datetime, since: datetime | None = None
    ) -> Window:
        """The scheduled window, reaching back to where the published data ended or to an operator's ``since``.

        Either reaches back at most ``max_catch_up``.
        """
        scheduled = task.spec.fetch_window(now)
        start = scheduled.start if since is None else min(scheduled.start, since)
        if cursor is not None and cursor.covered_until is not None:
            start = min(start, cursor.covered_until)
        elif cursor is None and self._initial_history is not None:
            start = min(start, add_duration(now, self._initial_history, -1))
        oldest = add_duration(now, self._max_catch_up, -1)
        start = max(start, min(oldest, scheduled.start))
        return Window(_floor_to(start, task.spec.resolution), scheduled.end)

    def _messages(self, task: AcquisitionTask, window: Window, table: pa.Table, now: datetime) -> list[OutgoingMessage]:
        fetch_id = hashlib.sha256(f"{self.provider}|{task.name}|{window}|{now.isoformat()}".encode()).hexdigest()[:32]
        messages: list[OutgoingMessage] = []
        pieces = [table.slice(offset, self._max_rows) for offset in range(0, table.num_rows, self._max_rows)]
        while pieces:
            piece = pieces.pop(0)
            envelope = Envelope(self.provider, task.spec.key, window, f"{fetch_id}-{len(messages)}", piece)
            payload, properties = envelope.encode()
            if len(payload) > self._max_message_bytes and piece.num_rows > 1:
                # Rows are counted, bytes are what the broker limits (long series ids, many units): halve until
                # each message fits under the broker's maxMessageSize, in row order.
                half = piece.num_rows // 2
                pieces[:0] = [piece.slice(0, half), piece.slice(half)]
                continue
            properties |= {"dataset_id": task.spec.id, "area": task.area}
            # KeyShared routes by key: one (dataset, area) stays in order on one ingestion replica.
            messages.append(OutgoingMessage(self._topic, payload, properties, f"{self.provider}/{task.name}"))
        return messages

    def _hand_over(self, message: OutgoingMessage) -> None:
        attributes = {
            "messaging.system": "pulsar",
            "messaging.operation.type": "send",
            "messaging.destination.name": message.topic,
        }
        name = f"send {message.topic}"
        with tracer.start_as_current_span(name, kind=SpanKind.PRODUCER, attributes=attributes) as span:
            # The send span's context travels in the properties (a spooled message keeps it for its later send).
            message = dataclasses.replace(message, properties=with_trace_context(message.properties))
            if not len(self._spool):
                try:
                    self._publisher.send(message)
                    messages_sent.add(1, attributes)
                    return
                except BrokerUnavailableError as exc:
                    logger.warning("broker unavailable, spooling to %s: %s", self._spool.directory, exc)
            span.add_event("spooled", {"scalar.spool.size": len(self._spool) + 1})
            self._spool.append(message)
            self.spooled_total += 1

    def _interval(self, task: AcquisitionTask, now: datetime) -> timedelta:
        following = task.spec.schedule.next_run(now)
        return max(_FIRST_RETRY, task.spec.schedule.next_run(following) - following)

    def snapshot(self) -> AcquisitionStatus:
        """The provider's health for status output (a copy: the service goes on changing its own)."""
        stats = self._client.stats()
        return AcquisitionStatus(
            provider=self.provider,
            tasks={name: dataclasses.replace(status) for name, status in self.status.items()},
            spooled=len(self._spool),
            spooled_total=self.spooled_total,
            drained_total=self.drained_total,
            requests=stats.requests,
            retries=stats.retries,
            throttled=stats.throttled,
            http_failures=stats.failures,
            spool_bytes=self._spool.bytes,
            spool_full=self._spool.full,
            spool_set_aside=self._spool.set_aside,
            cursors_recovered=self._cursors_recovered,
        )


def _covered_until(table: pa.Table, window: Window, resolution: str) -> datetime | None:
    """The end of the last interval the fetch returned (None when it returned nothing)."""
    if table.num_rows == 0:
        return None
    latest: datetime = pc.max(table["ts"]).as_py()
    return min(add_duration(latest, parse_duration(resolution)), window.end)


def _floor_to(moment: datetime, resolution: str) -> datetime:
    step = clock_step(resolution)
    return floor_to(moment, step) if step else moment.replace(hour=0, minute=0, second=0, microsecond=0)
