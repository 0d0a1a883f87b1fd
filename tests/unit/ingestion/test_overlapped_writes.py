"""Writes overlapped with the next batch's receipt (a write executor): order, acknowledgements and failures kept."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyarrow as pa
import pytest

from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage
from scalar_ray.cache.base import InMemoryCache
from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.window import Window
from scalar_ray.ingestion.batcher import FlushPolicy
from scalar_ray.ingestion.worker import IngestionWorker
from scalar_ray.warehouse.base import InMemoryWarehouse, WriteResult
from tests.unit.spine_helpers import HOUR, NOW, envelope, observations

TOPIC = "persistent://scalar/acquisition/entsoe"
DLQ = "persistent://scalar/acquisition/dead-letter"
SERIES = "entsoe/A44/DK1/price"
WAIT_S = 5.0


class GatedWarehouse(InMemoryWarehouse):
    """Holds each write until the test opens its gate; records the order of the writes' first values."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Semaphore(0)
        self.gate = threading.Semaphore(0)
        self.fail_next = False
        self.order: list[list[float]] = []

    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        self.entered.release()
        assert self.gate.acquire(timeout=WAIT_S), "the test never let the write through"
        if self.fail_next:
            self.fail_next = False
            raise WarehouseError("gated", "write", "connection refused")
        self.order.append(observations["value"].to_pylist())
        return super().write(observations, batch_id)

    def wait_for_write(self) -> None:
        assert self.entered.acquire(timeout=WAIT_S), "no write started"


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=1)
    yield pool
    pool.shutdown(wait=False, cancel_futures=True)


def publish(broker: InMemoryBroker, values: list[float], fetch_id: str, hours: int = 0) -> None:
    start = HOUR + timedelta(hours=hours)
    table = observations(values, start=start)
    payload, properties = envelope(table, Window(start, start + timedelta(days=1)), fetch_id).encode()
    broker.send(OutgoingMessage(TOPIC, payload, properties, "entsoe/A44/DK1"))


def overlapping_worker(
    broker: InMemoryBroker, warehouse: InMemoryWarehouse, executor: ThreadPoolExecutor
) -> tuple[IngestionWorker, InMemoryCache]:
    cache = InMemoryCache()
    worker = IngestionWorker(
        broker.source(max_messages=1),  # one message a receive: a batch of one row is full at once
        warehouse,
        cache,
        broker,
        DLQ,
        FlushPolicy(max_rows=1, max_age_s=60.0),
        monotonic=itertools.count(step=60).__next__,  # a minute a reading: every retry is due at once
        wall_clock=lambda: NOW,
        write_executor=executor,
    )
    return worker, cache


def settle(worker: IngestionWorker, broker: InMemoryBroker) -> None:
    for _ in range(20):
        worker.step()
        if broker.backlog == 0:
            return


def test_the_next_batch_is_received_and_judged_while_a_full_one_is_written(executor: ThreadPoolExecutor) -> None:
    broker, warehouse = InMemoryBroker(), GatedWarehouse()
    publish(broker, [1.0], "a")
    publish(broker, [2.0], "b", hours=1)
    worker, cache = overlapping_worker(broker, warehouse, executor)

    worker.step()  # receives a: full, its write starts and is not waited for
    warehouse.wait_for_write()
    worker.step()  # receives and judges b meanwhile

    assert worker.stats.messages == 2
    assert broker.backlog == 2  # nothing acknowledged before its commit
    assert cache.latest(SERIES) is None
    assert warehouse.count() == 0

    warehouse.gate.release()
    warehouse.gate.release()
    settle(worker, broker)

    assert warehouse.order == [[1.0], [2.0]]
    assert broker.backlog == 0
    assert worker.stats.rows_written == 2
    latest = cache.latest(SERIES)
    assert latest is not None
    assert latest.value == 2.0


def test_a_failed_write_in_flight_is_retried_before_the_batch_behind_it(executor: ThreadPoolExecutor) -> None:
    broker, warehouse = InMemoryBroker(), GatedWarehouse()
    publish(broker, [1.0], "first")
    publish(broker, [9.0], "restated")  # the same key again: the later message must win
    worker, _ = overlapping_worker(broker, warehouse, executor)
    warehouse.fail_next = True

    worker.step()
    warehouse.wait_for_write()
    worker.step()  # the restatement waits in the next batch
    warehouse.gate.release()  # the first write fails
    for _ in range(3):
        warehouse.gate.release()
    settle(worker, broker)

    assert worker.stats.warehouse_errors == 1
    assert warehouse.order == [[1.0], [9.0]]  # the failed batch again, then the one behind it
    assert warehouse.read([SERIES], Window(HOUR, HOUR + timedelta(hours=1)))["value"].to_pylist() == [9.0]
    assert broker.backlog == 0


def test_a_planned_stop_waits_for_the_write_in_flight(executor: ThreadPoolExecutor) -> None:
    broker, warehouse = InMemoryBroker(), GatedWarehouse()
    publish(broker, [1.0], "a")
    publish(broker, [2.0], "b", hours=1)
    worker, _ = overlapping_worker(broker, warehouse, executor)
    worker.step()
    warehouse.wait_for_write()
    worker.step()

    warehouse.gate.release()
    warehouse.gate.release()
    worker.drain()

    assert warehouse.order == [[1.0], [2.0]]
    assert broker.backlog == 0


class SlowWarehouse(InMemoryWarehouse):
    """Takes a while to commit: a write on the executor is still under way when the step that started it checks."""

    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        time.sleep(0.2)
        return super().write(observations, batch_id)


def test_a_write_started_when_nothing_more_waits_is_settled_in_the_same_step(executor: ThreadPoolExecutor) -> None:
    broker, warehouse = InMemoryBroker(), SlowWarehouse()
    publish(broker, [1.0, 2.0], "live")
    cache = InMemoryCache()
    worker = IngestionWorker(
        broker.source(),
        warehouse,
        cache,
        broker,
        DLQ,
        FlushPolicy(max_rows=1000, max_age_s=60.0),
        wall_clock=lambda: NOW,
        write_executor=executor,
    )

    worker.step()  # receives the window
    worker.step()  # nothing more waiting: written and settled before the step returns

    assert broker.backlog == 0
    assert cache.latest(SERIES) is not None
