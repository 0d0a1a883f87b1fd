"""The physical layout of the embedded warehouse's observations: rows clustered by series key and time.

What the layout is, and why (measured by ``bench/read.py``, figures in docs/benchmarks.md):

* **No primary-key index.** DuckDB's ART index on (series_id, ts, issued_at) held the whole key set in memory: at
  105 million rows it took about 17 GB to build and is loaded whole by the first upsert after a reopen. Writes stay
  idempotent without it: each batch, in one transaction, deletes the rows with its keys and inserts its own, so a
  re-delivered batch leaves the table as it was (DuckDB prunes the delete's scan with the batch's key ranges: a new
  issue's ``issued_at`` lies past every stored row group's).
* **A series key first** (``series_keys``): an integer DuckDB can prune row groups on, where the id cannot.
* **Clustered by (series_key, ts, issued_at)** month by month. Ingestion appends in arrival order, all series
  interleaved; ``cluster`` rewrites each month that received rows since the last run, sorted, so that one series'
  month lies in one or two row groups. The compaction job runs it (hourly on the seed's cadence).
* **What the catalogue shows is kept in ``series``** (first and last interval, last issue, vintages, rows), brought
  up to date by each write from its own batch (``SERIES_STATS_UPDATE``) instead of aggregated from every row on each
  search: at 105 million rows that aggregate took 4.8 s, the count of distinct issues most of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

import duckdb
import pyarrow as pa

from scalar_ray.warehouse.series_keys import series_keys_column

__all__ = [
    "OBSERVATION_COLUMNS",
    "SERIES_STATS_UPDATE",
    "cluster",
    "ensure_observations",
    "recount_series",
    "transaction",
]

OBSERVATION_COLUMNS = "series_key, series_id, ts, issued_at, value, ingested_at"

_CREATE = """create table {name} (
    series_key bigint not null, series_id varchar not null, ts timestamptz not null, issued_at timestamptz not null,
    value double not null, ingested_at timestamptz not null default current_timestamp)"""

_STATS_COLUMNS = (
    ("first_ts", "timestamptz"),
    ("last_ts", "timestamptz"),
    ("last_issued_at", "timestamptz"),
    ("vintages", "bigint default 0"),
    ('"rows"', "bigint default 0"),
)

# Run in a write's transaction after ``replaced`` (the stored rows the batch replaces) and ``held_issues`` (the batch's
# issues already stored) are known and before the batch is inserted: a replaced row is not a new row, a held issue not
# a new vintage, so a re-delivered batch changes nothing.
SERIES_STATS_UPDATE = """
    update series set
        first_ts = least(series.first_ts, d.first_ts), last_ts = greatest(series.last_ts, d.last_ts),
        last_issued_at = greatest(series.last_issued_at, d.last_issued_at),
        vintages = series.vintages + d.issues - coalesce(h.held, 0), "rows" = series."rows" + d.n - coalesce(r.n, 0)
    from (
        select series_key, min(ts) as first_ts, max(ts) as last_ts, max(issued_at) as last_issued_at,
               count(distinct issued_at) as issues, count(*) as n
        from incoming group by series_key
    ) d
    left join (select series_key, count(*) as n from replaced group by series_key) r using (series_key)
    left join (select series_key, count(*) as held from held_issues group by series_key) h using (series_key)
    where series.series_key = d.series_key"""

_STATE = "create table if not exists warehouse_state (name varchar primary key, mark timestamptz not null)"
_CLUSTERED = "clustered_through"


@contextmanager
def transaction(connection: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table] | None = None) -> Iterator[None]:
    """One transaction, committed when the block ends and rolled back when it raises; ``tables`` registered for it."""
    connection.begin()
    try:
        for name, table in (tables or {}).items():
            connection.register(name, table)
        yield
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        for name in tables or {}:
            connection.unregister(name)


def _columns(connection: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = connection.execute(
        "select column_name from information_schema.columns where table_name = ?", [table]
    ).fetchall()
    return {row[0] for row in rows}


def ensure_observations(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the observations table, or move one of the earlier layout into it; key every series.

    The earlier layout had a primary key and no series key; the series table gets its keys too (the key-collision
    check reads them there).
    """
    connection.execute(_STATE)
    connection.execute("alter table series add column if not exists series_key bigint")
    present = _columns(connection, "series")
    uncounted = "rows" not in present
    for name, kind in _STATS_COLUMNS:
        connection.execute(f"alter table series add column if not exists {name} {kind}")
    unkeyed = connection.sql("select series_id from series where series_key is null").to_arrow_table()["series_id"]
    if len(unkeyed):
        new_keys = pa.table({"series_id": unkeyed, "key": series_keys_column(unkeyed)})
        with transaction(connection, {"new_keys": new_keys}):
            connection.execute(
                "update series set series_key = k.key from new_keys k where series.series_id = k.series_id"
            )
    columns = _columns(connection, "observations")
    if not columns:
        connection.execute(_CREATE.format(name="observations"))
    elif "series_key" not in columns:
        _rebuild_with_series_keys(connection)
    if uncounted and columns:
        recount_series(connection)


