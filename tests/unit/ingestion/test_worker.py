"""The ingestion loop on fakes: batching, acknowledgement after commit, dead letters, warehouse outages, the cache."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from scalar_ray.broker.envelope import Envelope
from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage
from scalar_ray.cache.base import BestEffortCache, InMemoryCache
from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.forecasts import FORECAST_PROVIDER
from scalar_ray.core.window import Window
from scalar_ray.ingestion.batcher import FlushPolicy, MicroBatcher, PendingBatch
from scalar_ray.ingestion.worker import IngestionWorker
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse.base import InMemoryWarehouse, WriteResult
from tests.unit.spine_helpers import HOUR, NOW, envelope, observations

TOPIC = "persistent://scalar/acquisition/entsoe"
DLQ = "persistent://scalar/acquisition/dead-letter"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FlakyWarehouse(InMemoryWarehouse):
    """Fails while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.writes = 0

    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        if self.down:
            raise WarehouseError("flaky", "write", "connection refused")
        self.writes += 1
        return super().write(observations, batch_id)


class BrokenCache(InMemoryCache):
    def update(self, observations: pa.Table) -> int:
        raise ConnectionError("redis is down")


def publish(broker: InMemoryBroker, table: pa.Table, fetch_id: str = "f") -> None:
    payload, properties = envelope(table, fetch_id=fetch_id).encode()
    broker.send(OutgoingMessage(TOPIC, payload, properties, "entsoe/A44/DK1"))


def worker_for(
    broker: InMemoryBroker, warehouse: InMemoryWarehouse, **options: object
) -> tuple[IngestionWorker, Clock]:
    clock = Clock()
    policy = options.pop("policy", FlushPolicy(max_rows=1000, max_age_s=1.0))
    worker = IngestionWorker(
        broker.source(),
        warehouse,
        options.pop("cache", InMemoryCache()),  # type: ignore[arg-type]
        broker,
        DLQ,
        policy,  # type: ignore[arg-type]
        monotonic=clock,
        wall_clock=lambda: NOW,
        forecast_targets=options.pop("forecast_targets", None),  # type: ignore[arg-type]
    )
    return worker, clock


def test_messages_are_written_once_and_acknowledged_only_after_the_commit() -> None:
    broker, warehouse = InMemoryBroker(), FlakyWarehouse()
    publish(broker, observations([1.0, 2.0]), "a")
    publish(broker, observations([3.0], start=HOUR + timedelta(hours=1)), "b")
    worker, _ = worker_for(broker, warehouse)

    worker.step()  # receives both; the source is not idle yet, the batch is not due
    assert warehouse.count() == 0
    assert broker.backlog == 2
    worker.step()  # nothing more waiting: the batch is written, then acknowledged

    assert warehouse.count() == 3
    assert warehouse.writes == 1
    assert broker.backlog == 0
    assert worker.stats.rows_written == 3


def test_a_redelivered_message_changes_nothing() -> None:
    broker, warehouse = InMemoryBroker(), FlakyWarehouse()
    table = observations([1.0, 2.0])
    publish(broker, table, "a")
    publish(broker, table, "a-again")
    worker, _ = worker_for(broker, warehouse)

    worker.step()
    worker.step()

    assert warehouse.count() == 2


def test_a_failed_write_keeps_the_batch_unacknowledged_and_retries_until_it_succeeds() -> None:
    broker, warehouse = InMemoryBroker(), FlakyWarehouse()
    publish(broker, observations([1.0]))
    worker, clock = worker_for(broker, warehouse)
    warehouse.down = True

    worker.step()
    worker.step()
    assert worker.stats.warehouse_errors == 1
    assert broker.backlog == 1
    assert worker.stats.writing_blocked_since is not None

    warehouse.down = False
    clock.now += 30
    worker.step()

    assert warehouse.count() == 1
    assert broker.backlog == 0
    assert worker.stats.writing_blocked_since is None


