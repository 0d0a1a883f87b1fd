"""Cursors re-derived from the warehouse when an actor's state folder is gone (a lost node's disk)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from scalar_ray.acquisition.cursors import Cursor, InMemoryCursorStore
from scalar_ray.acquisition.recovery import recover_cursors
from scalar_ray.acquisition.service import AcquisitionTask
from scalar_ray.broker.messaging import InMemoryBroker
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse.base import InMemoryWarehouse
from tests.unit.acquisition.test_acquisition import NOW, FakeClient, service

STEP = timedelta(minutes=15)
ACTUAL = AcquisitionTask(load_catalogue().get("entsoe", "A65-actual"), "DK1")
FORECAST = AcquisitionTask(load_catalogue().get("entsoe", "A65-forecast"), "DK1")
ELSEWHERE = AcquisitionTask(load_catalogue().get("entsoe", "A65-actual"), "DK2")


def stored(warehouse: InMemoryWarehouse, variable: str, start, end, area: str = "DK1") -> None:  # type: ignore[no-untyped-def]
    builder = ObservationBuilder(FetchContext("entsoe", "A65", Window(start, end), NOW, area))
    ts = start
    while ts < end:
        builder.add(
            area=area,
            variable=variable,
            ts=ts,
            value=1.0,
            issued_at=NOW - timedelta(days=9),
            unit="MW",
            resolution="PT15M",
        )
        ts += STEP
    warehouse.write(builder.build())


def test_a_task_without_a_cursor_resumes_where_its_stored_data_ends() -> None:
    warehouse, cursors = InMemoryWarehouse(), InMemoryCursorStore()
    actual_end = NOW.replace(minute=0) - timedelta(days=4)
    stored(warehouse, "load", actual_end - timedelta(days=3), actual_end + STEP)
    # The day-ahead forecast shares the dataset key and area, and reaches into the future.
    stored(warehouse, "load_da", actual_end - timedelta(days=3), NOW + timedelta(days=1))

    recovered = recover_cursors(cursors, [ACTUAL, FORECAST, ELSEWHERE], warehouse.catalogue())

    # Both DK1 tasks resume at the earliest series end (re-fetching some forecast is harmless, a gap is not).
    assert recovered.keys() == {"A65-actual/DK1", "A65-forecast/DK1"}
    assert cursors.get("A65-actual/DK1") == Cursor(actual_end, actual_end, 0)
    assert cursors.get("A65-actual/DK2") is None  # nothing stored for DK2: the look-back, as on a first start


def test_a_cursor_that_survived_is_kept() -> None:
    warehouse, cursors = InMemoryWarehouse(), InMemoryCursorStore()
    stored(warehouse, "load", NOW - timedelta(days=6), NOW - timedelta(days=5))
    kept = Cursor(NOW - timedelta(hours=3), NOW - timedelta(hours=1), 40)
    cursors.put("A65-actual/DK1", kept)

    assert recover_cursors(cursors, [ACTUAL], warehouse.catalogue()) == {}
    assert cursors.get("A65-actual/DK1") == kept


def test_the_recovered_cursor_makes_the_next_fetch_reach_back_over_the_outage(tmp_path: Path) -> None:
    warehouse, cursors = InMemoryWarehouse(), InMemoryCursorStore()
    ended = NOW.replace(minute=0) - timedelta(days=3)  # three days down: longer than A65's look-back
    stored(warehouse, "load", ended - timedelta(days=1), ended + STEP)
    recover_cursors(cursors, [ACTUAL], warehouse.catalogue())
    client = FakeClient()
    acquisition = service(tmp_path, InMemoryBroker(), client, cursors)

    acquisition.run_due()  # due at once

    assert client.windows[0].start == ended
    assert client.windows[0].start < load_catalogue().get("entsoe", "A65-actual").fetch_window(NOW).start
