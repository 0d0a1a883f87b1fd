"""The embedded warehouse: a DuckDB file, written by Arrow upserts on the primary key.

Observations and forecasts have a table each. Writes register the Arrow batch and ``INSERT OR REPLACE`` it in one
transaction (measured here: primary-key upserts from large Arrow batches run at ~300k rows/s; row-by-row parameter
lists at ~270), so a re-delivered batch leaves the table as it was. The session time zone is UTC, so timestamps
read back exactly as written.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from typing_extensions import override

from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.forecasts import FORECAST_SCHEMA
from scalar_ray.core.window import Window
from scalar_ray.warehouse.base import (
    CATALOGUE_SCHEMA,
    ISSUE_SCHEMA,
    READ_SCHEMA,
    Warehouse,
    WriteResult,
    check_forecasts,
    check_observations,
)
from scalar_ray.warehouse.forecast_migration import migrate_forecast_series

__all__ = ["DuckDBWarehouse"]

_QUANTILES = [field.name for field in FORECAST_SCHEMA if field.name.startswith("q")]
_FORECAST_COLUMNS = ", ".join(FORECAST_SCHEMA.names)
_FORECAST_UPSERT = (
    f"insert or replace into forecasts ({_FORECAST_COLUMNS}) "  # noqa: S608 - our own column names
    f"select {_FORECAST_COLUMNS} from incoming"
)

_DDL = (
    """create table if not exists series (
        series_id varchar primary key, provider varchar not null, dataset varchar not null, area varchar not null,
        variable varchar not null, unit varchar not null, resolution varchar not null)""",
    """create table if not exists observations (
        series_id varchar not null, ts timestamptz not null, issued_at timestamptz not null, value double not null,
        ingested_at timestamptz not null default current_timestamp,
        primary key (series_id, ts, issued_at))""",
    f"""create table if not exists forecasts (
        family varchar not null, zone varchar not null, model_version varchar not null, target varchar not null,
        issued_at timestamptz not null, ts timestamptz not null, mean double not null,
        {", ".join(f"{column} double" for column in _QUANTILES)},
        ingested_at timestamptz not null default current_timestamp,
        primary key (family, zone, target, issued_at, ts))""",
)


# SQL users' and Grafana's views: each interval's newest and first vintage, with the series' metadata.
_VIEWS = tuple(
    f"""create or replace view observations_{name} as
        select o.series_id, o.ts, o.value, o.issued_at,
               s.provider, s.dataset, s.area, s.variable, s.unit, s.resolution
        from observations o join series s on s.series_id = o.series_id
        qualify row_number() over (partition by o.series_id, o.ts order by o.issued_at {order}) = 1"""  # noqa: S608 - constants
    for name, order in (("latest", "desc"), ("first", "asc"))
)

_DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.ConstraintException,
    duckdb.OutOfRangeException,
    duckdb.InvalidInputException,
    duckdb.TypeMismatchException,
)


class DuckDBWarehouse(Warehouse):
    """Observations and the series catalogue in one DuckDB file; one writer connection, guarded by a lock."""

    name = "duckdb"

    def __init__(
        self, path: Path, threads: int | None = None, forecast_targets: Mapping[tuple[str, str, str], str] | None = None
    ) -> None:
        """Open (or create) the file and move forecasts of the old layout into the forecasts table.

        ``forecast_targets`` resolves them: (family, zone, target variable) → the target's series id (see
        ``forecast_migration``).
        """
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._connection = duckdb.connect(str(path))
            self._connection.execute("set TimeZone = 'UTC'")
            if threads:
                self._connection.execute(f"set threads = {int(threads)}")
            for statement in (*_DDL, *_VIEWS):
                self._connection.execute(statement)
            migrate_forecast_series(self._connection, forecast_targets or {})
        except duckdb.Error as exc:
            raise WarehouseError(self.name, "open", f"{path}: {exc}") from exc
        self._lock = threading.Lock()

    @override
    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        batch = check_observations(self.name, observations)
        if batch.num_rows == 0:
            return WriteResult(0, 0)
        self._upsert(
            batch,
            """insert or replace into series
               select distinct on (series_id) series_id, provider, dataset, area, variable, unit, resolution
               from incoming""",
            """insert or replace into observations (series_id, ts, issued_at, value)
               select series_id, ts, issued_at, value from incoming""",
        )
        # Counted in Arrow: this runs on every ingestion batch (up to 100,000 rows).
        return WriteResult(batch.num_rows, pc.count_distinct(batch["series_id"]).as_py())

    def _upsert(self, batch: pa.Table, *statements: str) -> None:
        """Run ``statements`` over ``batch`` (registered as ``incoming``) in one transaction."""
        with self._lock:
            try:
                self._connection.begin()
                self._connection.register("incoming", batch)
                for statement in statements:
                    self._connection.execute(statement)
                self._connection.commit()
            except duckdb.Error as exc:
                self._connection.rollback()
                # A value DuckDB cannot hold or a broken constraint fails again on retry; an I/O error may not.
                refused = isinstance(exc, _DATA_ERRORS)
                raise WarehouseError(self.name, "write", str(exc), permanent=refused) from exc
            finally:
                self._connection.unregister("incoming")

    @override
    def write_forecasts(self, forecasts: pa.Table, batch_id: str | None = None) -> WriteResult:
        batch = check_forecasts(self.name, forecasts)
        if batch.num_rows == 0:
            return WriteResult(0, 0)
        self._upsert(batch, _FORECAST_UPSERT)
        models = batch.group_by(["family", "zone", "target"], use_threads=False).aggregate([])
        return WriteResult(batch.num_rows, models.num_rows)

    @override
    def read_forecasts(self, family: str, zone: str, issued: Window) -> pa.Table:
        query = f"""
            select {_FORECAST_COLUMNS} from forecasts
            where family = ? and zone = ? and issued_at >= ? and issued_at < ?
            order by issued_at, target, ts"""  # noqa: S608 - our own column names, values bound
        return self._read_rows(query, [family, zone, issued.start, issued.end], FORECAST_SCHEMA)

    @override
    def latest_forecast(self, family: str, zone: str, as_of: datetime, lookback: timedelta) -> pa.Table:
        query = f"""
            select {_FORECAST_COLUMNS} from forecasts
            where family = $family and zone = $zone and issued_at = (
                select max(issued_at) from forecasts
                where family = $family and zone = $zone and issued_at >= $since and issued_at <= $as_of)
            order by target, ts"""  # noqa: S608 - our own column names, values bound
        params = {"family": family, "zone": zone, "since": as_of - lookback, "as_of": as_of}
        return self._read_rows(query, params, FORECAST_SCHEMA)

    @override
    def read(self, series_ids: Sequence[str], window: Window, as_of: datetime | None = None) -> pa.Table:
        query = """
            select series_id, ts, value, issued_at from observations
            where series_id in (select unnest(?::varchar[])) and ts >= ? and ts < ?
              and (?::timestamptz is null or issued_at <= ?::timestamptz)
            qualify row_number() over (partition by series_id, ts order by issued_at desc) = 1
            order by series_id, ts"""
        return self._read_rows(query, [list(series_ids), window.start, window.end, as_of, as_of])

    @override
    def read_known(
        self, series_ids: Sequence[str], window: Window, known_within: timedelta, earliest_if_unknown: bool = False
    ) -> pa.Table:
        # In time = issued at or before ts + known_within; those first (latest of them), else the earliest vintage.
        query = """
            select series_id, ts, value, issued_at from (
                select *, issued_at <= ts + to_microseconds(?::bigint) as in_time from observations
                where series_id in (select unnest(?::varchar[])) and ts >= ? and ts < ?
            ) where in_time or ?::boolean
            qualify row_number() over (
                partition by series_id, ts
                order by in_time desc, case when in_time then issued_at else ts end desc, issued_at) = 1
            order by series_id, ts"""
        micros = int(known_within.total_seconds() * 1_000_000)
        return self._read_rows(query, [micros, list(series_ids), window.start, window.end, earliest_if_unknown])

    @override
    def read_vintages(self, series_ids: Sequence[str], window: Window, issued: Window | None = None) -> pa.Table:
        query = """
            select series_id, ts, value, issued_at from observations
            where series_id in (select unnest(?::varchar[])) and ts >= ? and ts < ?
              and (?::timestamptz is null or (issued_at >= ?::timestamptz and issued_at < ?::timestamptz))
            order by series_id, ts, issued_at"""
        since, until = (issued.start, issued.end) if issued is not None else (None, None)
        return self._read_rows(query, [list(series_ids), window.start, window.end, since, since, until])

    @override
    def issues(self, series_ids: Sequence[str], issued: Window) -> pa.Table:
        query = """
            select series_id, issued_at, min(ts) as first_ts, max(ts) as last_ts, count(*) as "values"
            from observations
            where series_id in (select unnest(?::varchar[])) and issued_at >= ? and issued_at < ?
            group by series_id, issued_at order by series_id, issued_at"""
        return self._read_rows(query, [list(series_ids), issued.start, issued.end], ISSUE_SCHEMA)

    @override
    def catalogue(self) -> pa.Table:
        query = """
            select s.series_id, s.provider, s.dataset, s.area, s.variable, s.unit, s.resolution,
                   o.first_ts, o.last_ts, o.last_issued_at,
                   coalesce(o.vintages, 0) as vintages, coalesce(o."rows", 0) as "rows"
            from series s left join (
                select series_id, min(ts) as first_ts, max(ts) as last_ts, max(issued_at) as last_issued_at,
                       count(distinct issued_at) as vintages, count(*) as "rows"
                from observations group by series_id
            ) o using (series_id)
            order by s.series_id"""
        return self._read_rows(query, [], CATALOGUE_SCHEMA)

    def _read_rows(
        self, query: str, params: list[object] | dict[str, object], schema: pa.Schema = READ_SCHEMA
    ) -> pa.Table:
        with self._lock:
            try:
                # A relation streams straight to Arrow; a DB-API result would copy the rows once more.
                result = self._connection.sql(query, params=params).to_arrow_table()
            except duckdb.Error as exc:
                raise WarehouseError(self.name, "query", str(exc)) from exc
        if result is None:
            return schema.empty_table()
        return result.cast(schema)

    @override
    def count(self) -> int:
        # fetchall, not fetchone: DuckDB 2 refuses further work on a connection with a half-read result.
        with self._lock:
            rows = self._connection.execute("select count(*) from observations").fetchall()
        return int(rows[0][0]) if rows else 0

    @override
    def series_metadata(self, series_id: str) -> dict[str, str] | None:
        with self._lock:
            rows = self._connection.execute(
                "select provider, dataset, area, variable, unit, resolution from series where series_id = ?",
                [series_id],
            ).fetchall()
        if not rows:
            return None
        return dict(zip(("provider", "dataset", "area", "variable", "unit", "resolution"), rows[0], strict=True))

    @override
    def compact(self, keep_after: datetime) -> int:
        with self._lock:
            try:
                rows = self._connection.execute("delete from observations where ts < ?", [keep_after]).fetchall()
                # A checkpoint folds the write-ahead log into the file and frees the deleted row groups.
                self._connection.execute("checkpoint")
            except duckdb.Error as exc:
                raise WarehouseError(self.name, "compact", str(exc)) from exc
        return int(rows[0][0]) if rows else 0

    @override
    def query(self, sql: str) -> pa.Table:
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as exc:
            raise WarehouseError(self.name, "query", f"cannot parse the SQL: {exc}") from exc
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise WarehouseError(self.name, "query", "give exactly one SELECT statement (queries are read-only)")
        with self._lock:
            try:
                return self._connection.sql(sql).to_arrow_table()
            except duckdb.Error as exc:
                raise WarehouseError(self.name, "query", str(exc)) from exc

    @override
    def close(self) -> None:
        with self._lock:
            self._connection.close()