def test_a_replica_that_dies_before_the_commit_leaves_its_messages_to_the_next() -> None:
    broker, warehouse = InMemoryBroker(), FlakyWarehouse()
    publish(broker, observations([1.0, 2.0]))
    first, _ = worker_for(broker, warehouse)
    first.step()  # received, not yet written: the replica "dies" here
    broker.redeliver_unacknowledged()

    second, _ = worker_for(broker, warehouse)
    second.step()
    second.step()

    assert warehouse.count() == 2
    assert second.stats.redelivered == 1


def test_bad_messages_go_to_the_dead_letter_topic_and_good_ones_still_land() -> None:
    broker, warehouse = InMemoryBroker(), FlakyWarehouse()
    broker.send(OutgoingMessage(TOPIC, b"garbage", {"provider": "entsoe"}, "k"))
    publish(broker, observations([9e9]), "range")
    publish(broker, observations([42.0]), "good")
    worker, _ = worker_for(broker, warehouse)

    worker.step()
    worker.step()

    letters = broker.topics[DLQ]
    assert [m.properties["source_topic"] for m in letters] == [TOPIC, TOPIC]
    assert "lacks propert" in letters[0].properties["dead_letter_reason"]
    assert "outside" in letters[1].properties["dead_letter_reason"]
    assert letters[0].payload == b"garbage"  # intact, for a replay once fixed
    assert warehouse.count() == 1
    assert broker.backlog_of(TOPIC) == 0
    assert broker.backlog_of(DLQ) == 2  # awaiting an operator's review
    assert worker.stats.dead_lettered == 2


def test_a_broken_cache_never_stops_ingestion() -> None:
    broker, warehouse = InMemoryBroker(), FlakyWarehouse()
    cache = BestEffortCache(BrokenCache())
    publish(broker, observations([1.0]))
    worker, _ = worker_for(broker, warehouse, cache=cache)

    worker.step()
    worker.step()

    assert warehouse.count() == 1
    assert worker.snapshot().cache_failures == 1


def test_the_cache_holds_the_latest_points_after_a_write() -> None:
    broker, warehouse = InMemoryBroker(), FlakyWarehouse()
    cache = InMemoryCache()
    publish(broker, observations([1.0, 2.0, 3.0]))
    worker, _ = worker_for(broker, warehouse, cache=cache)

    worker.step()
    worker.step()

    latest = cache.latest("entsoe/A44/DK1/price")
    assert latest is not None
    assert latest.value == 3.0


@pytest.mark.parametrize(
    ("policy", "rows", "age", "idle", "due"),
    [
        pytest.param(FlushPolicy(max_rows=10), 10, 0.0, False, True, id="full_by_rows"),
        pytest.param(FlushPolicy(max_rows=10, max_age_s=1.0), 5, 1.5, False, True, id="old_enough"),
        pytest.param(FlushPolicy(max_rows=10, max_age_s=1.0), 5, 0.5, True, True, id="nothing_more_waiting"),
        pytest.param(FlushPolicy(max_rows=10, max_age_s=1.0), 5, 0.5, False, False, id="still_filling"),
        pytest.param(
            FlushPolicy(max_rows=10, max_age_s=1.0, flush_when_idle=False), 5, 0.5, True, False, id="idle_flush_off"
        ),
    ],
)
def test_the_batcher_flushes_on_rows_age_or_idleness(
    policy: FlushPolicy, rows: int, age: float, idle: bool, due: bool
) -> None:
    batcher = MicroBatcher(policy)
    broker = InMemoryBroker()
    publish(broker, observations([1.0] * rows))
    message = broker.source(max_messages=1).receive()[0]
    batcher.add(message, observations([float(i) for i in range(rows)], step=timedelta(minutes=15)), now=0.0)

    assert batcher.due(age, source_idle=idle) is due


def test_a_batch_keeps_the_later_message_when_two_carry_the_same_key() -> None:
    batch = PendingBatch(tables=[observations([1.0, 2.0]), observations([5.0])])

    combined = batch.combined()

    assert sorted(combined["value"].to_pylist()) == [2.0, 5.0]


def test_status_reports_freshness_over_the_last_five_minutes_only() -> None:
    broker, warehouse = InMemoryBroker(), FlakyWarehouse()
    worker, _ = worker_for(broker, warehouse)
    recent = NOW.timestamp()
    # A start-up backlog an hour ago, then two fresh messages.
    worker.stats.freshness.extend([(recent - 3_600, 9_000.0), (recent - 10, 100.0), (recent - 5, 120.0)])

    snapshot = worker.snapshot()

    assert snapshot.freshness_p99_ms == 120.0
    assert snapshot.freshness_p50_ms == 120.0


