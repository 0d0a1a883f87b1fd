"""The read model (scalar_ray.marketdata) on every warehouse adapter: the fake, DuckDB and the StarRocks double.

The DST cases run on JAO's real answers for the CET long and short days (hourly auctions IF1-FR-GB, captured with
their provenance in tests/fixtures/providers/jao/SOURCE.md): read back in Paris time they keep 25 and 23 hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pyarrow as pa
import pytest

from scalar_ray.core.errors import ReadRequestError, UnknownSeriesError
from scalar_ray.core.window import Window
from scalar_ray.marketdata import CatalogueQuery, MarketData, SeriesRequest
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse import Warehouse
from tests.conftest import FIXTURES
from tests.unit.spine_helpers import forecast_issue

pytestmark = pytest.mark.integration

PRICE = "jao/auctions/IF1-FR-GB/auction_price"
CAPACITY = "jao/auctions/IF1-FR-GB/allocated_capacity"
LONG_DAY = Window(datetime(2025, 10, 25, 22, tzinfo=UTC), datetime(2025, 10, 26, 23, tzinfo=UTC))  # Paris 26 Oct
SHORT_DAYS = Window(datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))  # Paris 29-31 Mar


def jao_dst_days(warehouse: Warehouse) -> None:
    for name in ("dst_long_2025-10-26", "dst_short_2026-03-29"):
        raw = (FIXTURES / "providers" / "jao" / f"auctionapi_getauctions_IF1-FR-GB_{name}.json").read_bytes()
        asked = Window(datetime(2025, 10, 1, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC))
        warehouse.write(parse_jao(raw, FetchContext("jao", "auctions", asked, datetime(2026, 4, 1, tzinfo=UTC), "")))


def test_daily_buckets_in_paris_hold_25_and_23_hours_of_the_real_answers(warehouse: Warehouse) -> None:
    jao_dst_days(warehouse)
    reads = MarketData(warehouse)

    long_day = reads.series(SeriesRequest((PRICE,), LONG_DAY, time_zone="Europe/Paris", frequency="P1D"))
    short_days = reads.series(SeriesRequest((PRICE,), SHORT_DAYS, time_zone="Europe/Paris", frequency="P1D"))

    assert [str(ts) for ts in long_day.table["ts"].to_pylist()] == ["2025-10-26 00:00:00+02:00"]
    assert (long_day.table["count"].to_pylist(), long_day.table["expected"].to_pylist()) == ([25], [25])
    assert [str(ts) for ts in short_days.table["ts"].to_pylist()] == [
        "2026-03-29 00:00:00+01:00",
        "2026-03-30 00:00:00+02:00",
        "2026-03-31 00:00:00+02:00",
    ]
    assert short_days.table["count"].to_pylist() == short_days.table["expected"].to_pylist() == [23, 24, 24]
    assert long_day.series[0].aggregation == "mean" and long_day.series[0].unit == "EUR/MWh"
    direct = warehouse.read([PRICE], LONG_DAY)["value"].to_pylist()
    assert long_day.table["value"][0].as_py() == pytest.approx(sum(direct) / 25)


def test_hourly_in_paris_time_keeps_both_two_oclocks_of_the_long_day(warehouse: Warehouse) -> None:
    jao_dst_days(warehouse)

    frame = MarketData(warehouse).series(SeriesRequest((PRICE,), LONG_DAY, time_zone="Europe/Paris"))

    local = [ts.isoformat() for ts in frame.table["ts"].to_pylist()]
    assert len(local) == 25 and local[0] == "2025-10-26T00:00:00+02:00" and local[-1] == "2025-10-26T23:00:00+01:00"
    assert [stamp for stamp in local if "T02:00" in stamp] == ["2025-10-26T02:00:00+02:00", "2025-10-26T02:00:00+01:00"]
    assert frame.table.schema.field("ts").type == pa.timestamp("us", tz="Europe/Paris")


def test_a_sum_of_power_is_energy_in_mwh_and_a_sum_of_prices_is_refused(warehouse: Warehouse) -> None:
    jao_dst_days(warehouse)
    reads = MarketData(warehouse)

    energy = reads.series(
        SeriesRequest((CAPACITY,), LONG_DAY, time_zone="Europe/Paris", frequency="P1D", aggregation="sum")
    )

    hourly = warehouse.read([CAPACITY], LONG_DAY)["value"].to_pylist()
    assert energy.series[0].unit == "MWh" and energy.table["value"][0].as_py() == pytest.approx(sum(hourly))
    with pytest.raises(ReadRequestError, match="a sum of EUR/MWh means nothing"):
        reads.series(SeriesRequest((PRICE,), LONG_DAY, frequency="P1D", aggregation="sum"))


def test_peak_and_offpeak_split_the_hours_and_say_how(warehouse: Warehouse) -> None:
    jao_dst_days(warehouse)
    reads = MarketData(warehouse)
    monday = Window(datetime(2026, 3, 29, 22, tzinfo=UTC), datetime(2026, 3, 30, 22, tzinfo=UTC))  # Paris 30 Mar

    peak = reads.series(SeriesRequest((PRICE,), monday, time_zone="Europe/Paris", frequency="P1D", hours="peak"))
    offpeak = reads.series(SeriesRequest((PRICE,), monday, time_zone="Europe/Paris", frequency="P1D", hours="offpeak"))
    sunday = reads.series(SeriesRequest((PRICE,), SHORT_DAYS, time_zone="Europe/Paris", frequency="P1D", hours="peak"))

    assert (peak.table["count"][0].as_py(), offpeak.table["count"][0].as_py()) == (12, 12)
    assert "08:00-20:00 local time, Monday to Friday" in peak.hours.description
    # Sunday 29 March has no peak hours, so no bucket: Monday and Tuesday have 12 each.
    assert [str(ts) for ts in sunday.table["ts"].to_pylist()] == [
        "2026-03-30 00:00:00+02:00",
        "2026-03-31 00:00:00+02:00",
    ]
    assert sunday.table["expected"].to_pylist() == [12, 12]
    hourly = warehouse.read([PRICE], monday).to_pylist()
    in_peak = [row["value"] for row in hourly if 8 <= (row["ts"] + timedelta(hours=2)).hour < 20]  # CEST = UTC+2
    assert peak.table["value"][0].as_py() == pytest.approx(sum(in_peak) / 12)


def series_batch(values: list[float], issued_at: datetime, start: datetime, area: str = "DK1") -> pa.Table:
    builder = ObservationBuilder(
        FetchContext("entsoe", "A44", Window(start, start + timedelta(days=1)), issued_at, area)
    )
    for index, value in enumerate(values):
        builder.add(
            area=area,
            variable="price",
            ts=start + timedelta(hours=index),
            value=value,
            issued_at=issued_at,
            unit="EUR/MWh",
            resolution="PT60M",
        )
    return builder.build()


DK1 = "entsoe/A44/DK1/price"
DK2 = "entsoe/A44/DK2/price"
DELIVERY = datetime(2026, 1, 15, 23, tzinfo=UTC)  # 16 January in Copenhagen
D = Window(DELIVERY, DELIVERY + timedelta(hours=24))


def three_issues(warehouse: Warehouse) -> list[datetime]:
    """Issues of DK1 two days, one day and an hour before delivery, each revising the day's 24 hours."""
    issued = [DELIVERY - timedelta(days=2), DELIVERY - timedelta(hours=11), DELIVERY - timedelta(hours=1)]
    for number, at in enumerate(issued):
        warehouse.write(series_batch([10.0 * (number + 1) + hour for hour in range(24)], at, DELIVERY))
    warehouse.write(series_batch([5.0] * 24, issued[0], DELIVERY, area="DK2"))
    return issued


