"""The platform's instruments, created once on the global meter.

OpenTelemetry's API hands out proxies until a provider is installed (``telemetry.setup.configure``), so library code
records through these at import time and a process that never configures telemetry pays for no-ops only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Observation

from scalar_ray.telemetry.checklist import CHECKLIST

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
_checklist = {item.metric: item for item in CHECKLIST}


def _checklist_counter(metric: str) -> Counter:
    """A counter of the checklist, named, unitised and described by its item there."""
    item = _checklist[metric]
    return _meter.create_counter(metric, unit=item.unit, description=item.meaning)


def _duration(metric: str, description: str) -> Histogram:
    """A duration histogram in seconds with OpenTelemetry's advised boundaries."""
    return _meter.create_histogram(
        metric, unit="s", description=description, explicit_bucket_boundaries_advisory=DURATION_BUCKETS_S
    )


db_operation_duration = _duration(
    "db.client.operation.duration", "Duration of warehouse operations (INSERT: ingestion batches; SELECT: reads)."
)
ingestion_freshness = _duration(
    "scalar.ingestion.freshness", "Time from a message's publication to its rows' commit in the warehouse."
)
provider_request_duration = _duration(
    "http.client.request.duration", "Duration of HTTP requests to the providers' APIs."
)
ingestion_failed = _checklist_counter("scalar.ingestion.failed_messages")
ingestion_redelivered = _checklist_counter("scalar.ingestion.redelivered_messages")
provider_throttled = _checklist_counter("scalar.provider.throttled")
provider_errors = _checklist_counter("scalar.provider.errors")
forecast_completed = _checklist_counter("scalar.forecast.completed")
messages_sent = _meter.create_counter(
    "messaging.client.sent.messages", unit="{message}", description="Messages handed to the broker."
)
messages_consumed = _meter.create_counter(
    "messaging.client.consumed.messages", unit="{message}", description="Messages received from the broker."
)
training_completed = _meter.create_counter(
    "scalar.training.completed",
    unit="{model}",
    description="Models trained by a training job, by outcome (promoted, rejected, failed).",
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
