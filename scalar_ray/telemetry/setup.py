"""Installing OpenTelemetry in a process: traces, metrics and logs, exported over OTLP when settings name a collector.

Every long-lived process (the actors, the Serve replicas, a training job's driver) calls ``configure`` once with its
worker name. Locally nothing leaves the process by default (no endpoint); the collector in docker-compose and on AKS
receives OTLP/HTTP on port 4318. Besides the exporters, each process keeps an in-process metric reader: that is what
`scalar-ray status` reads through the actors, so the terminal's checklist is the same metrics the dashboard shows.

Log records carry ``trace_id`` and ``span_id`` of the span they were written in (the formatter prints them), and with
a collector they are exported too, so Grafana jumps from a log line to its trace.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from scalar_ray.config.settings import TelemetrySettings
from scalar_ray.telemetry.snapshot import MetricPoint, metric_points

__all__ = ["LOG_FORMAT", "Telemetry", "TraceContextFilter", "configure"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [trace_id=%(trace_id)s span_id=%(span_id)s] %(message)s"


class TraceContextFilter(logging.Filter):
    """Adds the current span's ids to every record (``0`` outside a span), for the log format and for search."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp the ids; never drop a record."""
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else "0"
        record.span_id = format(context.span_id, "016x") if context.is_valid else "0"
        return True


@dataclass
class Telemetry:
    """The process's providers and its in-process metric reader."""

    worker: str
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    reader: InMemoryMetricReader
    workers: dict[str, float] = field(default_factory=dict)
    logger_provider: Any = None  # opentelemetry.sdk._logs.LoggerProvider, with a collector only

    def points(self) -> list[MetricPoint]:
        """Every metric point this process holds now (cumulative since it started)."""
        return metric_points(self.reader.get_metrics_data())

    def add_worker(self, worker: str) -> None:
        """Report ``process.uptime`` for another worker hosted in this process (tests run several in one)."""
        self.workers.setdefault(worker, time.time())

    def capture_spans(self) -> InMemorySpanExporter:
        """Keep this process's finished spans in memory from now on (tests read the traces from it)."""
        exporter = InMemorySpanExporter()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        return exporter

    def flush(self) -> None:
        """Export what is buffered (before a job's driver exits)."""
        self.tracer_provider.force_flush()
        self.meter_provider.force_flush()
        if self.logger_provider is not None:
            self.logger_provider.force_flush()


_lock = threading.Lock()
_installed: Telemetry | None = None


def configure(
    settings: TelemetrySettings,
    worker: str,
    *,
    span_exporter: SpanExporter | None = None,
    metric_readers: Sequence[MetricReader] = (),
) -> Telemetry:
    """Install the providers once per process (later calls add ``worker`` and return the same ``Telemetry``).

    ``span_exporter`` and ``metric_readers`` are for tests (in-memory); production exports to ``otlp_endpoint``.
    """
    global _installed  # noqa: PLW0603 - OpenTelemetry's providers are process-global; so is their handle
    with _lock:
        if _installed is not None:
            _installed.add_worker(worker)
            return _installed
        resource = Resource.create(
            {
                "service.name": settings.service_name,
                "service.namespace": "scalar-ray",
                "service.instance.id": f"{socket.gethostname()}:{os.getpid()}",
                "scalar.worker": worker,
            }
        )
        tracer_provider = TracerProvider(resource=resource)
        if span_exporter is not None:
            tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        reader = InMemoryMetricReader()
        readers: list[MetricReader] = [reader, *metric_readers]
        logger_provider = None
        if settings.otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # noqa: PLC0415 - only with a collector
                OTLPMetricExporter,
            )
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415 - only with a collector
                OTLPSpanExporter,
            )

            base, headers = settings.otlp_endpoint.rstrip("/"), _headers(settings)
            spans = OTLPSpanExporter(f"{base}/v1/traces", headers=headers)
            tracer_provider.add_span_processor(BatchSpanProcessor(spans))
            readers.append(
                PeriodicExportingMetricReader(
                    OTLPMetricExporter(f"{base}/v1/metrics", headers=headers),
                    export_interval_millis=int(settings.metric_export_interval_s * 1000),
                )
            )
            logger_provider = _export_logs(resource, f"{base}/v1/logs", headers)
        meter_provider = MeterProvider(metric_readers=readers, resource=resource)
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(meter_provider)
        _installed = Telemetry(worker, tracer_provider, meter_provider, reader, logger_provider=logger_provider)
        _installed.add_worker(worker)
        _observe_uptime(_installed)
        _correlate_logs(settings.log_level)
        return _installed


def _headers(settings: TelemetrySettings) -> dict[str, str] | None:
    if settings.otlp_headers is None:
        return None
    pairs = (pair.split("=", 1) for pair in settings.otlp_headers.get_secret_value().split(",") if "=" in pair)
    return {key.strip(): value.strip() for key, value in pairs}


def _observe_uptime(telemetry: Telemetry) -> None:
    def uptime(_: CallbackOptions) -> list[Observation]:
        now = time.time()
        return [Observation(now - since, {"scalar.worker": name}) for name, since in telemetry.workers.items()]

    metrics.get_meter("scalar_ray").create_observable_gauge(
        "process.uptime", callbacks=[uptime], unit="s", description="Seconds since each long-lived worker started."
    )


def _correlate_logs(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level)
    root.setLevel(level)
    for handler in root.handlers:
        if type(handler).__name__ == "LoggingHandler":
            continue  # OpenTelemetry's own handler exports the ids as fields
        if not any(isinstance(f, TraceContextFilter) for f in handler.filters):
            handler.addFilter(TraceContextFilter())
            handler.setFormatter(logging.Formatter(LOG_FORMAT))


def _export_logs(resource: Resource, endpoint: str, headers: dict[str, str] | None) -> Any:
    from opentelemetry._logs import set_logger_provider  # noqa: PLC0415 - only with a collector
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # noqa: PLC0415
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler  # noqa: PLC0415
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor  # noqa: PLC0415

    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint, headers=headers)))
    set_logger_provider(provider)
    logging.getLogger().addHandler(LoggingHandler(logger_provider=provider))
    return provider
