"""The production warehouse: StarRocks 3.4, loaded by Stream Load (CSV from Arrow), queried over the MySQL protocol.

Tables are primary-key tables partitioned by day on ``ts``, so a re-delivered batch upserts onto itself and old days
can be dropped whole. A batch is one Stream Load per table with a label derived from the batch's message ids: the
same batch retried after a crash carries the same label, which StarRocks accepts only once. StarRocks 3.4 has no
Arrow load format (it arrives in 4.2), hence tab-separated CSV: pyarrow writes it, and refuses any value that would
need quoting rather than emit something StarRocks would misread.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pymysql
from typing_extensions import override

from scalar_ray.config.settings import StarRocksSettings
from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.forecasts import FORECAST_ADDED_COLUMNS, FORECAST_SCHEMA
from scalar_ray.core.window import Window
from scalar_ray.warehouse.base import (
    CATALOGUE_SCHEMA,
    ISSUE_SCHEMA,
    READ_SCHEMA,
    Warehouse,
    WriteResult,
    check_forecasts,
    check_observations,
    content_digest,
)
from scalar_ray.warehouse.stream_load import StreamLoadClient

__all__ = ["StarRocksWarehouse", "schema_statements"]

_SERIES_COLUMNS = ("series_id", "provider", "dataset", "area", "variable", "unit", "resolution")
_OBSERVATION_COLUMNS = ("series_id", "ts", "issued_at", "value")
_QUANTILES = [field.name for field in FORECAST_SCHEMA if field.name.startswith("q")]
_FORECAST_COLUMNS = tuple(FORECAST_SCHEMA.names)
# What a batch id may be to serve as the tail of a Stream Load label (which allows [A-Za-z0-9_]{1,128}).
_LABEL_SAFE = re.compile(r"^[A-Za-z0-9_]{1,80}$")
_READ_ONLY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)


def schema_statements(database: str, replication_num: int | None) -> list[str]:
    """The DDL of the platform's tables (idempotent)."""
    properties = f' PROPERTIES ("replication_num" = "{replication_num}")' if replication_num else ""
    return [
        f"CREATE DATABASE IF NOT EXISTS {database}",
        f"""CREATE TABLE IF NOT EXISTS {database}.series (
            series_id VARCHAR(512) NOT NULL, provider VARCHAR(64) NOT NULL, dataset VARCHAR(128) NOT NULL,
            area VARCHAR(64) NOT NULL, variable VARCHAR(128) NOT NULL, unit VARCHAR(32) NOT NULL,
            resolution VARCHAR(16) NOT NULL
        ) PRIMARY KEY (series_id) DISTRIBUTED BY HASH(series_id){properties}""",
        # Key columns first, in key order (a StarRocks rule); the partition column must be part of the key.
        f"""CREATE TABLE IF NOT EXISTS {database}.observations (
            series_id VARCHAR(512) NOT NULL, ts DATETIME NOT NULL, issued_at DATETIME NOT NULL,
            value DOUBLE NOT NULL, ingested_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
        ) PRIMARY KEY (series_id, ts, issued_at) PARTITION BY date_trunc('day', ts)
        DISTRIBUTED BY HASH(series_id){properties}""",
        f"""CREATE TABLE IF NOT EXISTS {database}.forecasts (
            family VARCHAR(64) NOT NULL, zone VARCHAR(64) NOT NULL, target VARCHAR(512) NOT NULL,
            issued_at DATETIME NOT NULL, ts DATETIME NOT NULL, model_version VARCHAR(64) NOT NULL,
            mean DOUBLE NOT NULL, {", ".join(f"{column} DOUBLE NULL" for column in _QUANTILES)},
            {", ".join(f"{column} VARCHAR({size}) NULL" for column, size in FORECAST_ADDED_COLUMNS.items())},
            ingested_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
        ) PRIMARY KEY (family, zone, target, issued_at, ts) PARTITION BY date_trunc('day', issued_at)
        DISTRIBUTED BY HASH(family, zone){properties}""",
        # SQL users' and Grafana's views (StarRocks has no ASOF join and no QUALIFY: a window function).
        *(
            f"""CREATE VIEW IF NOT EXISTS {database}.observations_{name} AS
            SELECT series_id, ts, value, issued_at, provider, dataset, area, variable, unit, resolution FROM (
                SELECT o.series_id, o.ts, o.value, o.issued_at, s.provider, s.dataset, s.area, s.variable, s.unit,
                       s.resolution,
                       ROW_NUMBER() OVER (PARTITION BY o.series_id, o.ts ORDER BY o.issued_at {order}) AS vintage_rank
                FROM {database}.observations o JOIN {database}.series s ON s.series_id = o.series_id
            ) ranked WHERE vintage_rank = 1"""  # noqa: S608 - the database from settings, the rest constants
            for name, order in (("latest", "DESC"), ("first", "ASC"))
        ),
    ]