def test_as_of_never_sees_a_later_vintage_and_first_is_the_first_published(warehouse: Warehouse) -> None:
    issued = three_issues(warehouse)
    reads = MarketData(warehouse)

    between = reads.series(SeriesRequest((DK1,), D, as_of=issued[1] + timedelta(minutes=30)))
    first = reads.series(SeriesRequest((DK1,), D, vintage="first"))
    every = reads.series(SeriesRequest((DK1,), D, vintage="all", as_of=issued[1]))

    assert set(between.table["issued_at"].to_pylist()) == {issued[1]}  # not the hour-before issue
    assert between.table["value"].to_pylist()[:2] == [20.0, 21.0]
    assert set(first.table["issued_at"].to_pylist()) == {issued[0]} and first.table["value"][0].as_py() == 10.0
    assert every.table.num_rows == 48 and max(every.table["issued_at"].to_pylist()) == issued[1]
    assert reads.series(SeriesRequest((DK1,), D, as_of=issued[0] - timedelta(seconds=1))).table.num_rows == 0


def test_several_series_read_as_one_wide_frame_in_copenhagen_time(warehouse: Warehouse) -> None:
    three_issues(warehouse)

    frame = MarketData(warehouse).series(SeriesRequest((DK1, DK2), D, time_zone="Europe/Copenhagen"))
    wide = frame.wide()

    assert wide.column_names == ["ts", DK1, DK2]
    assert wide.num_rows == 24 and str(wide["ts"][0].as_py()) == "2026-01-16 00:00:00+01:00"
    assert wide[DK1][0].as_py() == 30.0 and wide[DK2][0].as_py() == 5.0


