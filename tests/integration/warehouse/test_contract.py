"""One contract for every warehouse adapter: the in-memory fake, a real DuckDB file, StarRocks through its protocol
double (Stream Load + MySQL protocol) and, when ``SCALAR_TEST_STARROCKS_HTTP_URL`` names one, a real StarRocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.forecasts import FORECAST_SCHEMA
from scalar_ray.core.window import Window
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse import DuckDBWarehouse, InMemoryWarehouse, Warehouse
from tests.unit.spine_helpers import forecast_issue

pytestmark = pytest.mark.integration

SERIES = "entsoe/A44/DK1/price"
DAY = Window(datetime(2025, 10, 26, tzinfo=UTC), datetime(2025, 10, 27, tzinfo=UTC))


def batch(values: list[float], issued_at: datetime, start: datetime = DAY.start, series: str = "DK1") -> pa.Table:
    builder = ObservationBuilder(FetchContext("entsoe", "A44", DAY, issued_at, series))
    for index, value in enumerate(values):
        builder.add(
            area=series,
            variable="price",
            ts=start + timedelta(minutes=15 * index),
            value=value,
            issued_at=issued_at,
            unit="EUR/MWh",
            resolution="PT15M",
        )
    return builder.build()


def test_a_redelivered_batch_changes_nothing(warehouse: Warehouse) -> None:
    first = batch([10.0, 11.0, 12.0], datetime(2025, 10, 25, 11, tzinfo=UTC))

    warehouse.write(first)
    warehouse.write(first)

    assert warehouse.count() == 3
    assert warehouse.read([SERIES], DAY)["value"].to_pylist() == [10.0, 11.0, 12.0]


def test_a_revision_is_a_new_vintage_and_reads_are_point_in_time(warehouse: Warehouse) -> None:
    original, revised = datetime(2025, 10, 25, 11, tzinfo=UTC), datetime(2025, 10, 26, 9, tzinfo=UTC)
    warehouse.write(batch([10.0, 11.0], original))
    warehouse.write(batch([10.5], revised))

    latest = warehouse.read([SERIES], DAY)
    as_known_before = warehouse.read([SERIES], DAY, as_of=datetime(2025, 10, 26, tzinfo=UTC))

    assert warehouse.count() == 3
    assert latest["value"].to_pylist() == [10.5, 11.0]
    assert latest["issued_at"].to_pylist() == [revised, original]
    assert as_known_before["value"].to_pylist() == [10.0, 11.0]  # no leakage from the later revision
    assert warehouse.read([SERIES], DAY, as_of=datetime(2025, 10, 1, tzinfo=UTC)).num_rows == 0


def test_read_known_takes_each_interval_as_it_was_known_at_its_own_moment(warehouse: Warehouse) -> None:
    # Three vintages of a day-ahead forecast for 00:00 and 00:15: two days before, one day before, after the fact.
    two_days, one_day, late = (
        DAY.start - timedelta(days=2),
        DAY.start - timedelta(days=1),
        DAY.start + timedelta(hours=3),
    )
    warehouse.write(batch([1.0, 2.0], two_days))
    warehouse.write(batch([3.0, 4.0], one_day))
    warehouse.write(batch([5.0, 6.0], late))

    lead_36h = warehouse.read_known([SERIES], DAY, known_within=-timedelta(hours=36))
    lead_12h = warehouse.read_known([SERIES], DAY, known_within=-timedelta(hours=12))
    too_early = warehouse.read_known([SERIES], DAY, known_within=-timedelta(days=3))
    earliest = warehouse.read_known([SERIES], DAY, known_within=-timedelta(days=3), earliest_if_unknown=True)

    assert lead_36h["value"].to_pylist() == [1.0, 2.0]
    assert lead_12h["value"].to_pylist() == [3.0, 4.0]  # the later revision is never seen
    assert lead_12h["issued_at"].to_pylist() == [one_day, one_day]
    assert too_early.num_rows == 0
    assert earliest["value"].to_pylist() == [1.0, 2.0]
    assert earliest["issued_at"].to_pylist() == [two_days, two_days]


def test_read_known_counts_a_backfilled_first_vintage_as_published_in_time(warehouse: Warehouse) -> None:
    backfilled_at = DAY.start + timedelta(days=30)  # history fetched a month later carries the fetch time
    warehouse.write(batch([7.0, 8.0], backfilled_at))
    warehouse.write(batch([7.5], backfilled_at + timedelta(days=1)))  # and a later revision of the first interval

    strict = warehouse.read_known([SERIES], DAY, known_within=timedelta(hours=1))
    history = warehouse.read_known([SERIES], DAY, known_within=timedelta(hours=1), earliest_if_unknown=True)

    assert strict.num_rows == 0
    assert history["value"].to_pylist() == [7.0, 8.0]


def test_reads_keep_to_the_window_and_the_series_asked_for(warehouse: Warehouse) -> None:
    issued = datetime(2025, 10, 25, 11, tzinfo=UTC)
    warehouse.write(batch([1.0] * 8, issued, start=DAY.start - timedelta(hours=1)))  # 23:00 to 00:45
    warehouse.write(batch([2.0, 2.0], issued, series="DK2"))

    table = warehouse.read([SERIES], Window(DAY.start, DAY.start + timedelta(minutes=30)))

    assert table["ts"].to_pylist() == [DAY.start, DAY.start + timedelta(minutes=15)]
    assert set(table["series_id"].to_pylist()) == {SERIES}
    assert warehouse.read(["entsoe/A44/DK2/price", SERIES], DAY).num_rows == 2 + 4


def test_read_vintages_gives_every_vintage_in_key_order_and_keeps_to_the_issue_window(warehouse: Warehouse) -> None:
    first, second, third = (datetime(2025, 10, 24, 11, tzinfo=UTC) + timedelta(days=n) for n in range(3))
    warehouse.write(batch([1.0, 2.0], second))
    warehouse.write(batch([0.5, 1.5], first))
    warehouse.write(batch([3.0], third))
    warehouse.write(batch([9.0], first, series="DK2"))

    every = warehouse.read_vintages([SERIES], DAY)
    middle = warehouse.read_vintages([SERIES], DAY, issued=Window(second, third))

    rows = [(row["ts"], row["issued_at"], row["value"]) for row in every.to_pylist()]
    assert rows == [
        (DAY.start, first, 0.5),
        (DAY.start, second, 1.0),
        (DAY.start, third, 3.0),
        (DAY.start + timedelta(minutes=15), first, 1.5),
        (DAY.start + timedelta(minutes=15), second, 2.0),
    ]
    assert middle["value"].to_pylist() == [1.0, 2.0]  # the issue window is [start, end)
    assert set(every["series_id"].to_pylist()) == {SERIES}


def test_issues_list_each_issue_time_with_the_intervals_it_covers(warehouse: Warehouse) -> None:
    early, late = datetime(2025, 10, 24, 11, tzinfo=UTC), datetime(2025, 10, 25, 11, tzinfo=UTC)
    warehouse.write(batch([1.0] * 96, early))  # the whole UTC day
    warehouse.write(batch([2.0] * 4, late, start=DAY.start + timedelta(hours=2)))

    issues = warehouse.issues([SERIES], Window(early - timedelta(days=1), late + timedelta(days=1)))
    only_late = warehouse.issues([SERIES], Window(late, late + timedelta(seconds=1)))

    assert issues.to_pylist() == [
        {"series_id": SERIES, "issued_at": early, "first_ts": DAY.start, "last_ts": DAY.end - timedelta(minutes=15),
         "values": 96},
        {"series_id": SERIES, "issued_at": late, "first_ts": DAY.start + timedelta(hours=2),
         "last_ts": DAY.start + timedelta(hours=2, minutes=45), "values": 4},
    ]  # fmt: skip
    assert only_late["issued_at"].to_pylist() == [late]
    assert warehouse.issues([], Window(early, late)).num_rows == 0


def test_the_catalogue_lists_every_series_with_what_is_held_of_it(warehouse: Warehouse) -> None:
    early, late = datetime(2025, 10, 24, 11, tzinfo=UTC), datetime(2025, 10, 25, 11, tzinfo=UTC)
    warehouse.write(batch([1.0, 2.0, 3.0], early))
    warehouse.write(batch([2.5], late, start=DAY.start + timedelta(minutes=15)))
    warehouse.write(batch([7.0], late, series="DK2"))

    catalogue = warehouse.catalogue().to_pylist()

    assert [row["series_id"] for row in catalogue] == ["entsoe/A44/DK1/price", "entsoe/A44/DK2/price"]
    assert catalogue[0] == {
        "series_id": SERIES,
        "provider": "entsoe",
        "dataset": "A44",
        "area": "DK1",
        "variable": "price",
        "unit": "EUR/MWh",
        "resolution": "PT15M",
        "first_ts": DAY.start,
        "last_ts": DAY.start + timedelta(minutes=30),
        "last_issued_at": late,
        "vintages": 2,
        "rows": 4,
    }
    assert (catalogue[1]["vintages"], catalogue[1]["rows"]) == (1, 1)


def test_series_metadata_is_kept(warehouse: Warehouse) -> None:
    warehouse.write(batch([1.0], datetime(2025, 10, 25, 11, tzinfo=UTC)))

    assert warehouse.series_metadata(SERIES) == {
        "provider": "entsoe",
        "dataset": "A44",
        "area": "DK1",
        "variable": "price",
        "unit": "EUR/MWh",
        "resolution": "PT15M",
    }
    assert warehouse.series_metadata("unknown/series") is None


def test_a_batch_of_the_wrong_shape_is_refused_and_nothing_is_written(warehouse: Warehouse) -> None:
    wrong = batch([1.0], datetime(2025, 10, 25, 11, tzinfo=UTC)).drop_columns(["issued_at"])

    with pytest.raises(WarehouseError, match=r"lacks column.*issued_at"):
        warehouse.write(wrong)
    assert warehouse.count() == 0


def test_the_dst_fall_back_day_keeps_all_100_quarter_hours(warehouse: Warehouse) -> None:
    # 2025-10-26 in Copenhagen: 22:00 UTC on the 25th to 23:00 UTC on the 26th, 25 hours.
    local_day = Window(datetime(2025, 10, 25, 22, tzinfo=UTC), datetime(2025, 10, 26, 23, tzinfo=UTC))
    warehouse.write(
        batch([float(i) for i in range(100)], datetime(2025, 10, 25, 11, tzinfo=UTC), start=local_day.start)
    )

    table = warehouse.read([SERIES], local_day)

    assert table.num_rows == 100
    assert table["value"].to_pylist() == [float(i) for i in range(100)]


def test_duckdb_data_survives_a_reopen(tmp_path: Path) -> None:
    first = DuckDBWarehouse(tmp_path / "w.duckdb")
    first.write(batch([1.0, 2.0], datetime(2025, 10, 25, 11, tzinfo=UTC)))
    first.close()

    reopened = DuckDBWarehouse(tmp_path / "w.duckdb")

    assert reopened.read([SERIES], DAY)["value"].to_pylist() == [1.0, 2.0]
    reopened.close()


def test_compaction_drops_intervals_before_the_retention_horizon(warehouse: Warehouse) -> None:
    warehouse.write(batch([1.0, 2.0, 3.0, 4.0], datetime(2025, 10, 25, 11, tzinfo=UTC)))

    dropped = warehouse.compact(DAY.start + timedelta(minutes=30))

    assert dropped == 2
    assert warehouse.read([SERIES], DAY)["value"].to_pylist() == [3.0, 4.0]


def test_the_catalogue_counts_follow_revisions_redeliveries_and_retention(warehouse: Warehouse) -> None:
    early, late = datetime(2025, 10, 24, 11, tzinfo=UTC), datetime(2025, 10, 25, 11, tzinfo=UTC)

    def held() -> dict[str, object]:
        row = warehouse.catalogue().to_pylist()[0]
        return {name: row[name] for name in ("first_ts", "last_ts", "last_issued_at", "vintages", "rows")}

    warehouse.write(batch([1.0, 2.0, 3.0], early))
    warehouse.write(batch([1.0, 2.0, 3.0], early))  # re-delivered
    warehouse.write(batch([1.5], early, start=DAY.start + timedelta(minutes=15)))  # a value of that issue revised
    assert held() == {
        "first_ts": DAY.start,
        "last_ts": DAY.start + timedelta(minutes=30),
        "last_issued_at": early,
        "vintages": 1,
        "rows": 3,
    }
    # A later issue of some of those intervals and one more: a vintage, new rows; an earlier issue of a new interval.
    warehouse.write(batch([4.0, 5.0], late, start=DAY.start + timedelta(minutes=30)))
    warehouse.write(batch([0.5], early - timedelta(hours=1), start=DAY.start - timedelta(minutes=15)))
    assert held() == {
        "first_ts": DAY.start - timedelta(minutes=15),
        "last_ts": DAY.start + timedelta(minutes=45),
        "last_issued_at": late,
        "vintages": 3,
        "rows": 6,
    }

    assert warehouse.compact(DAY.start + timedelta(minutes=30)) == 3  # the first three intervals, a row each
    assert held() == {
        "first_ts": DAY.start + timedelta(minutes=30),
        "last_ts": DAY.start + timedelta(minutes=45),
        "last_issued_at": late,
        "vintages": 2,
        "rows": 3,
    }


def test_compaction_changes_no_answer_and_a_batch_redelivered_after_it_changes_nothing(warehouse: Warehouse) -> None:
    # Arrival order across two months and two series: what DuckDB's compaction re-sorts.
    october, november = DAY.start, datetime(2025, 11, 3, tzinfo=UTC)
    writes = [
        batch([1.0, 2.0], datetime(2025, 10, 25, 11, tzinfo=UTC)),
        batch([5.0], datetime(2025, 11, 2, 11, tzinfo=UTC), start=november, series="DK2"),
        batch([1.5], datetime(2025, 10, 26, 9, tzinfo=UTC)),
        batch([6.0, 7.0], datetime(2025, 11, 2, 11, tzinfo=UTC), start=november),
    ]
    for one in writes:
        warehouse.write(one)
    both = [SERIES, "entsoe/A44/DK2/price"]
    span = Window(october, november + timedelta(days=1))

    def answers() -> tuple[list[dict[str, object]], ...]:
        as_of = datetime(2025, 10, 26, tzinfo=UTC)
        reads = (warehouse.read(both, span), warehouse.read(both, span, as_of), warehouse.read_vintages(both, span))
        return (*(table.to_pylist() for table in reads), warehouse.catalogue().to_pylist())

    before = answers()
    assert warehouse.compact(october - timedelta(days=1)) == 0

    assert answers() == before
    warehouse.write(writes[2])
    assert answers() == before
    assert warehouse.count() == 6


# Forecasts: one table, every issue with the model version that made it. Times in whole seconds: StarRocks' DATETIME.
ISSUE = datetime(2025, 10, 25, 10, 0, 17, tzinfo=UTC)


def issue(issued_at: datetime, version: str, level: float, *, family: str = "dk_demand", zone: str = "DK1") -> pa.Table:
    """An issue of two targets over three quarter-hours after ``DAY`` (see ``forecast_issue``)."""
    return forecast_issue(issued_at, version, level, start=DAY.end, family=family, zone=zone)


def test_forecasts_are_stored_with_their_version_and_read_back_by_issue_time(warehouse: Warehouse) -> None:
    result = warehouse.write_forecasts(issue(ISSUE, "v1", 100.0), "forecast-batch-1")

    stored = warehouse.read_forecasts(
        "dk_demand", "DK1", Window(ISSUE - timedelta(hours=1), ISSUE + timedelta(hours=1))
    )

    assert (result.rows, result.series) == (6, 2)
    assert stored.schema == FORECAST_SCHEMA
    rows = stored.to_pylist()
    assert [(row["target"], row["ts"]) for row in rows] == sorted((row["target"], row["ts"]) for row in rows)
    first = rows[0]
    assert (first["model_version"], first["issued_at"], first["mean"], first["q10"], first["q90"]) == (
        "v1",
        ISSUE,
        100.0,
        90.0,
        110.0,
    )
    assert first["q05"] is None and first["q95"] is None  # levels the family does not forecast stay empty
    assert warehouse.count() == 0  # forecasts are not observations


def test_a_redelivered_forecast_changes_nothing_and_a_reissue_replaces_its_rows(warehouse: Warehouse) -> None:
    window = Window(ISSUE - timedelta(hours=1), ISSUE + timedelta(hours=1))
    warehouse.write_forecasts(issue(ISSUE, "v1", 100.0), "batch-a")
    warehouse.write_forecasts(issue(ISSUE, "v1", 100.0), "batch-b")
    assert warehouse.read_forecasts("dk_demand", "DK1", window).num_rows == 6

    warehouse.write_forecasts(issue(ISSUE, "v2", 200.0), "batch-c")

    rows = warehouse.read_forecasts("dk_demand", "DK1", window).to_pylist()
    assert len(rows) == 6 and {row["model_version"] for row in rows} == {"v2"}
    assert min(row["mean"] for row in rows) == 200.0


def test_the_latest_forecast_is_the_newest_issue_known_at_the_moment_asked(warehouse: Warehouse) -> None:
    later = ISSUE + timedelta(hours=1)
    warehouse.write_forecasts(issue(ISSUE, "v1", 100.0), "first")
    warehouse.write_forecasts(issue(later, "v1", 150.0), "second")
    warehouse.write_forecasts(issue(later + timedelta(hours=1), "v1", 1.0, zone="DK2"), "other-zone")
    warehouse.write_forecasts(issue(later + timedelta(hours=1), "v1", 1.0, family="dk_dayahead"), "other-family")
    lookback = timedelta(days=1)

    newest = warehouse.latest_forecast("dk_demand", "DK1", later + timedelta(hours=5), lookback)
    before = warehouse.latest_forecast("dk_demand", "DK1", later - timedelta(seconds=1), lookback)
    at_the_moment = warehouse.latest_forecast("dk_demand", "DK1", later, lookback)
    too_old = warehouse.latest_forecast("dk_demand", "DK1", later + timedelta(days=2), lookback)

    assert set(newest["issued_at"].to_pylist()) == {later} and newest.num_rows == 6
    assert set(before["issued_at"].to_pylist()) == {ISSUE}
    assert set(at_the_moment["issued_at"].to_pylist()) == {later}
    assert too_old.num_rows == 0 and too_old.schema == FORECAST_SCHEMA
    assert newest["target"].to_pylist() == sorted(newest["target"].to_pylist())


def test_a_forecast_batch_of_the_wrong_shape_is_refused(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseError, match="lacks column"):
        warehouse.write_forecasts(issue(ISSUE, "v1", 1.0).drop_columns(["model_version"]))
    with pytest.raises(WarehouseError, match="forecast schema"):
        warehouse.write_forecasts(issue(ISSUE, "v1", 1.0).set_column(6, "mean", pa.array(["x"] * 6)))
    window = Window(ISSUE - timedelta(hours=1), ISSUE + timedelta(hours=1))
    assert warehouse.read_forecasts("dk_demand", "DK1", window).num_rows == 0


def test_a_duckdb_file_with_forecasts_stored_as_observations_moves_them_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old = DuckDBWarehouse(path)
    builder = ObservationBuilder(FetchContext("scalar", "dk_demand", DAY, ISSUE, "DK1"))
    for step in range(4):
        for variable, value in (("load_mean", 10.0), ("load_q10", 5.0), ("load_q50", 10.0), ("load_q90", 15.0)):
            ts = DAY.start + timedelta(minutes=15 * step)
            builder.add(
                area="DK1", variable=variable, ts=ts, value=value + step, issued_at=ISSUE, unit="MW", resolution="PT15M"
            )
    old.write(builder.build())
    old.write(batch([1.0, 2.0], ISSUE))  # an ordinary series stays where it is
    builder = ObservationBuilder(FetchContext("scalar", "retired_family", DAY, ISSUE, "DK1"))
    builder.add(area="DK1", variable="x_mean", ts=DAY.start, value=1.0, issued_at=ISSUE, unit="MW", resolution="PT15M")
    old.write(builder.build())  # a family no longer configured: left alone, not lost
    old.close()

    reopened = DuckDBWarehouse(path, forecast_targets={("dk_demand", "DK1", "load"): "entsoe/A65/DK1/load"})
    moved = reopened.read_forecasts("dk_demand", "DK1", Window(ISSUE, ISSUE + timedelta(seconds=1))).to_pylist()
    remaining = reopened.query("select distinct series_id from observations order by 1")["series_id"].to_pylist()
    reopened.close()
    again = DuckDBWarehouse(path, forecast_targets={("dk_demand", "DK1", "load"): "entsoe/A65/DK1/load"})
    assert again.read_forecasts("dk_demand", "DK1", Window(ISSUE, ISSUE + timedelta(seconds=1))).num_rows == 4
    again.close()

    assert len(moved) == 4
    assert (moved[1]["target"], moved[1]["model_version"], moved[1]["mean"], moved[1]["q10"], moved[1]["q90"]) == (
        "entsoe/A65/DK1/load",
        "unknown",
        11.0,
        6.0,
        16.0,
    )
    assert remaining == [SERIES, "scalar/retired_family/DK1/x_mean"]


def test_the_sql_views_give_each_intervals_latest_and_first_vintage(warehouse: Warehouse) -> None:
    if isinstance(warehouse, InMemoryWarehouse):
        pytest.skip("the fake takes no SQL")
    original, revised = datetime(2025, 10, 25, 11, tzinfo=UTC), datetime(2025, 10, 26, 9, tzinfo=UTC)
    warehouse.write(batch([10.0, 11.0], original))
    warehouse.write(batch([10.5], revised))

    latest = warehouse.query("select ts, value, issued_at, unit from observations_latest order by ts").to_pylist()
    first = warehouse.query("select ts, value from observations_first order by ts").to_pylist()

    assert [(row["value"], row["issued_at"]) for row in latest] == [(10.5, revised), (11.0, original)]
    assert {row["unit"] for row in latest} == {"EUR/MWh"}
    assert [row["value"] for row in first] == [10.0, 11.0]


def test_a_bulk_load_stores_what_writing_its_chunks_in_order_would(warehouse: Warehouse) -> None:
    held, fetched = datetime(2025, 10, 20, 11, tzinfo=UTC), datetime(2025, 11, 30, 9, tzinfo=UTC)
    warehouse.write(batch([1.0, 2.0], held))  # stored before the load
    warehouse.write(batch([5.0], fetched, start=DAY.start + timedelta(minutes=30)))  # a key the load restates
    november = DAY.start + timedelta(days=10)
    chunks = [
        batch([float(index) for index in range(100)], fetched),  # 100 quarter-hours from the start of DAY
        batch([40.0, 41.0], fetched, start=november),  # another month: its own merge span in DuckDB
        batch([3.5], fetched, start=DAY.start + timedelta(minutes=15), series="DK2"),
        batch([99.0], fetched),  # the first chunk's first key again: the later chunk wins
    ]

    staged = [warehouse.stage(chunk, "load-1", f"chunk-{index}") for index, chunk in enumerate(chunks)]
    warehouse.merge_staged("load-1")

    assert staged == [100, 2, 1, 1]
    assert warehouse.count() == 2 + 100 + 2 + 1  # the restated key and the repeated one stored once
    latest = warehouse.read([SERIES], Window(DAY.start, DAY.start + timedelta(hours=25)))["value"].to_pylist()
    assert latest == [99.0, *[float(index) for index in range(1, 100)]]
    assert warehouse.read([SERIES], DAY, as_of=held)["value"].to_pylist() == [1.0, 2.0]  # the older vintage kept
    assert warehouse.read([SERIES], Window(november, november + timedelta(days=1)))["value"].to_pylist() == [40.0, 41.0]
    by_id = {row["series_id"]: row for row in warehouse.catalogue().to_pylist()}
    assert (by_id[SERIES]["rows"], by_id[SERIES]["vintages"], by_id[SERIES]["last_ts"]) == (
        104,
        2,
        november + timedelta(minutes=15),
    )
    assert (by_id["entsoe/A44/DK2/price"]["rows"], by_id["entsoe/A44/DK2/price"]["vintages"]) == (1, 1)


def test_a_chunk_staged_twice_and_a_merge_repeated_store_the_load_once(warehouse: Warehouse) -> None:
    fetched = datetime(2025, 11, 30, 9, tzinfo=UTC)
    chunk = batch([10.0, 11.0, 12.0], fetched)

    assert warehouse.stage(chunk, "load-2", "only") == 3
    assert warehouse.stage(chunk, "load-2", "only") == 3  # a retried task: recognised by its chunk id
    warehouse.merge_staged("load-2")
    warehouse.merge_staged("load-2")  # a job retried after its merge

    assert warehouse.count() == 3
    catalogue = warehouse.catalogue().to_pylist()
    assert (catalogue[0]["rows"], catalogue[0]["vintages"]) == (3, 1)
    assert warehouse.read([SERIES], DAY)["value"].to_pylist() == [10.0, 11.0, 12.0]


def test_a_staged_chunk_of_the_wrong_shape_is_refused_and_nothing_is_stored(warehouse: Warehouse) -> None:
    wrong = batch([1.0], datetime(2025, 10, 25, 11, tzinfo=UTC)).drop_columns(["value"])

    with pytest.raises(WarehouseError, match=r"lacks column.*value"):
        warehouse.stage(wrong, "load-3", "bad")
    warehouse.merge_staged("load-3")
    assert warehouse.count() == 0