class StarRocksWarehouse(Warehouse):
    """Stream Load for writes, pymysql for DDL and queries; DATETIME columns hold UTC."""

    name = "starrocks"

    def __init__(self, settings: StarRocksSettings, loader: StreamLoadClient | None = None) -> None:
        if settings.password is None:
            raise WarehouseError(self.name, "open", "no password: set SCALAR_WAREHOUSE__STARROCKS__PASSWORD")
        self._settings = settings
        self._loader = loader or StreamLoadClient(
            str(settings.http_url),
            settings.database,
            settings.user,
            settings.password,
            timeout_s=settings.load_timeout_s,
        )
        self._connection: pymysql.connections.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._schema_ready = False

    @classmethod
    def from_settings(cls, settings: StarRocksSettings) -> StarRocksWarehouse:
        """Connect as configured."""
        return cls(settings)

    @contextmanager
    def _cursor(self, operation: str) -> Iterator[Any]:
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self._connect()
                else:
                    try:
                        self._connection.ping()
                    except pymysql.MySQLError:
                        self._connection = None  # a dropped connection: one new attempt below
                        self._connection = self._connect()
                with self._connection.cursor() as cursor:
                    yield cursor
            except pymysql.MySQLError as exc:
                self._connection = None
                raise WarehouseError(self.name, operation, f"{type(exc).__name__}: {exc}") from exc

    def _connect(self) -> pymysql.connections.Connection[Any]:
        password = self._settings.password.get_secret_value() if self._settings.password else ""
        return pymysql.connect(
            host=self._settings.mysql_host,
            port=self._settings.mysql_port,
            user=self._settings.user,
            password=password,
            connect_timeout=10,
            read_timeout=300,
            autocommit=True,
        )

    def ensure_schema(self) -> None:
        """Create the database and tables unless they exist."""
        if self._schema_ready:
            return
        with self._cursor("schema") as cursor:
            for statement in schema_statements(self._settings.database, self._settings.replication_num):
                cursor.execute(statement)
            cursor.execute(f"SELECT * FROM {self._settings.database}.forecasts LIMIT 0")  # noqa: S608 - from settings
            cursor.fetchall()
            present = {str(column[0]).lower() for column in cursor.description or ()}
            for column, size in FORECAST_ADDED_COLUMNS.items():  # a forecasts table from before the column
                if column not in present:
                    cursor.execute(
                        f"ALTER TABLE {self._settings.database}.forecasts ADD COLUMN {column} VARCHAR({size}) NULL"
                    )
        self._schema_ready = True

    @override
    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        batch = check_observations(self.name, observations)
        if batch.num_rows == 0:
            return WriteResult(0, 0)
        self.ensure_schema()
        grouped = batch.group_by("series_id", use_threads=False).aggregate(
            [(name, "first") for name in _SERIES_COLUMNS[1:]]
        )
        series = pa.table({name: grouped[name if name == "series_id" else f"{name}_first"] for name in _SERIES_COLUMNS})
        label = self._label(batch, batch_id)
        self._loader.load("series", _csv(series), label("series"), {"columns": ",".join(_SERIES_COLUMNS)})
        values = batch.select(list(_OBSERVATION_COLUMNS))
        self._loader.load(
            "observations", _csv(values), label("observations"), {"columns": ",".join(_OBSERVATION_COLUMNS)}
        )
        return WriteResult(batch.num_rows, series.num_rows)

    def _label(self, batch: pa.Table, batch_id: str | None) -> Callable[[str], str]:
        """Stream Load labels for a batch, per table: the batch id where it is a valid label, else its digest.

        A label is at most 128 of ``[A-Za-z0-9_]`` and is accepted once, so a retried batch is loaded once.
        """
        name = batch_id if batch_id and _LABEL_SAFE.match(batch_id) else content_digest(batch, salt=batch_id or "")
        return lambda table: f"{self._settings.label_prefix}_{table}_{name}"

    @override
    def write_forecasts(self, forecasts: pa.Table, batch_id: str | None = None) -> WriteResult:
        batch = check_forecasts(self.name, forecasts)
        if batch.num_rows == 0:
            return WriteResult(0, 0)
        self.ensure_schema()
        label = self._label(batch, batch_id)("forecasts")
        self._loader.load("forecasts", _csv(batch), label, {"columns": ",".join(_FORECAST_COLUMNS)})
        models = batch.group_by(["family", "zone", "target"], use_threads=False).aggregate([])
        return WriteResult(batch.num_rows, models.num_rows)

    @override
    def read_forecasts(self, family: str, zone: str, issued: Window) -> pa.Table:
        self.ensure_schema()
        sql = f"""
            select {", ".join(_FORECAST_COLUMNS)} from {self._settings.database}.forecasts
            where family = %s and zone = %s and issued_at >= %s and issued_at < %s
            order by issued_at, target, ts"""  # noqa: S608 - identifiers from settings and the schema, values bound
        with self._cursor("query") as cursor:
            cursor.execute(sql, [family, zone, _naive(issued.start), _naive(issued.end)])
            rows = cursor.fetchall()
        columns = {name: [_aware(row[i]) for row in rows] for i, name in enumerate(_FORECAST_COLUMNS)}
        return pa.table(columns, schema=FORECAST_SCHEMA)

    @override
    def read(self, series_ids: Sequence[str], window: Window, as_of: datetime | None = None) -> pa.Table:
        if not series_ids:
            return READ_SCHEMA.empty_table()
        self.ensure_schema()
        placeholders = ", ".join(["%s"] * len(series_ids))
        vintage = "and issued_at <= %s" if as_of is not None else ""
        sql = f"""
            select series_id, ts, value, issued_at from (
                select series_id, ts, value, issued_at,
                       row_number() over (partition by series_id, ts order by issued_at desc) as rn
                from {self._settings.database}.observations
                where series_id in ({placeholders}) and ts >= %s and ts < %s {vintage}
            ) chosen where rn = 1 order by series_id, ts"""  # noqa: S608 - identifiers from settings, values bound
        params: list[Any] = [*series_ids, _naive(window.start), _naive(window.end)]
        if as_of is not None:
            params.append(_naive(as_of))
        return self._read_rows(sql, params)

    @override
    def read_known(
        self, series_ids: Sequence[str], window: Window, known_within: timedelta, earliest_if_unknown: bool = False
    ) -> pa.Table:
        if not series_ids:
            return READ_SCHEMA.empty_table()
        self.ensure_schema()
        placeholders = ", ".join(["%s"] * len(series_ids))
        # In time = issued at or before ts + known_within; those first (latest of them), else the earliest vintage.
        sql = f"""
            select series_id, ts, value, issued_at from (
                select series_id, ts, value, issued_at, in_time,
                       row_number() over (
                           partition by series_id, ts
                           order by in_time desc, case when in_time = 1 then issued_at else ts end desc, issued_at
                       ) as rn
                from (
                    select series_id, ts, value, issued_at,
                           case when issued_at <= date_add(ts, interval %s second) then 1 else 0 end as in_time
                    from {self._settings.database}.observations
                    where series_id in ({placeholders}) and ts >= %s and ts < %s
                ) vintages
            ) chosen where rn = 1 and (in_time = 1 or %s = 1) order by series_id, ts"""  # noqa: S608 - bound values
        seconds = int(known_within.total_seconds())
        params: list[Any] = [seconds, *series_ids, _naive(window.start), _naive(window.end), int(earliest_if_unknown)]
        return self._read_rows(sql, params)

    @override
    def read_vintages(self, series_ids: Sequence[str], window: Window, issued: Window | None = None) -> pa.Table:
        if not series_ids:
            return READ_SCHEMA.empty_table()
        self.ensure_schema()
        placeholders = ", ".join(["%s"] * len(series_ids))
        issued_in = "and issued_at >= %s and issued_at < %s" if issued is not None else ""
        sql = f"""
            select series_id, ts, value, issued_at from {self._settings.database}.observations
            where series_id in ({placeholders}) and ts >= %s and ts < %s {issued_in}
            order by series_id, ts, issued_at"""  # noqa: S608 - identifiers from settings, values bound
        params: list[Any] = [*series_ids, _naive(window.start), _naive(window.end)]
        if issued is not None:
            params += [_naive(issued.start), _naive(issued.end)]
        return self._read_rows(sql, params)

    @override
    def issues(self, series_ids: Sequence[str], issued: Window) -> pa.Table:
        if not series_ids:
            return ISSUE_SCHEMA.empty_table()
        self.ensure_schema()
        placeholders = ", ".join(["%s"] * len(series_ids))
        sql = f"""
            select series_id, issued_at, min(ts) as first_ts, max(ts) as last_ts, count(*) as n
            from {self._settings.database}.observations
            where series_id in ({placeholders}) and issued_at >= %s and issued_at < %s
            group by series_id, issued_at order by series_id, issued_at"""  # noqa: S608 - bound values
        return self._rows_as(sql, [*series_ids, _naive(issued.start), _naive(issued.end)], ISSUE_SCHEMA)

    @override
    def catalogue(self) -> pa.Table:
        self.ensure_schema()
        database = self._settings.database
        sql = f"""
            select s.series_id, s.provider, s.dataset, s.area, s.variable, s.unit, s.resolution,
                   o.first_ts, o.last_ts, o.last_issued_at,
                   coalesce(o.vintages, 0) as vintages, coalesce(o.n, 0) as n
            from {database}.series s left join (
                select series_id, min(ts) as first_ts, max(ts) as last_ts, max(issued_at) as last_issued_at,
                       count(distinct issued_at) as vintages, count(*) as n
                from {database}.observations group by series_id
            ) o on o.series_id = s.series_id
            order by s.series_id"""  # noqa: S608 - identifiers from settings
        return self._rows_as(sql, [], CATALOGUE_SCHEMA)

    def _read_rows(self, sql: str, params: list[Any]) -> pa.Table:
        with self._cursor("query") as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return pa.table(
            {
                "series_id": [row[0] for row in rows],
                "ts": [_aware(row[1]) for row in rows],
                "value": [float(row[2]) for row in rows],
                "issued_at": [_aware(row[3]) for row in rows],
            },
            schema=READ_SCHEMA,
        )

    def _rows_as(self, sql: str, params: list[Any], schema: pa.Schema) -> pa.Table:
        """Rows in ``schema``'s column order (DATETIME read back as UTC)."""
        with self._cursor("query") as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return pa.table({name: [_aware(row[i]) for row in rows] for i, name in enumerate(schema.names)}, schema=schema)

    @override
    def count(self) -> int:
        self.ensure_schema()
        with self._cursor("query") as cursor:
            cursor.execute(f"select count(*) from {self._settings.database}.observations")  # noqa: S608
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    @override
    def series_metadata(self, series_id: str) -> dict[str, str] | None:
        self.ensure_schema()
        with self._cursor("query") as cursor:
            cursor.execute(
                f"select {', '.join(_SERIES_COLUMNS[1:])} from {self._settings.database}.series "  # noqa: S608
                "where series_id = %s",
                [series_id],
            )
            row = cursor.fetchone()
        return dict(zip(_SERIES_COLUMNS[1:], row, strict=True)) if row else None

    @override
    def compact(self, keep_after: datetime) -> int:
        # Primary-key tables compact their versions on their own; retention deletes whole days of the past.
        self.ensure_schema()
        table = f"{self._settings.database}.observations"
        with self._cursor("compact") as cursor:
            # Counted first: StarRocks reports DELETE's affected rows inconsistently across versions.
            cursor.execute(f"select count(*) from {table} where ts < %s", [_naive(keep_after)])  # noqa: S608
            row = cursor.fetchone()
            cursor.execute(f"delete from {table} where ts < %s", [_naive(keep_after)])  # noqa: S608
        return int(row[0]) if row else 0

    @override
    def query(self, sql: str) -> pa.Table:
        if not _READ_ONLY.match(sql) or ";" in sql.strip().rstrip(";"):
            raise WarehouseError(self.name, "query", "give exactly one SELECT statement (queries are read-only)")
        self.ensure_schema()
        with self._cursor("query") as cursor:
            cursor.execute(f"use {self._settings.database}")
            cursor.execute(sql)
            names = [column[0] for column in cursor.description or []]
            rows = cursor.fetchall()
        return pa.table({name: [_aware(row[i]) for row in rows] for i, name in enumerate(names)})

    @override
    def close(self) -> None:
        self._loader.close()
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def _csv(table: pa.Table) -> bytes:
    """Tab-separated, no header, timestamps as ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC (DATETIME has no zone)."""
    columns = []
    for field in table.schema:
        column = table[field.name]
        if pa.types.is_timestamp(field.type):
            column = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
        if column.null_count:
            column = pc.fill_null(column.cast(pa.string()), _NULL)  # Stream Load's CSV spells NULL \N
        columns.append(column)
    text = pa.table(columns, names=table.column_names)
    sink = io.BytesIO()
    # WriteOptions and write_csv are exported at run time but not declared in pyarrow's stubs.
    options = pa_csv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")  # type: ignore[attr-defined]
    try:
        pa_csv.write_csv(text, sink, write_options=options)  # type: ignore[attr-defined]
    except pa.ArrowInvalid as exc:
        raise WarehouseError(
            "starrocks", "write", f"a value cannot be written as plain CSV: {exc}", permanent=True
        ) from exc
    return sink.getvalue()


_NULL = "\\N"


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(value: object) -> object:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value
