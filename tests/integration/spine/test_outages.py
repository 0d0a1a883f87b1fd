"""Acceptance (c), (d), (e): outages lose nothing; bad messages are dead-lettered; Redis is optional."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pulsar
import pytest
import ray
import redis

from actors.warehouse import ensure_warehouse_actor
from scalar_ray.broker.envelope import Envelope
from scalar_ray.broker.topics import acquisition_topic, dead_letter_topic
from scalar_ray.config import Settings, load_settings
from scalar_ray.core.window import Window
from scalar_ray.local import RedisServer
from scalar_ray.local.process import wait_until
from scalar_ray.local.pulsar import PulsarStandalone
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.status import AcquisitionStatus, IngestionStatus
from scalar_ray.warehouse.remote import WAREHOUSE_ACTOR
from tests.integration.conftest import free_port, running

pytestmark = pytest.mark.integration

# Energinet's minute-by-minute feed keeps a run due every minute, so outages always fall mid-stream.
LIVE = "energinet/PowerSystemRightNow,energinet/Forecasts_5Min,elia/ods134"
# How long an outage lasts at least (it also lasts until the stream has hit it): 10 s by default, so `make test`
# stays short; SCALAR_TEST_OUTAGE_S=30 holds the broker and the warehouse away as long as the spine's acceptance says.
OUTAGE_S = float(os.environ.get("SCALAR_TEST_OUTAGE_S", "10"))


def _replicas(platform) -> list[IngestionStatus]:  # type: ignore[no-untyped-def]
    replicas: list[IngestionStatus] = platform.replicas()
    return replicas


def _acquisition(platform, provider: str) -> AcquisitionStatus:  # type: ignore[no-untyped-def]
    status: AcquisitionStatus = platform.acquisition(provider)
    return status


def _assert_exactly_once(platform, providers: list[str]) -> None:  # type: ignore[no-untyped-def]
    published = platform.published_keys(providers)
    stored = platform.stored_keys()
    assert published
    assert Counter(stored).most_common(1)[0][1] == 1
    assert set(stored) == published


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulsarStandalone]:
    """A broker of this module's own, so stopping it disturbs no other test."""
    settings = load_settings(
        {
            "SCALAR_LOCAL__DATA_DIR": str(tmp_path_factory.mktemp("own-broker")),
            "SCALAR_BROKER__SERVICE_URL": f"pulsar://127.0.0.1:{free_port()}",
            "SCALAR_BROKER__ADMIN_URL": f"http://127.0.0.1:{free_port()}",
            "SCALAR_LOCAL__PULSAR_HEAP_MB": "512",
        }
    )
    broker = PulsarStandalone(settings)
    with running(broker):
        yield broker


def test_stopping_the_broker_loses_nothing(start_spine, own_broker: PulsarStandalone) -> None:  # type: ignore[no-untyped-def]
    platform = start_spine(
        SCALAR_BROKER__SERVICE_URL=own_broker.settings.broker.service_url,
        SCALAR_BROKER__ADMIN_URL=str(own_broker.settings.broker.admin_url),
        SCALAR_ACQUISITION__DATASETS=LIVE,
    )
    assert platform.settled(), platform.describe()

    own_broker.stop()
    stopped = time.monotonic()
    # Stay down at least OUTAGE_S and until acquisition had to spool a fetched window. An operator's re-fetch of the
    # last two hours makes one now: the platform has sent only the feed's 30-minute look-back, and the minute feed
    # itself has something new only once a minute has begun (half a minute's wait on average).
    assert platform.run_now("energinet", ["PowerSystemRightNow"], since=datetime.now(UTC) - timedelta(hours=2))
    assert wait_until(lambda: _acquisition(platform, "energinet").spooled > 0, 150), platform.describe()
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
    own_broker.start()
    own_broker.wait_ready()

    assert wait_until(lambda: _acquisition(platform, "energinet").spooled == 0, 120), platform.describe()
    assert _acquisition(platform, "energinet").drained_total > 0
    assert platform.settled(), platform.describe()
    _assert_exactly_once(platform, ["energinet", "elia"])


def test_stopping_the_warehouse_loses_nothing(start_spine) -> None:  # type: ignore[no-untyped-def]
    platform = start_spine(SCALAR_ACQUISITION__DATASETS=LIVE)
    assert platform.settled(), platform.describe()
    namespace = platform.settings.ray.namespace
    written_before = sum(r.rows_written for r in _replicas(platform))

    ray.kill(ray.get_actor(WAREHOUSE_ACTOR, namespace=namespace), no_restart=True)
    stopped = time.monotonic()
    # A message arrives while the warehouse is away: ingestion must hold it, not lose it. Published here rather than
    # waited for: the minute feed only has something new once a minute has begun (half a minute on average).
    arrived = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    _publish(platform.settings, [_envelope(77.0, arrived, f"away-{uuid.uuid4().hex[:8]}").encode()])
    assert wait_until(lambda: sum(r.warehouse_errors for r in _replicas(platform)) > 0, 150), platform.describe()
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
    ensure_warehouse_actor(platform.settings)

    assert wait_until(lambda: sum(r.rows_written for r in _replicas(platform)) > written_before, 120)
    assert platform.settled(), platform.describe()
    _assert_exactly_once(platform, ["energinet", "elia"])


