"""The embedded warehouse's physical layout on a real DuckDB file: series keys, clustering, the earlier layout."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.window import Window
from scalar_ray.warehouse import DuckDBWarehouse
from scalar_ray.warehouse.duckdb import _staging_table
from scalar_ray.warehouse.series_keys import series_key
from tests.integration.warehouse.test_contract import DAY, SERIES, batch

pytestmark = pytest.mark.integration

ISSUED = datetime(2025, 10, 25, 11, tzinfo=UTC)


def stored_order(warehouse: DuckDBWarehouse) -> list[tuple[int, datetime, datetime]]:
    """The rows' keys in the order the file holds them."""
    rows = warehouse.query("select series_key, ts, issued_at from observations order by rowid").to_pylist()
    return [(row["series_key"], row["ts"], row["issued_at"]) for row in rows]


def test_the_series_key_is_fixed_forever() -> None:
    # Stored rows carry it: a different function would make every stored series unreadable.
    assert series_key("entsoe/A44/DK1/price") == series_key("entsoe/A44/DK1/price")
    assert series_key("entsoe/A44/DK1/price") == 6263365694301858909
    assert series_key("entsoe/A44/DK2/price") != series_key("entsoe/A44/DK1/price")


def test_compaction_clusters_each_month_by_series_and_time(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    warehouse = DuckDBWarehouse(path)
    for series in ("DK2", "DK1", "SE3"):
        warehouse.write(batch([1.0, 2.0, 3.0], ISSUED + timedelta(hours=1), series=series))
    for series in ("SE3", "DK1"):
        warehouse.write(batch([4.0, 5.0], ISSUED, series=series))
    assert stored_order(warehouse) != sorted(stored_order(warehouse))

    warehouse.compact(DAY.start - timedelta(days=30))

    assert warehouse.clustered == [datetime(2025, 10, 1, tzinfo=UTC)]
    assert stored_order(warehouse) == sorted(stored_order(warehouse))
    warehouse.compact(DAY.start - timedelta(days=30))
    assert warehouse.clustered == []  # nothing written since: no month is rewritten again
    warehouse.write(batch([9.0], ISSUED + timedelta(hours=2)))
    warehouse.compact(DAY.start - timedelta(days=30))
    assert warehouse.clustered == [datetime(2025, 10, 1, tzinfo=UTC)]
    assert warehouse.read([SERIES], DAY)["value"].to_pylist() == [9.0, 2.0, 3.0]
    warehouse.close()


def test_a_file_of_the_primary_key_layout_is_keyed_and_clustered_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as old:
        old.execute("set TimeZone = 'UTC'")
        old.execute(
            """create table observations (series_id varchar not null, ts timestamptz not null,
               issued_at timestamptz not null, value double not null,
               ingested_at timestamptz not null default current_timestamp, primary key (series_id, ts, issued_at))"""
        )
        old.execute(
            """create table series (series_id varchar primary key, provider varchar not null, dataset varchar not null,
               area varchar not null, variable varchar not null, unit varchar not null, resolution varchar not null)"""
        )
        old.execute("insert into series values (?, 'entsoe', 'A44', 'DK1', 'price', 'EUR/MWh', 'PT15M')", [SERIES])
        old.execute(
            "insert into observations (series_id, ts, issued_at, value) values (?, ?, ?, 2.0), (?, ?, ?, 1.0)",
            [SERIES, DAY.start + timedelta(minutes=15), ISSUED, SERIES, DAY.start, ISSUED],
        )

    warehouse = DuckDBWarehouse(path)

    assert warehouse.read([SERIES], DAY)["value"].to_pylist() == [1.0, 2.0]
    assert warehouse.query("select series_key from series")["series_key"].to_pylist() == [series_key(SERIES)]
    entry = warehouse.catalogue().to_pylist()[0]  # the counts the catalogue keeps, counted from the rows on open
    assert (entry["rows"], entry["vintages"], entry["first_ts"], entry["last_issued_at"]) == (2, 1, DAY.start, ISSUED)
    warehouse.write(batch([1.0, 2.0], ISSUED))  # the same keys again: no primary key now, still no duplicate
    assert warehouse.count() == 2
    assert [row[0] for row in stored_order(warehouse)] == [series_key(SERIES)] * 2
    warehouse.close()
    with duckdb.connect(str(path), read_only=True) as reopened:
        assert reopened.execute(
            "select count(*) from duckdb_constraints() where table_name = 'observations' "
            "and constraint_type = 'PRIMARY KEY'"
        ).fetchall() == [(0,)]


def test_a_batch_repeating_a_key_keeps_its_last_value(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    twice = batch([1.0, 2.0], ISSUED)
    twice = twice.take([0, 1, 0]).set_column(twice.schema.get_field_index("value"), "value", [[1.0, 2.0, 7.0]])

    warehouse.write(twice)

    assert warehouse.read([SERIES], DAY)["value"].to_pylist() == [7.0, 2.0]
    warehouse.close()


def test_reads_do_not_wait_for_the_writer(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    warehouse.write(batch([1.0], ISSUED))
    with ThreadPoolExecutor(max_workers=1) as reader:  # one thread: its first read opens its cursor
        assert reader.submit(lambda: warehouse.read([SERIES], DAY).num_rows).result(timeout=10) == 1
        with warehouse._lock:  # what a write in progress holds
            assert reader.submit(lambda: warehouse.read([SERIES], DAY).num_rows).result(timeout=10) == 1
    warehouse.close()


def test_a_memory_limit_bounds_duckdb_and_a_malformed_one_is_refused(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", memory_limit="512MiB")
    limit = warehouse.query("select current_setting('memory_limit') as limit")["limit"][0].as_py()
    assert limit.startswith(("512", "511", "536"))
    warehouse.close()
    with pytest.raises(WarehouseError, match="not a size"):
        DuckDBWarehouse(tmp_path / "x.duckdb", memory_limit="4GB'; drop table series; --")


def test_a_window_read_keeps_to_its_window_across_clustered_months(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    november = datetime(2025, 11, 1, tzinfo=UTC)
    warehouse.write(batch([1.0, 2.0], ISSUED, start=november - timedelta(minutes=15)))  # across the month's edge
    warehouse.compact(DAY.start - timedelta(days=30))

    assert warehouse.read([SERIES], Window(november, november + timedelta(days=1)))["value"].to_pylist() == [2.0]
    warehouse.close()


def test_a_series_whose_key_another_id_holds_is_refused_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    warehouse.write(batch([1.0], ISSUED))
    colliding = pa.array([series_key(SERIES)], pa.int64())
    monkeypatch.setattr(
        "scalar_ray.warehouse.duckdb.series_keys_column",
        lambda ids: pa.chunked_array([pc.take(colliding, pa.array([0] * len(ids)))]),
    )

    with pytest.raises(WarehouseError, match="series key collision: entsoe/A44/DK2/price has the key of") as refused:
        warehouse.write(batch([2.0], ISSUED, series="DK2"))
    assert refused.value.permanent  # the same batch fails again: dead-lettered, not retried
    with pytest.raises(WarehouseError, match="series key collision"):  # two ids of one batch
        warehouse.write(pa.concat_tables([batch([2.0], ISSUED, series="SE3"), batch([3.0], ISSUED, series="SE4")]))
    assert warehouse.count() == 1
    warehouse.close()


def test_remembered_metadata_follows_a_write_that_changes_it(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    warehouse.write(batch([1.0], ISSUED))
    assert (warehouse.series_metadata(SERIES) or {})["unit"] == "EUR/MWh"  # now remembered
    relabelled = batch([1.0], ISSUED)
    relabelled = relabelled.set_column(relabelled.schema.get_field_index("unit"), "unit", [["EUR/kWh"]])

    warehouse.write(relabelled)

    assert (warehouse.series_metadata(SERIES) or {})["unit"] == "EUR/kWh"
    warehouse.close()


def test_a_forecasts_table_from_before_the_fallback_columns_gains_them_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    quantiles = ", ".join(f"q{level:02d} double" for level in (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95))
    with duckdb.connect(str(path)) as old:
        old.execute(
            f"""create table forecasts (family varchar not null, zone varchar not null, model_version varchar not null,
                target varchar not null, issued_at timestamptz not null, ts timestamptz not null, mean double not null,
                {quantiles}, ingested_at timestamptz not null default current_timestamp,
                primary key (family, zone, target, issued_at, ts))"""
        )
        old.execute(
            "insert into forecasts (family, zone, model_version, target, issued_at, ts, mean) values "
            "('dk_demand', 'DK1', 'v1', 'entsoe/A65/DK1/load', '2026-11-01 10:00+00', '2026-11-01 11:00+00', 5.0)"
        )
    issued = datetime(2026, 11, 1, 12, tzinfo=UTC)
    warehouse = DuckDBWarehouse(path)
    try:
        row = {"family": "dk_demand", "zone": "DK1", "model_version": "v2", "target": "entsoe/A65/DK1/load"}
        new = pa.Table.from_pylist(
            [
                {
                    **row,
                    "issued_at": issued,
                    "ts": issued,
                    "mean": 6.0,
                    "fallback": "SeasonalNaive",
                    "fallback_reason": "x",
                }
            ]
        )
        warehouse.write_forecasts(new)

        day = timedelta(days=1)
        read = warehouse.read_forecasts("dk_demand", "DK1", Window(issued - day, issued + day))
    finally:
        warehouse.close()
    assert read["model_version"].to_pylist() == ["v1", "v2"]
    assert read["fallback"].to_pylist() == [None, "SeasonalNaive"]  # the old row: issued by its model
    assert read["fallback_reason"].to_pylist() == [None, "x"]


def bulk_chunks(months: int) -> list[pa.Table]:
    """A back-fill's chunks: a day of the series in each of ``months`` months."""
    return [batch([float(m), float(m) + 0.5], ISSUED, start=DAY.start + timedelta(days=31 * m)) for m in range(months)]


def test_a_staged_load_is_invisible_until_merged_and_a_discarded_one_leaves_nothing(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    for index, chunk in enumerate(bulk_chunks(3)):
        warehouse.stage(chunk, "kept", f"c{index}")
        warehouse.stage(chunk, "given-up", f"c{index}")

    assert warehouse.count() == 0
    assert warehouse.catalogue().num_rows == 0
    warehouse.discard_staged("given-up")
    warehouse.merge_staged("given-up")  # nothing left to merge
    assert warehouse.count() == 0
    assert warehouse.merge_staged("kept").rows == 6
    assert warehouse.count() == 6
    leftovers = warehouse.query("select table_name from information_schema.tables where table_name like 'bulk_%'")
    assert leftovers["table_name"].to_pylist() == ["bulk_chunks"]  # the loads' staging tables are gone
    assert warehouse.query("select count(*) as n from bulk_chunks")["n"].to_pylist() == [0]


def test_a_merge_in_many_spans_stores_what_one_span_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = DuckDBWarehouse(tmp_path / "one.duckdb")
    for index, chunk in enumerate(bulk_chunks(5)):
        one.stage(chunk, "load", f"c{index}")
    monkeypatch.setattr("scalar_ray.warehouse.duckdb._MERGE_ROWS", 1)  # every month a span of its own
    many = DuckDBWarehouse(tmp_path / "many.duckdb")
    for index, chunk in enumerate(bulk_chunks(5)):
        many.stage(chunk, "load", f"c{index}")
    assert len(many._merge_spans(duckdb_staging("load"))) == 5  # private: the spans are what is under test
    monkeypatch.undo()
    assert len(one._merge_spans(duckdb_staging("load"))) == 1

    assert one.merge_staged("load") == many.merge_staged("load")
    window = Window(DAY.start, DAY.start + timedelta(days=31 * 5))
    assert one.read_vintages([SERIES], window) == many.read_vintages([SERIES], window)
    assert one.catalogue() == many.catalogue()


def test_staged_chunks_outlive_a_reopen_so_a_restarted_warehouse_merges_them(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    first = DuckDBWarehouse(path)
    chunks = bulk_chunks(2)
    first.stage(chunks[0], "load", "c0")
    first.close()  # the warehouse actor restarted mid-load

    second = DuckDBWarehouse(path)
    assert second.stage(chunks[0], "load", "c0") == 2  # the retried task's chunk is already held
    second.stage(chunks[1], "load", "c1")
    assert second.merge_staged("load").rows == 4
    assert second.count() == 4


def duckdb_staging(load_id: str) -> str:
    return _staging_table(load_id)


def test_a_load_is_discarded_from_a_thread_that_never_read(tmp_path: Path) -> None:
    # The warehouse actor serves calls on a pool of threads: a discard may come on one with no read cursor yet.
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    warehouse.stage(bulk_chunks(1)[0], "load", "c0")
    discarding = threading.Thread(target=warehouse.discard_staged, args=("load",), daemon=True)
    discarding.start()
    discarding.join(timeout=10)
    assert not discarding.is_alive(), "the discard waits on its own lock"
    assert warehouse.merge_staged("load").rows == 0
