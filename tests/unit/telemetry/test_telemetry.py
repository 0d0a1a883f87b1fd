"""Telemetry on fakes: the checklist's metrics and names, trace context through message properties, one trace from
a provider fetch to the warehouse commit, and log records stamped with the trace they were written in."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from scalar_ray.acquisition.cursors import InMemoryCursorStore
from scalar_ray.acquisition.service import AcquisitionService, AcquisitionTask
from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage
from scalar_ray.broker.spool import DiskSpool
from scalar_ray.core.errors import RateLimitedError
from scalar_ray.ingestion.batcher import FlushPolicy
from scalar_ray.ingestion.worker import IngestionWorker
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.http import ProviderHttp, RetryPolicy
from scalar_ray.telemetry.checklist import CHECKLIST, prometheus_name
from scalar_ray.telemetry.instruments import tracer
from scalar_ray.telemetry.propagation import context_from, with_trace_context
from scalar_ray.telemetry.setup import TraceContextFilter
from scalar_ray.telemetry.snapshot import MetricPoint, checklist_lines
from scalar_ray.warehouse.base import InMemoryWarehouse
from scalar_ray.warehouse.instrumented import InstrumentedWarehouse
from tests.conftest import Captured
from tests.unit.acquisition.test_acquisition import NOW, FakeClient

TOPIC = "persistent://unit/acquisition/entsoe"

# The seed's checklist, in the operators' words.
OPERATORS_CHECKLIST = [
    "consumer backlog",
    "batch insert time",
    "failed messages",
    "redeliveries",
    "api throttling",
    "provider errors",
    "worker uptime",
    "forecast completion",
    "query latency",
    "spool fill",  # added: a full spool is the alarm of a broker outage that lasts too long
]


def test_the_checklist_is_the_operators_and_names_one_metric_per_item() -> None:
    assert [item.title.lower() for item in CHECKLIST] == OPERATORS_CHECKLIST
    for item in CHECKLIST:
        assert item.metric == item.metric.lower() and "." in item.metric
        assert item.kind in ("counter", "gauge", "histogram")
    # One metric serves two items only when attributes tell them apart.
    pairs = [(item.metric, tuple(sorted(item.where.items()))) for item in CHECKLIST]
    assert len(set(pairs)) == len(pairs)


def test_prometheus_names_follow_the_otlp_translation() -> None:
    assert prometheus_name("db.client.operation.duration", "s", "histogram") == "db_client_operation_duration_seconds"
    assert prometheus_name("scalar.provider.errors", "{error}", "counter") == "scalar_provider_errors_total"
    assert prometheus_name("process.uptime", "s", "gauge") == "process_uptime_seconds"
    assert prometheus_name("scalar.pulsar.backlog", "{message}", "gauge") == "scalar_pulsar_backlog"


def backlog(topic: str, subscription: str) -> dict[str, str]:
    return {"messaging.destination.name": topic, "messaging.consumer.group.name": subscription}


def test_checklist_lines_read_counters_gauges_and_histograms() -> None:
    points = [
        MetricPoint(
            "scalar.pulsar.backlog", "gauge", "{message}", backlog("persistent://t/acquisition/a", "ingestion"), 3
        ),
        MetricPoint(
            "scalar.pulsar.backlog", "gauge", "{message}", backlog("persistent://t/acquisition/b", "ingestion"), 4
        ),
        MetricPoint(
            "scalar.pulsar.backlog", "gauge", "{message}", backlog("persistent://t/acquisition/dlq", "review"), 9
        ),
        MetricPoint("process.uptime", "gauge", "s", {"scalar.worker": "ingestion-0"}, 3700),
        MetricPoint("process.uptime", "gauge", "s", {"scalar.worker": "acquisition-elia"}, 65),
        MetricPoint("scalar.provider.errors", "counter", "{error}", {"scalar.provider": "elia"}, 2),
        MetricPoint(
            "db.client.operation.duration",
            "histogram",
            "s",
            {"db.operation.name": "INSERT", "db.system.name": "duckdb"},
            count=4,
            total=0.2,
            maximum=0.09,
            bounds=(0.01, 0.1, 1.0),
            buckets=(1, 3, 0, 0),
        ),
    ]

    lines = {line.title: line for line in checklist_lines(points)}

    assert [line for line in lines] == [item.title for item in CHECKLIST]
    assert lines["Consumer backlog"].value == "7" and lines["Consumer backlog"].breakdown == {"a": "3", "b": "4"}
    assert lines["Worker uptime"].value == "shortest 1m05s"
    assert lines["Worker uptime"].breakdown["ingestion-0"] == "1h01m"
    assert lines["Provider errors"].breakdown == {"elia": "2"}
    assert lines["Batch insert time"].value == "4 ops, mean 50.0 ms, p99 ≤ 100 ms, max 90 ms"
    assert not lines["Query latency"].reported  # SELECT points only: the INSERT histogram is not query latency
    assert lines["Query latency"].value == "no data yet"
    assert lines["Failed messages"].value == "none yet" and not lines["Failed messages"].reported


def test_the_trace_context_travels_in_message_properties(captured: Captured) -> None:
    with tracer.start_as_current_span("send") as span:
        properties = with_trace_context({"dataset_id": "A65"})
    assert properties["dataset_id"] == "A65" and properties["traceparent"].startswith("00-")

    parent = trace.get_current_span(context_from(properties)).get_span_context()
    assert parent.trace_id == span.get_span_context().trace_id
    assert parent.span_id == span.get_span_context().span_id
    assert not trace.get_current_span(context_from({"dataset_id": "A65"})).get_span_context().is_valid


def test_log_records_carry_the_trace_and_span_ids(captured: Captured) -> None:
    record = logging.LogRecord("scalar_ray.test", logging.INFO, __file__, 1, "fetched", None, None)
    with tracer.start_as_current_span("acquire") as span:
        TraceContextFilter().filter(record)
    assert record.trace_id == format(span.get_span_context().trace_id, "032x")  # type: ignore[attr-defined]
    assert record.span_id == format(span.get_span_context().span_id, "016x")  # type: ignore[attr-defined]


def test_one_trace_runs_from_the_provider_fetch_to_the_warehouse_commit(tmp_path: Path, captured: Captured) -> None:
    broker = InMemoryBroker()
    spec = load_catalogue().get("entsoe", "A44")  # the fake client's prices
    acquisition = AcquisitionService(
        "entsoe",
        [AcquisitionTask(spec, "DK1")],
        FakeClient(),
        broker,
        TOPIC,
        InMemoryCursorStore(),
        DiskSpool(tmp_path / "spool"),
        clock=lambda: NOW,
    )
    warehouse = InstrumentedWarehouse(InMemoryWarehouse(), "memory")
    worker = IngestionWorker(
        broker.source(), warehouse, None, broker, "persistent://unit/acquisition/dead-letter", FlushPolicy()
    )
    broker.send(OutgoingMessage(TOPIC, b"not an envelope", {}, "x"))  # a failed message, traced on its own

    acquisition.run_task(acquisition.tasks[0], NOW)
    worker.step()  # receives both
    worker.step()  # nothing more waiting: writes the batch

    spans = captured.finished()
    acquire = next(s for s in spans if s.name == "acquire entsoe")
    trace_id = acquire.context.trace_id
    chain = {s.name: s for s in spans if s.context.trace_id == trace_id}
    send, process = chain[f"send {TOPIC}"], chain[f"process {TOPIC}"]
    batch, insert = chain["ingest batch"], chain["INSERT observations"]
    assert send.kind == SpanKind.PRODUCER and send.parent.span_id == acquire.context.span_id
    assert process.kind == SpanKind.CONSUMER and process.parent.span_id == send.context.span_id
    assert batch.parent.span_id == process.context.span_id
    assert insert.kind == SpanKind.CLIENT and insert.parent.span_id == batch.context.span_id
    assert insert.attributes["db.operation.name"] == "INSERT"
    assert [event.name for event in process.events] == ["committed"]
    assert process.end_time >= insert.end_time  # the message's span closes with its acknowledgement
    failed = next(s for s in spans if s.name == f"process {TOPIC}" and s.context.trace_id != trace_id)
    assert failed.status.status_code == trace.StatusCode.ERROR and failed.attributes["error.type"] == "payload"


def test_throttled_answers_and_failed_fetches_are_counted(tmp_path: Path, captured: Captured) -> None:
    def total(metric: str, provider: str) -> float:
        points = captured.telemetry.points()
        return sum(p.value for p in points if p.metric == metric and p.attributes["scalar.provider"] == provider)

    throttled, errors = total("scalar.provider.throttled", "unit"), total("scalar.provider.errors", "entsoe")
    http = ProviderHttp(
        "unit",
        "http://provider.test",
        60_000,
        policy=RetryPolicy(attempts=2, max_retry_after_s=0),
        transport=httpx.MockTransport(lambda _: httpx.Response(429, headers={"Retry-After": "30"})),
        sleep=lambda _: None,
    )
    with pytest.raises(RateLimitedError):
        http.request("GET", "/prices")
    client = FakeClient()
    client.failing = True
    spec = load_catalogue().get("entsoe", "A65-actual")
    acquisition = AcquisitionService(
        "entsoe",
        [AcquisitionTask(spec, "DK1")],
        client,
        InMemoryBroker(),
        TOPIC,
        InMemoryCursorStore(),
        DiskSpool(tmp_path / "spool"),
        clock=lambda: NOW,
    )
    acquisition.run_task(acquisition.tasks[0], NOW)

    assert total("scalar.provider.throttled", "unit") - throttled == 1
    assert total("scalar.provider.errors", "entsoe") - errors == 1