def recount_series(connection: duckdb.DuckDBPyConnection) -> None:
    """Count what ``series`` keeps of every series from the rows themselves (a whole-table aggregate).

    For what writes cannot keep up to date by themselves: rows removed by retention, a file of an earlier layout, a
    bulk load in SQL.
    """
    connection.execute(
        """update series set first_ts = o.first_ts, last_ts = o.last_ts, last_issued_at = o.last_issued_at,
                  vintages = coalesce(o.vintages, 0), "rows" = coalesce(o.n, 0)
           from series s left join (
               select series_key, min(ts) as first_ts, max(ts) as last_ts, max(issued_at) as last_issued_at,
                      count(distinct issued_at) as vintages, count(*) as n
               from observations group by series_key
           ) o using (series_key)
           where series.series_id = s.series_id"""
    )


def _rebuild_with_series_keys(connection: duckdb.DuckDBPyConnection) -> None:
    """Copy the earlier layout's rows, keyed and sorted, into the new table, in one transaction."""
    ids = connection.sql("select distinct series_id from observations").to_arrow_table()["series_id"]
    keys = pa.table({"series_id": ids, "series_key": series_keys_column(ids)})
    with transaction(connection, {"series_keys": keys}):
        connection.execute(_CREATE.format(name="observations_clustered"))
        connection.execute(
            f"""insert into observations_clustered ({OBSERVATION_COLUMNS})
                select k.series_key, o.series_id, o.ts, o.issued_at, o.value, o.ingested_at
                from observations o join series_keys k using (series_id)
                order by k.series_key, o.ts, o.issued_at"""  # noqa: S608 - constants
        )
        for view in ("observations_latest", "observations_first"):
            connection.execute(f"drop view if exists {view}")
        connection.execute("drop table observations")
        connection.execute("alter table observations_clustered rename to observations")
        connection.execute("insert or replace into warehouse_state values (?, current_timestamp)", [_CLUSTERED])


def cluster(connection: duckdb.DuckDBPyConnection) -> list[datetime]:
    """Rewrite, sorted, every month (UTC) of intervals that received rows since the last run; the months rewritten.

    One transaction per month, so a reader never sees a month half moved, and a failure leaves the months done so far
    done. The mark is the newest ``ingested_at`` seen at the start: rows written later are the next run's.
    """
    marks = connection.execute(
        "select (select mark from warehouse_state where name = ?), (select max(ingested_at) from observations)",
        [_CLUSTERED],
    ).fetchall()
    since, newest = marks[0]
    if newest is None:
        return []
    months = [
        row[0]
        for row in connection.execute(
            """select distinct date_trunc('month', ts) as month from observations
               where ?::timestamptz is null or ingested_at > ?::timestamptz order by month""",
            [since, since],
        ).fetchall()
    ]
    window = "ts >= $month and ts < $month + interval 1 month"
    for month in months:
        with transaction(connection):
            connection.execute(
                f"create temp table moving as select {OBSERVATION_COLUMNS} from observations where {window}",  # noqa: S608
                {"month": month},
            )
            connection.execute(f"delete from observations where {window}", {"month": month})  # noqa: S608
            connection.execute(
                f"insert into observations select {OBSERVATION_COLUMNS} from moving "  # noqa: S608 - constants
                "order by series_key, ts, issued_at"
            )
            connection.execute("drop table moving")
    connection.execute("insert or replace into warehouse_state values (?, ?)", [_CLUSTERED, newest])
    return months
