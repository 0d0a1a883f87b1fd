"""As-of reads never leak a later vintage: random vintages on every adapter against a brute-force oracle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from scalar_ray.core.window import Window
from scalar_ray.marketdata import MarketData, SeriesRequest
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse import Warehouse

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 28, 22, tzinfo=UTC)  # the hours around the CET short day
HOURS = 30
SERIES = "entsoe/A44/DK1/price"
# (hour offset, issue offset in hours, value): several vintages of a few hours, issued before and after delivery.
VINTAGES = st.lists(
    st.tuples(st.integers(0, HOURS - 1), st.integers(-48, 48), st.floats(-500, 3000, allow_nan=False)),
    min_size=1,
    max_size=40,
)


def write(
    warehouse: Warehouse, vintages: list[tuple[int, int, float]], tag: str
) -> dict[tuple[datetime, datetime], float]:
    stored: dict[tuple[datetime, datetime], float] = {}
    for hour, issue, value in vintages:
        ts = START + timedelta(hours=hour)
        stored[(ts, ts + timedelta(hours=issue, minutes=7))] = value  # a re-sent key keeps its last value
    for (ts, issued_at), value in stored.items():
        builder = ObservationBuilder(FetchContext("entsoe", "A44", Window(ts, ts + timedelta(hours=1)), issued_at, tag))
        builder.add(
            area=tag, variable="price", ts=ts, value=value, issued_at=issued_at, unit="EUR/MWh", resolution="PT60M"
        )
        warehouse.write(builder.build())
    return stored


def oracle(
    stored: dict[tuple[datetime, datetime], float], as_of: datetime | None, first: bool
) -> dict[datetime, float]:
    known: dict[datetime, tuple[datetime, float]] = {}
    for (ts, issued_at), value in stored.items():
        if as_of is not None and issued_at > as_of:
            continue
        if ts not in known or (issued_at < known[ts][0] if first else issued_at > known[ts][0]):
            known[ts] = (issued_at, value)
    return {ts: value for ts, (_, value) in known.items()}


@pytest.mark.parametrize("examples", [60])
def test_as_of_latest_and_first_match_the_oracle(warehouse: Warehouse, examples: int) -> None:
    reads = MarketData(warehouse)
    counter = {"n": 0}

    @seed(20261202)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(vintages=VINTAGES, as_of_hours=st.one_of(st.none(), st.integers(-50, 80)), first=st.booleans())
    def check(vintages: list[tuple[int, int, float]], as_of_hours: int | None, first: bool) -> None:
        counter["n"] += 1
        area = f"Z{counter['n']}"  # each example its own series: the warehouse keeps every earlier one
        stored = write(warehouse, vintages, area)
        as_of = None if as_of_hours is None else START + timedelta(hours=as_of_hours)
        series_id = SERIES.replace("DK1", area)
        request = SeriesRequest(
            (series_id,), Window(START, START + timedelta(hours=HOURS)), as_of, "first" if first else "latest",
            time_zone="Europe/Copenhagen",
        )  # fmt: skip
        table = reads.series(request).table
        got = dict(zip(table["ts"].to_pylist(), table["value"].to_pylist(), strict=True))
        assert got == oracle(stored, as_of, first)
        if as_of is not None:
            assert all(issued <= as_of for issued in table["issued_at"].to_pylist())  # never a later vintage

    check()
