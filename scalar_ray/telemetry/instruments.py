"""The platform's instruments, created once on the global meter.

OpenTelemetry's API hands out proxies until a provider is installed (``telemetry.setup.configure``), so library code
records through these at import time and a process that never configures telemetry pays for no-ops only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation

from scalar_ray.telemetry.checklist import CHECKLIST, ChecklistItem

__all__ = [
    "DURATION_BUCKETS_S",
    "db_operation",
    "forecast_completed",
    "ingestion_failed",
    "ingestion_freshness",
    "ingestion_redelivered",
    "messages_consumed",
    "messages_sent",
    "observe_gauge",
    "provider_errors",
    "provider_request_duration",
    "provider_throttled",
    "tracer",
    "training_completed",
]

# OpenTelemetry's advised boundaries for HTTP and database durations, in seconds.
DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0]

_meter = metrics.get_meter("scalar_ray")
tracer = trace.get_tracer("scalar_ray")
_items: dict[tuple[str, str], ChecklistItem] = {(item.metric, item.kind): item for item in CHECKLIST}


def _meaning(metric: str, kind: str, fallback: str) -> str:
    item = _items.get((metric, kind))
    return item.meaning if item else fallback


db_operation_duration = _meter.create_histogram(
    "db.client.operation.duration",
    unit="s",
    description="Duration of warehouse operations (INSERT: ingestion batches; SELECT: reads).",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS_S,
)
ingestion_failed = _meter.create_counter(
    "scalar.ingestion.failed_messages",
    unit="{message}",
    description=_meaning("scalar.ingestion.failed_messages", "counter", ""),
)
ingestion_redelivered = _meter.create_counter(
    "scalar.ingestion.redelivered_messages",
    unit="{message}",
    description=_meaning("scalar.ingestion.redelivered_messages", "counter", ""),
)
ingestion_freshness = _meter.create_histogram(
    "scalar.ingestion.freshness",
    unit="s",
    description="Time from a message's publication to its rows' commit in the warehouse.",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS_S,
)
messages_sent = _meter.create_counter(
    "messaging.client.sent.messages", unit="{message}", description="Messages handed to the broker."
)
messages_consumed = _meter.create_counter(
    "messaging.client.consumed.messages", unit="{message}", description="Messages received from the broker."
)
provider_throttled = _meter.create_counter(
    "scalar.provider.throttled", unit="{response}", description=_meaning("scalar.provider.throttled", "counter", "")
)
provider_errors = _meter.create_counter(
    "scalar.provider.errors", unit="{error}", description=_meaning("scalar.provider.errors", "counter", "")
)
provider_request_duration = _meter.create_histogram(
    "http.client.request.duration",
    unit="s",
    description="Duration of HTTP requests to the providers' APIs.",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS_S,
)
training_completed = _meter.create_counter(
    "scalar.training.completed",
    unit="{model}",
    description="Models trained by a training job, by outcome (promoted, rejected, failed).",
)
forecast_completed = _meter.create_counter(
    "scalar.forecast.completed", unit="{forecast}", description=_meaning("scalar.forecast.completed", "counter", "")
)


@contextmanager
def db_operation(system: str, operation: str, collection: str) -> Iterator[dict[str, str]]:
    """Time a warehouse operation as a ``db.client.operation.duration`` point and a CLIENT span.

    Yields the attributes, so a failure can add ``error.type`` before the point is recorded.
    """
    attributes = {"db.system.name": system, "db.operation.name": operation, "db.collection.name": collection}
    started = time.perf_counter()
    with tracer.start_as_current_span(
        f"{operation} {collection}", kind=trace.SpanKind.CLIENT, attributes=attributes
    ) as span:
        try:
            yield attributes
        except Exception as exc:
            attributes["error.type"] = type(exc).__name__
            span.set_attribute("error.type", type(exc).__name__)
            raise
        finally:
            db_operation_duration.record(time.perf_counter() - started, attributes)


def observe_gauge(
    metric: str, unit: str, description: str, read: Callable[[], Iterable[tuple[float, dict[str, str]]]]
) -> None:
    """An observable gauge whose values ``read`` gives at each collection (``(value, attributes)`` pairs)."""

    def callback(_: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value, attributes) for value, attributes in read()]

    _meter.create_observable_gauge(metric, callbacks=[callback], unit=unit, description=description)