TARGETS = {("test_demand", "DK1", "load"): "entsoe/A65/DK1/load"}
FORECAST_TOPIC = "persistent://scalar/insights/forecasts"


def forecast_series(
    issued_at: datetime, base: float, variables: tuple[str, ...] = ("mean", "q10", "q50", "q90")
) -> pa.Table:
    window = Window(HOUR, HOUR + timedelta(hours=1))
    builder = ObservationBuilder(FetchContext(FORECAST_PROVIDER, "test_demand", window, NOW, "DK1"))
    for step in range(4):
        for part, offset in zip(variables, (0.0, -5.0, 0.0, 5.0), strict=False):
            builder.add(
                area="DK1",
                variable=f"load_{part}",
                ts=HOUR + timedelta(minutes=15 * step),
                value=base + step + offset,
                issued_at=issued_at,
                unit="MW",
                resolution="PT15M",
            )
    return builder.build()


def publish_forecast(broker: InMemoryBroker, table: pa.Table, version: str | None = "v7") -> None:
    envelope = Envelope(FORECAST_PROVIDER, "test_demand", Window(HOUR, HOUR + timedelta(hours=1)), "fc", table)
    payload, properties = envelope.encode()
    if version is not None:
        properties["model_version"] = version
    broker.send(OutgoingMessage(FORECAST_TOPIC, payload, properties, "scalar/test_demand/DK1"))


def test_a_forecast_message_lands_in_the_forecasts_table_with_its_version_and_in_the_cache() -> None:
    broker, warehouse, cache = InMemoryBroker(), InMemoryWarehouse(), InMemoryCache()
    issued = NOW - timedelta(minutes=5)
    publish_forecast(broker, forecast_series(issued, 100.0))
    publish(broker, observations([1.0, 2.0]), "actuals")
    worker, _ = worker_for(broker, warehouse, cache=cache, forecast_targets=TARGETS)

    worker.step()  # receives both
    worker.step()  # nothing more waiting: the batch is written

    stored = warehouse.read_forecasts("test_demand", "DK1", Window(issued, issued + timedelta(seconds=1))).to_pylist()
    assert len(stored) == 4
    assert {(row["model_version"], row["target"]) for row in stored} == {("v7", "entsoe/A65/DK1/load")}
    assert (stored[0]["mean"], stored[0]["q10"], stored[0]["q90"]) == (100.0, 95.0, 105.0)
    assert warehouse.count() == 2  # the actuals are observations; the forecast is not
    assert [p.value for p in cache.recent("scalar/test_demand/DK1/load_q50", 2)] == [102.0, 103.0]
    assert broker.backlog == 0


@pytest.mark.parametrize(
    ("table", "version", "reason"),
    [
        pytest.param(forecast_series(NOW, 1.0), None, "names no model version", id="no_version"),
        pytest.param(forecast_series(NOW, 1.0, ("q10", "q50")), "v1", "has no mean", id="no_mean"),
    ],
)
def test_a_forecast_that_cannot_be_stored_is_dead_lettered_with_its_reason(
    table: pa.Table, version: str | None, reason: str
) -> None:
    broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
    publish_forecast(broker, table, version)
    worker, _ = worker_for(broker, warehouse, forecast_targets=TARGETS)

    worker.step()
    worker.step()

    (letter,) = broker.topics[DLQ]
    assert reason in letter.properties["dead_letter_reason"]
    assert warehouse.read_forecasts("test_demand", "DK1", Window(NOW - timedelta(days=1), NOW)).num_rows == 0


def test_a_forecast_of_an_unknown_model_is_dead_lettered() -> None:
    broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
    publish_forecast(broker, forecast_series(NOW, 1.0))
    worker, _ = worker_for(broker, warehouse, forecast_targets={})

    worker.step()
    worker.step()

    assert "not a forecast of a configured family" in broker.topics[DLQ][0].properties["dead_letter_reason"]
