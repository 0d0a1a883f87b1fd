"""The pipeline's telemetry on real services: a provider simulator over HTTP, Apache Pulsar, Redis and a DuckDB file,
with the library's services in this process and OpenTelemetry's in-memory exporter and reader.

One trace runs from the provider fetch through the broker (its context in the message properties) to the warehouse
commit, and every item of the operator's checklist has a value."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulsar
import pytest

from scalar_ray.broker.admin import PulsarAdmin
from scalar_ray.broker.messaging import (
    OutgoingMessage,
    PulsarMessageSource,
    PulsarPublisher,
    ReceivedMessage,
    SubscriptionOptions,
)
from scalar_ray.broker.topics import INGESTION_SUBSCRIPTION, REVIEW_SUBSCRIPTION, acquisition_topic, dead_letter_topic
from scalar_ray.composition import (
    acquisition_service,
    build_cache,
    forecast_families,
    forecast_service,
    ingested_topics,
)
from scalar_ray.config import Settings, load_settings
from scalar_ray.core.window import Window
from scalar_ray.ingestion.batcher import FlushPolicy
from scalar_ray.ingestion.worker import IngestionWorker
from scalar_ray.local import RedisServer
from scalar_ray.local.process import wait_until
from scalar_ray.local.pulsar import PulsarStandalone
from scalar_ray.operations import prepare_topics
from scalar_ray.simulator import FaultConfig, SimulatorServer
from scalar_ray.telemetry.backlog import observe_backlog
from scalar_ray.telemetry.checklist import CHECKLIST
from scalar_ray.telemetry.snapshot import MetricPoint, checklist_lines
from scalar_ray.warehouse.duckdb import DuckDBWarehouse
from scalar_ray.warehouse.instrumented import InstrumentedWarehouse
from tests.conftest import Captured
from tests.integration.conftest import free_port
from tests.integration.providers.conftest import simulator_environment

pytestmark = pytest.mark.integration


@pytest.fixture
def simulators() -> Iterator[tuple[SimulatorServer, SimulatorServer]]:
    """A well-behaved provider simulator, and one that answers every request 429 (Retry-After: 1)."""
    with (
        SimulatorServer(free_port()) as clean,
        SimulatorServer(free_port(), FaultConfig(rate_429=1.0, retry_after_s=1)) as throttling,
    ):
        yield clean, throttling


@pytest.fixture
def settings(
    service_settings: Settings,
    pulsar_broker: PulsarStandalone,
    redis_server: RedisServer,
    simulators: tuple[SimulatorServer, SimulatorServer],
    tmp_path: Path,
) -> Settings:
    clean, throttling = simulators
    throttled = simulator_environment(throttling.base_url)
    return load_settings(
        {
            **simulator_environment(clean.base_url),
            # Elia answers 429 to everything: throttling, then a provider error once the retries are spent.
            **{name: value for name, value in throttled.items() if name.startswith("SCALAR_PROVIDERS__ELIA__")},
            "SCALAR_BROKER__SERVICE_URL": service_settings.broker.service_url,
            "SCALAR_BROKER__ADMIN_URL": str(service_settings.broker.admin_url),
            "SCALAR_BROKER__TENANT": f"otel{uuid.uuid4().hex[:6]}",
            "SCALAR_CACHE__URL": str(service_settings.cache.url),
            "SCALAR_LOCAL__DATA_DIR": str(tmp_path / "data"),
            "SCALAR_ACQUISITION__DATASETS": '["energinet/DayAheadPrices", "elia/ods134"]',
            "SCALAR_ACQUISITION__AREAS": '["DK1", "BE"]',
        }
    )


def test_one_trace_from_fetch_to_commit_and_every_checklist_metric_has_a_value(
    settings: Settings, captured: Captured
) -> None:
    tenant = settings.broker.tenant
    before = captured.telemetry.points()
    prepare_topics(settings)
    client = pulsar.Client(settings.broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    stop_backlog = observe_backlog(
        lambda: PulsarAdmin(settings.broker.admin_url, settings.broker.auth_token),
        [(topic, INGESTION_SUBSCRIPTION) for topic in ingested_topics(settings)]
        + [(dead_letter_topic(tenant), REVIEW_SUBSCRIPTION)],
    )
    warehouse = InstrumentedWarehouse(DuckDBWarehouse(settings.duckdb_path), "duckdb")
    try:
        publisher = PulsarPublisher(client)
        now = datetime.now(UTC)
        energinet = acquisition_service(settings, "energinet", publisher)
        elia = acquisition_service(settings, "elia", publisher)
        energinet.run_task(energinet.tasks[0], now)
        elia.run_task(elia.tasks[0], now)  # 429 on every attempt
        topic = acquisition_topic(tenant, "energinet")
        publisher.send(OutgoingMessage(topic, b"not an envelope", {}, "energinet/broken"))

        source = PulsarMessageSource(
            client,
            SubscriptionOptions(
                tuple(ingested_topics(settings)),
                INGESTION_SUBSCRIPTION,
                "ingestion-test",
                dead_letter_topic=dead_letter_topic(tenant),
            ),
        )
        # A replica that gives its first delivery back (as a failing one does): the broker counts the redelivery.
        source.release(wait_for(source.receive, 20))
        worker = IngestionWorker(
            source, warehouse, build_cache(settings), publisher, dead_letter_topic(tenant), FlushPolicy()
        )
        assert wait_until(lambda: worker.step() or (worker.stats.messages >= 2 and worker.stats.redelivered >= 1), 60)
        assert wait_until(lambda: worker.step() or worker.stats.batches >= 1, 30)
        series = warehouse.query("select distinct series_id from observations")["series_id"].to_pylist()
        warehouse.read(series, Window(now - timedelta(days=2), now + timedelta(days=2)))  # a query
        spec = forecast_families(settings)[0]
        forecast_service(settings, warehouse, None).issue(spec, spec.zones[0], now)  # no champion yet: no_model
        time.sleep(0.5)  # the acknowledgements reach the broker before the backlog is read
        after = captured.telemetry.points()
        spans = captured.finished()
        source.close()
    finally:
        stop_backlog()
        warehouse.close()
        client.close()

    # One trace: fetch → send (producer) → process (consumer) → ingest batch → INSERT, closed at the commit.
    acquire = next(s for s in spans if s.name == "acquire energinet")
    chain = {s.name: s for s in spans if s.context.trace_id == acquire.context.trace_id}
    send, process = chain[f"send {topic}"], chain[f"process {topic}"]
    batch, insert = chain["ingest batch"], chain["INSERT observations"]
    assert send.parent.span_id == acquire.context.span_id
    assert process.parent.span_id == send.context.span_id
    assert batch.parent.span_id == process.context.span_id
    assert insert.parent.span_id == batch.context.span_id
    assert insert.attributes["db.system.name"] == "duckdb"
    assert "committed" in [event.name for event in process.events]

    # Every checklist item has a value from this run (counters and histograms grew; gauges reported this tenant).
    new = [point for point in after if changed(point, before) and concerns(point, tenant)]
    lines = {line.title: line for line in checklist_lines(new)}
    missing = [item.title for item in CHECKLIST if not lines[item.title].reported]
    assert missing == [], f"no value for {missing}; points: {[(p.metric, p.attributes) for p in new]}"
    assert lines["Failed messages"].breakdown == {"payload": "1"}
    assert lines["API throttling"].breakdown.get("elia", "0") != "0"
    assert lines["Forecast completion"].breakdown == {"no_model": "1"}  # a state before training, not a failure


def wait_for(receive: Callable[[], list[ReceivedMessage]], timeout_s: float) -> list[ReceivedMessage]:
    """The first non-empty batch ``receive`` gives."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if batch := receive():
            return batch
    raise AssertionError(f"nothing received within {timeout_s} s")


def changed(point: MetricPoint, before: list[MetricPoint]) -> bool:
    """A point that is new since ``before``, or has grown (gauges: any value now)."""
    if point.kind == "gauge":
        return True
    earlier = next((p for p in before if p.metric == point.metric and p.attributes == point.attributes), None)
    return earlier is None or (point.value, point.count) != (earlier.value, earlier.count)


def concerns(point: MetricPoint, tenant: str) -> bool:
    """Points of this test's topics (gauges observe every tenant the session has seen)."""
    topic = point.attributes.get("messaging.destination.name")
    return topic is None or f"//{tenant}/" in topic