def _envelope(value: float, ts: datetime, fetch_id: str) -> Envelope:
    window = Window(ts, ts + timedelta(hours=1))
    context = FetchContext("energinet", "Elspotprices", window, datetime.now(UTC), "DK1")
    builder = ObservationBuilder(context)
    builder.add(
        area="DK1",
        variable="price",
        ts=ts,
        value=value,
        issued_at=datetime.now(UTC) - timedelta(minutes=5),
        unit="EUR/MWh",
        resolution="PT15M",
    )
    return Envelope("energinet", "Elspotprices", window, fetch_id, builder.build())


def _publish(settings: Settings, messages: list[tuple[bytes, dict[str, str]]]) -> None:
    client = pulsar.Client(settings.broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    try:
        producer = client.create_producer(acquisition_topic(settings.broker.tenant, "energinet"))
        for payload, properties in messages:
            producer.send(payload, properties=properties, partition_key="energinet/test")
    finally:
        client.close()


def _dead_letters(settings: Settings, expected: int) -> list[dict[str, str]]:
    client = pulsar.Client(settings.broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    found = []
    try:
        consumer = client.subscribe(
            dead_letter_topic(settings.broker.tenant),
            f"check-{uuid.uuid4().hex[:6]}",
            initial_position=pulsar.InitialPosition.Earliest,
        )
        while len(found) < expected:
            message = consumer.receive(timeout_millis=30_000)
            found.append(dict(message.properties()))
            consumer.acknowledge(message)
    finally:
        client.close()
    return found


def test_malformed_messages_go_to_the_dead_letter_topic_with_reasons_and_the_stream_goes_on(start_spine) -> None:  # type: ignore[no-untyped-def]
    platform = start_spine(SCALAR_ACQUISITION__DATASETS="energinet/Elspotprices", SCALAR_ACQUISITION__AREAS="none")
    settings = platform.settings
    hour = datetime(2026, 1, 5, 10, tzinfo=UTC)
    good_before = _envelope(80.0, hour, "good-1").encode()
    tampered_payload, tampered_properties = _envelope(81.0, hour, "tampered").encode()
    out_of_range = _envelope(9.9e9, hour, "range").encode()
    off_grid = _envelope(82.0, hour + timedelta(minutes=7), "grid").encode()
    good_after = _envelope(83.0, hour + timedelta(minutes=15), "good-2").encode()
    _publish(
        settings,
        [
            good_before,
            (b"not arrow at all", {"provider": "energinet"}),
            (tampered_payload + b"x", tampered_properties),
            out_of_range,
            off_grid,
            good_after,
        ],
    )

    letters = _dead_letters(settings, 4)
    reasons = sorted(letter["dead_letter_reason"] for letter in letters)
    assert any("lacks propert" in reason for reason in reasons)
    assert any("content_sha256" in reason for reason in reasons)
    assert any("outside [-50000, 50000]" in reason for reason in reasons)
    assert any("not on the PT15M grid" in reason for reason in reasons)
    assert all(letter["source_topic"].endswith("/energinet") for letter in letters)
    assert wait_until(lambda: platform.warehouse.count() == 2, 60)
    stored = platform.warehouse.query("select value from observations order by ts")
    assert stored["value"].to_pylist() == [80.0, 83.0]
    assert wait_until(lambda: platform.status().broker.dead_letters == 4, 30)
    # `scalar-ray status`'s checklist, read from the actors' metrics, counts them too.
    checklist = {line.title: line for line in platform.status().checklist}
    assert checklist["Failed messages"].value == "4", checklist["Failed messages"]
    assert checklist["Batch insert time"].reported and checklist["Worker uptime"].reported

    def backlog_reported() -> bool:
        lines = {line.title: line for line in platform.status().checklist}
        return bool(lines["Consumer backlog"].reported)

    assert wait_until(backlog_reported, 30)


def test_with_redis_down_ingestion_goes_on_and_the_cache_recovers(  # type: ignore[no-untyped-def]
    start_spine, redis_server: RedisServer, service_settings: Settings
) -> None:
    platform = start_spine(SCALAR_ACQUISITION__DATASETS="energinet/Elspotprices", SCALAR_ACQUISITION__AREAS="none")
    settings = platform.settings
    hour = datetime(2026, 1, 6, 10, tzinfo=UTC)
    cache = redis.Redis(host="127.0.0.1", port=redis_server.port, decode_responses=True)
    series = "energinet/Elspotprices/DK1/price"

    cache.delete(f"scalar:recent:{series}")  # another test may have cached this series
    redis_server.stop()
    try:
        _publish(
            settings, [_envelope(70.0 + i, hour + timedelta(minutes=15 * i), f"down-{i}").encode() for i in range(4)]
        )
        assert wait_until(lambda: platform.warehouse.count() == 4, 60), platform.describe()
        assert sum(r.cache_failures for r in _replicas(platform)) >= 1
    finally:
        redis_server.start()
        redis_server.wait_ready()

    later = hour + timedelta(hours=2)
    deadline = time.monotonic() + 120
    # The guard retries after its back-off; keep publishing until a write reaches Redis again.
    while time.monotonic() < deadline and not cache.exists(f"scalar:recent:{series}"):
        _publish(settings, [_envelope(90.0, later, f"up-{time.monotonic()}").encode()])
        later += timedelta(minutes=15)
        time.sleep(2)
    assert cache.exists(f"scalar:recent:{series}")
    assert platform.warehouse.count() >= 5
    cache.close()