def test_instances_relative_staircase_absolute_and_revisions(warehouse: Warehouse) -> None:
    issued = three_issues(warehouse)
    reads = MarketData(warehouse)

    listed = reads.issues([DK1])
    one = reads.instance(DK1, issued[1])
    noon_before = reads.relative([DK1], D, days_ahead=1, time_of_day=time(12, 0), zone="Europe/Copenhagen")
    intraday = reads.relative([DK1], D, days_ahead=0, time_of_day=time(0, 30), zone="Europe/Copenhagen")
    lead_6h = reads.staircase([DK1], D, lead=timedelta(hours=6))
    evolution = reads.absolute(DK1, DELIVERY + timedelta(hours=5))
    changed = reads.revisions([DK1], D, since=issued[0], until=issued[1])

    assert listed["issued_at"].to_pylist() == issued and listed["values"].to_pylist() == [24, 24, 24]
    assert one.num_rows == 24 and set(one["issued_at"].to_pylist()) == {issued[1]}
    # The day-before issue came at 13:00 local, after noon: noon the day before still had the two-days-before one.
    assert set(noon_before["issued_at"].to_pylist()) == {issued[0]} and noon_before.num_rows == 24
    assert intraday.num_rows == 24 and set(intraday["issued_at"].to_pylist()) == {issued[2]}  # 00:30 on the day
    # Six hours ahead: the hour-before issue only reaches intervals from 04:00 UTC on.
    assert lead_6h["issued_at"].to_pylist() == [issued[1]] * 5 + [issued[2]] * 19
    assert evolution["issued_at"].to_pylist() == issued and evolution["value"].to_pylist() == [15.0, 25.0, 35.0]
    assert changed.num_rows == 24 and changed["before"][0].as_py() == 10.0 and changed["after"][0].as_py() == 20.0


def test_the_catalogue_finds_series_by_metadata_and_text_and_pages(warehouse: Warehouse) -> None:
    three_issues(warehouse)
    jao_dst_days(warehouse)
    reads = MarketData(warehouse)

    dk = reads.search(CatalogueQuery(provider="ENTSOE"))
    capacity = reads.search(CatalogueQuery(text="if1 allocated"))
    paged = reads.search(CatalogueQuery(page=2, page_size=4))

    assert dk.series["series_id"].to_pylist() == [DK1, DK2] and dk.total == 2
    assert dk.series["vintages"].to_pylist() == [3, 1]
    assert capacity.series["series_id"].to_pylist() == [CAPACITY]
    assert (paged.total, paged.pages, paged.series.num_rows) == (6, 2, 2)


def test_unknown_series_and_unanswerable_requests_are_typed_errors(warehouse: Warehouse) -> None:
    three_issues(warehouse)
    reads = MarketData(warehouse)

    with pytest.raises(UnknownSeriesError, match="entsoe/A44/XX/price"):
        reads.series(SeriesRequest((DK1, "entsoe/A44/XX/price"), D))
    for request, parameter in [
        (SeriesRequest((DK1,), D, frequency="PT7M"), "frequency"),
        (SeriesRequest((DK1,), D, time_zone="Mars/Olympus"), "time_zone"),
        (SeriesRequest((DK1,), D, frequency="P1D", vintage="all"), "vintage"),
        (SeriesRequest((DK1,), D, hours="peak"), "frequency"),
        (SeriesRequest((DK1,), Window(D.start, D.start + timedelta(days=365 * 2000))), "window"),
    ]:
        with pytest.raises(ReadRequestError) as raised:
            reads.series(request)
        assert raised.value.parameter == parameter


def test_forecasts_read_with_their_versions_quantiles_and_staircase(warehouse: Warehouse) -> None:
    first = datetime(2026, 1, 14, 9, tzinfo=UTC)
    second = first + timedelta(days=1)
    delivery = second + timedelta(hours=3)
    warehouse.write_forecasts(forecast_issue(first, "v1", 100.0, start=delivery, steps=8))
    warehouse.write_forecasts(forecast_issue(second, "v2", 200.0, start=delivery, steps=8))
    reads = MarketData(warehouse)
    days = Window(second, second + timedelta(days=2))

    issues = reads.forecast_issues("dk_demand", "DK1", Window(first - timedelta(days=1), second + timedelta(days=1)))
    latest = reads.forecast("dk_demand", "DK1", as_of=second + timedelta(hours=1))
    then = reads.forecast("dk_demand", "DK1", as_of=second - timedelta(hours=1))
    stairs_2h = reads.forecast_staircase("dk_demand", "DK1", days, lead=timedelta(hours=2))
    stairs_day = reads.forecast_staircase("dk_demand", "DK1", days, lead=timedelta(hours=24))

    assert sorted({(row["issued_at"], row["model_version"]) for row in issues.to_pylist()}) == [
        (first, "v1"),
        (second, "v2"),
    ]
    assert set(latest["model_version"].to_pylist()) == {"v2"} and set(then["model_version"].to_pylist()) == {"v1"}
    assert latest["q10"].null_count == 0 and latest["q90"].null_count == 0
    assert set(stairs_2h["model_version"].to_pylist()) == {"v2"} and stairs_2h.num_rows == latest.num_rows
    assert set(stairs_day["model_version"].to_pylist()) == {"v1"}  # the second issue came 3 h before: too late
    assert all(row["issued_at"] <= row["ts"] - timedelta(hours=24) for row in stairs_day.to_pylist())
