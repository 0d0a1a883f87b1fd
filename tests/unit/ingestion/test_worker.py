"""The ingestion loop on fakes: batching, acknowledgement after commit, dead letters, warehouse outages, the cache."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from scalar_ray.broker.envelope import Envelope, ForecastEnvelope
from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage
from scalar_ray.cache.base import BestEffortCache, InMemoryCache
from scalar_ray.core.errors import BrokerUnavailableError, WarehouseError
from scalar_ray.core.forecasts import FORECAST_PROVIDER
from scalar_ray.core.window import Window
from scalar_ray.feed import BestEffortFeed, InMemoryChangeFeed
from scalar_ray.ingestion.batcher import FlushPolicy, MicroBatcher, PendingBatch
from scalar_ray.ingestion.worker import IngestionWorker
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse.base import InMemoryWarehouse, WriteResult
from tests.unit.spine_helpers import HOUR, NOW, envelope, forecast_issue, observations

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
FORECAST_WINDOW = Window(HOUR, HOUR + timedelta(hours=1))


def forecast(issued_at: datetime, base: float, version: str = "v7") -> pa.Table:
    """An issue of test_demand/DK1: four quarter-hours of load, mean and q10/q50/q90."""
    return forecast_issue(
        issued_at, version, base, family="test_demand", zone="DK1", steps=4, targets=("entsoe/A65/DK1/load",)
    )


def publish_forecast(
    broker: InMemoryBroker, table: pa.Table, *, version: str = "v7", issued_at: datetime | None = None
) -> None:
    issue_time = issued_at or table["issued_at"][0].as_py()
    message = ForecastEnvelope("test_demand", "DK1", version, issue_time, FORECAST_WINDOW, "fc", table)
    payload, properties = message.encode()
    broker.send(OutgoingMessage(FORECAST_TOPIC, payload, properties, "scalar/test_demand/DK1"))


def test_a_forecast_message_lands_in_the_forecasts_table_with_its_version_and_in_the_cache() -> None:
    broker, warehouse, cache = InMemoryBroker(), InMemoryWarehouse(), InMemoryCache()
    issued = NOW - timedelta(minutes=5)
    publish_forecast(broker, forecast(issued, 100.0))
    publish(broker, observations([1.0, 2.0]), "actuals")
    worker, _ = worker_for(broker, warehouse, cache=cache, forecast_targets=TARGETS)

    worker.step()  # receives both
    worker.step()  # nothing more waiting: the batch is written

    stored = warehouse.read_forecasts("test_demand", "DK1", Window(issued, issued + timedelta(seconds=1))).to_pylist()
    assert len(stored) == 4
    assert {(row["model_version"], row["target"]) for row in stored} == {("v7", "entsoe/A65/DK1/load")}
    assert (stored[0]["mean"], stored[0]["q10"], stored[0]["q90"]) == (100.0, 90.0, 110.0)
    assert warehouse.count() == 2  # the actuals are observations; the forecast is not
    cached = cache.latest_forecast("test_demand", "DK1")
    assert cached is not None and cached.to_pylist() == forecast(issued, 100.0).to_pylist()
    assert broker.backlog == 0


def _crossed(table: pa.Table) -> pa.Table:
    return table.set_column(table.schema.get_field_index("q90"), "q90", pa.array([0.0] * table.num_rows))


def _nan_mean(table: pa.Table) -> pa.Table:
    return table.set_column(table.schema.get_field_index("mean"), "mean", pa.array([float("nan")] * table.num_rows))


@pytest.mark.parametrize(
    ("table", "options", "reason"),
    [
        pytest.param(forecast(NOW, 1.0, "v1"), {}, "model_version v1, the message says v7", id="other_version"),
        pytest.param(
            forecast(NOW, 1.0), {"issued_at": NOW - timedelta(hours=1)}, "rows claim issued_at", id="other_issue"
        ),
        pytest.param(_crossed(forecast(NOW, 1.0)), {}, "below a lower level", id="crossed_quantiles"),
        pytest.param(_nan_mean(forecast(NOW, 1.0)), {}, "NaN or infinite", id="nan"),
        pytest.param(pa.concat_tables([forecast(NOW, 1.0)] * 2), {}, "repeat a key", id="repeated_key"),
        pytest.param(
            forecast_issue(NOW, "v7", 1.0, family="test_demand", zone="DK1", start=HOUR + timedelta(hours=2)),
            {},
            "outside the window",
            id="outside_window",
        ),
        pytest.param(forecast(NOW, 1.0).slice(0, 0), {}, "has no rows", id="empty"),
    ],
)
def test_a_forecast_that_cannot_be_stored_is_dead_lettered_with_its_reason(
    table: pa.Table, options: dict[str, datetime], reason: str
) -> None:
    broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
    publish_forecast(broker, table, issued_at=options.get("issued_at", NOW))
    publish_forecast(broker, forecast(NOW - timedelta(minutes=1), 5.0))  # the stream goes on after it
    worker, _ = worker_for(broker, warehouse, forecast_targets=TARGETS)

    worker.step()
    worker.step()

    (letter,) = broker.topics[DLQ]
    assert reason in letter.properties["dead_letter_reason"], letter.properties["dead_letter_reason"]
    stored = warehouse.read_forecasts("test_demand", "DK1", Window(NOW - timedelta(days=1), NOW + timedelta(1)))
    assert set(stored["mean"].to_pylist()) == {5.0, 6.0, 7.0, 8.0}


def test_a_forecast_of_an_unknown_model_or_target_is_dead_lettered() -> None:
    broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
    publish_forecast(broker, forecast(NOW, 1.0))
    worker, _ = worker_for(broker, warehouse, forecast_targets={})

    worker.step()
    worker.step()

    assert "not a target of this family and zone" in broker.topics[DLQ][0].properties["dead_letter_reason"]


def test_a_tampered_forecast_message_is_dead_lettered_as_a_payload_error() -> None:
    broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
    message = ForecastEnvelope("test_demand", "DK1", "v7", NOW, FORECAST_WINDOW, "fc", forecast(NOW, 1.0))
    payload, properties = message.encode()
    broker.send(OutgoingMessage(FORECAST_TOPIC, payload + b"x", properties, "scalar/test_demand/DK1"))
    worker, _ = worker_for(broker, warehouse, forecast_targets=TARGETS)

    worker.step()
    worker.step()

    assert "content_sha256" in broker.topics[DLQ][0].properties["dead_letter_reason"]


def legacy_series(issued_at: datetime, base: float, parts: tuple[str, ...] = ("mean", "q10", "q50", "q90")) -> pa.Table:
    """A forecast as releases before the forecast message published it: one series per target and quantile."""
    builder = ObservationBuilder(FetchContext(FORECAST_PROVIDER, "test_demand", FORECAST_WINDOW, NOW, "DK1"))
    for step in range(4):
        for part, offset in zip(parts, (0.0, -5.0, 0.0, 5.0), strict=False):
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


def publish_legacy(broker: InMemoryBroker, table: pa.Table, version: str | None = "v7") -> None:
    payload, properties = Envelope(FORECAST_PROVIDER, "test_demand", FORECAST_WINDOW, "fc", table).encode()
    if version is not None:
        properties["model_version"] = version
    broker.send(OutgoingMessage(FORECAST_TOPIC, payload, properties, "scalar/test_demand/DK1"))


def test_a_forecast_in_the_old_series_form_still_lands_in_the_forecasts_table() -> None:
    broker, warehouse, cache = InMemoryBroker(), InMemoryWarehouse(), InMemoryCache()
    publish_legacy(broker, legacy_series(NOW, 100.0))
    worker, _ = worker_for(broker, warehouse, cache=cache, forecast_targets=TARGETS)

    worker.step()
    worker.step()

    stored = warehouse.read_forecasts("test_demand", "DK1", Window(NOW, NOW + timedelta(seconds=1))).to_pylist()
    assert [(row["model_version"], row["mean"], row["q10"]) for row in stored[:1]] == [("v7", 100.0, 95.0)]
    assert warehouse.count() == 0
    assert cache.latest_issue_time("test_demand", "DK1") == NOW


@pytest.mark.parametrize(
    ("table", "version", "reason"),
    [
        pytest.param(legacy_series(NOW, 1.0), None, "names no model version", id="no_version"),
        pytest.param(legacy_series(NOW, 1.0, ("q10", "q50")), "v1", "has no mean", id="no_mean"),
    ],
)
def test_an_old_form_forecast_that_cannot_be_converted_is_dead_lettered(
    table: pa.Table, version: str | None, reason: str
) -> None:
    broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
    publish_legacy(broker, table, version)
    worker, _ = worker_for(broker, warehouse, forecast_targets=TARGETS)

    worker.step()
    worker.step()

    assert reason in broker.topics[DLQ][0].properties["dead_letter_reason"]


class PickyWarehouse(InMemoryWarehouse):
    """Refuses any batch holding a row with a tab in its unit (as StarRocks' plain CSV load does), for good."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0
        self.away_after: int | None = None

    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        self.attempts += 1
        if self.away_after is not None and self.attempts > self.away_after:
            raise WarehouseError("picky", "write", "connection refused")  # transient: the warehouse went away
        if any("\t" in unit for unit in observations["unit"].to_pylist()):
            raise WarehouseError("picky", "write", "a value cannot be written as plain CSV", permanent=True)
        return super().write(observations, batch_id)


def test_a_poison_message_is_found_by_bisection_and_dead_lettered_while_the_rest_lands() -> None:
    broker, warehouse = InMemoryBroker(), PickyWarehouse()
    for number in range(5):
        unit = "EUR\tMWh" if number == 3 else "EUR/MWh"
        publish(broker, observations([float(number)], HOUR + timedelta(hours=number), unit=unit), f"f{number}")
    worker, _ = worker_for(broker, warehouse)

    worker.step()
    worker.step()  # nothing more waiting: the batch is written (it used to be retried forever, keys stalled behind)

    assert warehouse.count() == 4 and broker.backlog_of(TOPIC) == 0
    assert worker.stats.dead_lettered == 1 and worker.stats.writing_blocked_since is None
    (dead,) = broker.topics[DLQ]
    assert dead.properties["fetch_id"] == "f3"
    assert "the warehouse refuses its rows" in dead.properties["dead_letter_reason"]
    assert warehouse.attempts <= 1 + 2 * 3  # the batch, then halves down to the one message (log2 of 5 rounds up)


def test_a_warehouse_that_goes_away_during_the_bisection_blocks_the_whole_batch_for_a_retry() -> None:
    broker, warehouse = InMemoryBroker(), PickyWarehouse()
    for number in range(4):
        unit = "EUR\tMWh" if number == 0 else "EUR/MWh"
        publish(broker, observations([float(number)], HOUR + timedelta(hours=number), unit=unit), f"f{number}")
    warehouse.away_after = 1
    worker, _ = worker_for(broker, warehouse)

    worker.step()
    worker.step()

    assert worker.stats.writing_blocked_since is not None and broker.backlog_of(TOPIC) == 4  # nothing acked or lost
    assert DLQ not in broker.topics and worker.stats.warehouse_errors == 1


def test_a_fault_of_ours_while_judging_hands_the_message_back_instead_of_holding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
    publish(broker, observations([1.0]))
    worker, _ = worker_for(broker, warehouse)
    calls = {"n": 0}
    real = worker._judge  # the fault is injected into the worker's own step

    def judge_once_broken(message, topic):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug")
        return real(message, topic)

    monkeypatch.setattr(worker, "_judge", judge_once_broken)

    worker.step()  # the fault: released, redelivered at once by the fake
    worker.step()
    worker.step()

    assert worker.stats.released == 1 and warehouse.count() == 1 and broker.backlog_of(TOPIC) == 0


def test_an_unforeseen_error_from_the_warehouse_blocks_the_batch_for_a_retry_and_loses_nothing() -> None:
    class Bugged(InMemoryWarehouse):
        def __init__(self) -> None:
            super().__init__()
            self.bugged = True

        def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
            if self.bugged:
                raise KeyError("an adapter's bug")
            return super().write(observations, batch_id)

    broker, warehouse = InMemoryBroker(), Bugged()
    publish(broker, observations([1.0]))
    worker, clock = worker_for(broker, warehouse)

    worker.step()
    worker.step()
    assert worker.stats.warehouse_errors == 1 and broker.backlog_of(TOPIC) == 1

    warehouse.bugged = False
    clock.now += 30
    worker.step()
    assert warehouse.count() == 1 and broker.backlog_of(TOPIC) == 0


def test_a_dead_letter_that_cannot_be_sent_hands_the_message_back_instead_of_dropping_it() -> None:
    broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
    broker.send(OutgoingMessage(TOPIC, b"garbage", {"provider": "entsoe"}, "k"))
    dead_letters = InMemoryBroker()
    dead_letters.available = False
    clock = Clock()
    worker = IngestionWorker(
        broker.source(), warehouse, None, dead_letters, DLQ, FlushPolicy(), monotonic=clock, wall_clock=lambda: NOW
    )

    worker.step()  # judged bad, the dead-letter topic away: released, so the broker still holds it

    assert worker.stats.released == 1 and worker.stats.dead_lettered == 0
    assert broker.backlog_of(TOPIC) == 1
    dead_letters.available = True
    worker.step()
    assert worker.stats.dead_lettered == 1 and [m.payload for m in dead_letters.topics[DLQ]] == [b"garbage"]


def test_a_failed_acknowledgement_hands_the_committed_messages_back_instead_of_holding_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
    publish(broker, observations([1.0, 2.0]))
    worker, _ = worker_for(broker, warehouse)
    source = worker._source
    real = source.acknowledge
    failures = iter([BrokerUnavailableError("acknowledge", TOPIC, "connection reset")])

    def acknowledge_once_broken(messages):  # type: ignore[no-untyped-def]
        if (failure := next(failures, None)) is not None:
            raise failure
        return real(messages)

    monkeypatch.setattr(source, "acknowledge", acknowledge_once_broken)

    worker.step()
    worker.step()  # committed, the acknowledgement fails: released, so the broker delivers them again
    assert worker.stats.released == 1 and broker.backlog_of(TOPIC) == 1
    worker.step()
    worker.step()  # rewritten to the same keys and acknowledged this time

    assert broker.backlog_of(TOPIC) == 0 and warehouse.count() == 2


def test_each_commit_is_pushed_to_the_change_feed_and_a_broken_feed_stops_nothing() -> None:
    class DownFeed(InMemoryChangeFeed):
        def publish(self, events):  # type: ignore[no-untyped-def]
            raise ConnectionError("redis is down")

    for feed, pushed in ((InMemoryChangeFeed(), 1), (BestEffortFeed(DownFeed()), 0)):
        broker, warehouse = InMemoryBroker(), InMemoryWarehouse()
        publish(broker, observations([1.0, 2.0]))
        clock = Clock()
        worker = IngestionWorker(
            broker.source(), warehouse, None, broker, DLQ, FlushPolicy(max_rows=1000, max_age_s=1.0),
            feed=feed, monotonic=clock, wall_clock=lambda: NOW,
        )  # fmt: skip

        worker.step()
        worker.step()

        assert warehouse.count() == 2 and broker.backlog_of(TOPIC) == 0  # committed and acknowledged either way
        inner = feed.inner if isinstance(feed, BestEffortFeed) else feed
        events = asyncio.run(inner.read("0", block_ms=0)).events if pushed else []
        assert len(events) == pushed
        if pushed:
            assert [value for _, value in events[0].values] == [1.0, 2.0]
        else:
            assert isinstance(feed, BestEffortFeed) and feed.failures == 1
