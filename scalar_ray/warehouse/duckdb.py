"""The embedded warehouse: a DuckDB file, written by Arrow batches, read on a cursor per thread.

Observations and forecasts have a table each. Observations have no primary-key index: a write deletes the rows with
its batch's keys and inserts the batch, in one transaction, so a re-delivered batch leaves the table as it was; their
rows carry an integer series key and are clustered month by month (``duckdb_layout`` says why, with the figures).
Forecasts (far fewer rows) keep their primary key and ``INSERT OR REPLACE``. Reads run on a cursor of their own
thread, beside a write in progress (DuckDB's MVCC shows them the last commit). The session time zone is UTC, so
timestamps read back exactly as written; ``memory_limit`` bounds DuckDB's buffers (it spills beyond them).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from typing_extensions import override

from scalar_ray.config.settings import DUCKDB_SIZE_PATTERN
from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.forecasts import FORECAST_ADDED_COLUMNS, FORECAST_SCHEMA
from scalar_ray.core.observations import unique_keys
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
from scalar_ray.warehouse.duckdb_layout import (
    SERIES_STATS_UPDATE,
    cluster,
    ensure_observations,
    recount_series,
    transaction,
)
from scalar_ray.warehouse.forecast_migration import migrate_forecast_series
from scalar_ray.warehouse.series_keys import SeriesSelection, series_keys_column

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
        variable varchar not null, unit varchar not null, resolution varchar not null, series_key bigint)""",
    f"""create table if not exists forecasts (
        family varchar not null, zone varchar not null, model_version varchar not null, target varchar not null,
        issued_at timestamptz not null, ts timestamptz not null, mean double not null,
        {", ".join(f"{column} double" for column in _QUANTILES)},
        {", ".join(f"{column} varchar" for column in FORECAST_ADDED_COLUMNS)},
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

# Reads know a series by its key alone, so two ids must never share one (see series_keys): the write fails, whole.
# Checked on the batch's distinct (id, key) pairs: joined row by row, the batch met itself once per pair of its rows
# of a series (100,000 rows of 20 series: 500 million pairs, 95 % of a write's time).
_REFUSE_KEY_COLLISIONS = """
    with pairs as (select distinct series_id, series_key from incoming)
    select case when count(*) > 0 then error('series key collision: ' || string_agg(pair, ', ')) end from (
        select distinct i.series_id || ' has the key of ' || coalesce(s.series_id, o.series_id) as pair
        from pairs i
        left join series s on s.series_key = i.series_key and s.series_id <> i.series_id
        left join pairs o on o.series_key = i.series_key and o.series_id <> i.series_id
        where s.series_id is not null or o.series_id is not null)"""

# Bulk loads: each load's chunks appended to a table of its own (dropped when merged), their ids and staging order in
# bulk_chunks. The staged columns are the canonical ones (see OBSERVATION_SCHEMA) after the chunk's order number.
_STAGED_COLUMNS = "series_id, ts, value, issued_at, provider, dataset, area, variable, unit, resolution"
_STAGING = """create table if not exists {table} (
    seq bigint not null, series_key bigint not null, series_id varchar not null, ts timestamptz not null,
    value double not null, issued_at timestamptz not null, provider varchar not null, dataset varchar not null,
    area varchar not null, variable varchar not null, unit varchar not null, resolution varchar not null)"""
_BULK_CHUNKS = """create table if not exists bulk_chunks (
    load_id varchar not null, chunk_id varchar not null, seq bigint not null, "rows" bigint not null,
    primary key (load_id, chunk_id))"""

# Staged rows merged in one transaction at most (whole months of intervals; a bigger month is merged alone): a
# bounded temporary table, and few enough transactions that their fixed cost stays small.
_MERGE_ROWS = 4_000_000

# SQL, or SQL and its named parameters.
Statement = str | tuple[str, dict[str, object]]

_METADATA_MEMO = 100_000  # series whose metadata is remembered; beyond it the memo starts again

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
        self,
        path: Path,
        threads: int | None = None,
        forecast_targets: Mapping[tuple[str, str, str], str] | None = None,
        memory_limit: str | None = None,
    ) -> None:
        """Open (or create) the file, bringing tables of earlier layouts up to date.

        Forecasts once stored as observations move to the forecasts table (``forecast_targets`` resolves them:
        (family, zone, target variable) → the target's series id, see ``forecast_migration``); observations of the
        primary-key layout are keyed and clustered (``duckdb_layout``).
        """
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._connection = duckdb.connect(str(path))
            self._connection.execute("set TimeZone = 'UTC'")
            if threads:
                self._connection.execute(f"set threads = {int(threads)}")
            if memory_limit:
                self._connection.execute(f"set memory_limit = '{_checked_size(memory_limit)}'")
            for statement in _DDL:
                self._connection.execute(statement)
            for column in FORECAST_ADDED_COLUMNS:  # a forecasts table from before the column
                self._connection.execute(f"alter table forecasts add column if not exists {column} varchar")
            ensure_observations(self._connection)
            for statement in _VIEWS:
                self._connection.execute(statement)
            migrate_forecast_series(self._connection, forecast_targets or {})
        except duckdb.Error as exc:
            raise WarehouseError(self.name, "open", f"{path}: {exc}") from exc
        self._lock = threading.Lock()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self.clustered: list[datetime] = []  # the months the last compaction rewrote
        # Every read asks for its series' metadata first; this process is the file's only writer, so a write
        # dropping its series' entries keeps the memo true.
        self._metadata: dict[str, dict[str, str]] = {}
        self._writes = 0

    @override
    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        batch = check_observations(self.name, observations)
        if batch.num_rows == 0:
            return WriteResult(0, 0)
        # One row per key, the last winning (as a primary-key upsert would, and as the batcher combines messages).
        batch = unique_keys(batch, "last")
        batch = batch.append_column("series_key", series_keys_column(batch["series_id"]))
        ts_range, issued_range = pc.min_max(batch["ts"]), pc.min_max(batch["issued_at"])
        bounds = {"ts_from": ts_range["min"].as_py(), "ts_to": ts_range["max"].as_py()}
        bounds |= {"issued_from": issued_range["min"].as_py(), "issued_to": issued_range["max"].as_py()}
        self._upsert(batch, *_merge_incoming(bounds))
        written = pc.unique(batch["series_id"]).to_pylist()
        self._writes += 1
        for series_id in written:
            self._metadata.pop(series_id, None)
        return WriteResult(batch.num_rows, len(written))

    @override
    def stage(self, observations: pa.Table, load_id: str, chunk_id: str) -> int:
        # Appended to the load's own staging table (no key lookups: an append runs several times faster than an
        # upsert); a chunk staged before is recognised by its id in bulk_chunks, in the same transaction.
        batch = check_observations(self.name, observations)
        batch = unique_keys(batch, "last")
        batch = batch.append_column("series_key", series_keys_column(batch["series_id"]))
        staging = _staging_table(load_id)
        with self._writing({"incoming": batch}) as connection:
            connection.execute(_BULK_CHUNKS)
            connection.execute(_STAGING.format(table=staging))
            held = connection.execute(
                'select "rows" from bulk_chunks where load_id = ? and chunk_id = ?', [load_id, chunk_id]
            ).fetchall()
            if held:
                return int(cast("int", held[0][0]))
            connection.execute(
                """insert into bulk_chunks
                   select ?, ?, coalesce((select max(seq) from bulk_chunks where load_id = ?), 0) + 1, ?""",
                [load_id, chunk_id, load_id, batch.num_rows],
            )
            connection.execute(
                f"""insert into {staging} select
                    (select seq from bulk_chunks where load_id = ? and chunk_id = ?),
                    series_key, {_STAGED_COLUMNS} from incoming""",  # noqa: S608 - our own table and column names
                [load_id, chunk_id],
            )
        return int(batch.num_rows)

    @override
    def merge_staged(self, load_id: str) -> WriteResult:
        # In spans of whole months (of intervals) of up to _MERGE_ROWS staged rows, each one transaction: one scan of
        # the stored span for the whole load instead of one per chunk, and a load of any size never held in one
        # transaction. A merge cut short is merged again whole: each span replaces by key, so the second pass changes
        # nothing the first did.
        staging = _staging_table(load_id)
        if not self._has_table(staging):
            return WriteResult(0, 0)  # merged already, or nothing staged
        rows, series = 0, set[str]()
        for span in self._merge_spans(staging):
            merged, names = self._merge_span(staging, span)
            rows += merged
            series.update(names)
        self.discard_staged(load_id)
        self._writes += 1
        self._metadata.clear()  # the load may have changed any of its series' metadata
        return WriteResult(rows, len(series))

    def _merge_spans(self, staging: str) -> list[Window]:
        """The staged intervals cut into spans of whole months, each of up to ``_MERGE_ROWS`` rows (or one month)."""
        months = (
            self._cursor()
            .execute(
                f"""select date_trunc('month', ts) as month, count(*) from {staging}
                    group by month order by month"""  # noqa: S608 - our own table name
            )
            .fetchall()
        )
        spans: list[Window] = []
        first, held = None, 0
        for month, count in months:
            if first is not None and held + count > _MERGE_ROWS:
                spans.append(Window(first, month))
                first, held = None, 0
            first = month if first is None else first
            held += count
        if first is not None:
            last = months[-1][0]
            spans.append(Window(first, (last.replace(day=28) + timedelta(days=4)).replace(day=1)))  # the next month
        return spans

    def _merge_span(self, staging: str, span: Window) -> tuple[int, list[str]]:
        """Upsert the staged rows of ``span`` in one transaction; the rows merged and their series."""
        within = "ts >= $start and ts < $end"
        # Chunks are deduplicated when staged: a key twice comes from two chunks (the later wins), which is rare, so
        # the window that picks it runs only when a check (a fifth of its cost) finds one.
        repeated = f"""select count(*) from (select 1 from {staging} where {within}
            group by series_key, series_id, ts, issued_at having count(*) > 1)"""  # noqa: S608 - our own names
        keep_last = """qualify row_number() over (
            partition by series_key, series_id, ts, issued_at order by seq desc) = 1"""
        bounds = {"start": span.start, "end": span.end}
        with self._writing() as connection:
            duplicates = connection.execute(repeated, bounds).fetchall()[0][0]
            connection.execute(
                f"""create temp table incoming as select series_key, {_STAGED_COLUMNS} from {staging}
                    where {within} {keep_last if duplicates else ""}""",  # noqa: S608 - our own names
                bounds,
            )
            found = connection.execute(
                "select min(ts), max(ts), min(issued_at), max(issued_at), count(*) from incoming"
            ).fetchall()[0]
            ranges = dict(zip(("ts_from", "ts_to", "issued_from", "issued_to"), found[:4], strict=True))
            _execute(connection, _merge_incoming(ranges))
            names = [row[0] for row in connection.execute("select distinct series_id from incoming").fetchall()]
            connection.execute("drop table incoming")
        return int(found[4]), names

    @override
    def discard_staged(self, load_id: str) -> None:
        # On the writer connection, which its lock guards: the thread's read cursor is made under the same lock, so
        # asking it here could wait on ourselves.
        with self._writing() as connection:
            connection.execute(f"drop table if exists {_staging_table(load_id)}")
            connection.execute(_BULK_CHUNKS)
            connection.execute("delete from bulk_chunks where load_id = ?", [load_id])

    def _has_table(self, name: str) -> bool:
        rows = (
            self._cursor()
            .execute("select count(*) from information_schema.tables where table_name = ?", [name])
            .fetchall()
        )
        return bool(rows and rows[0][0])

    @contextmanager
    def _writing(self, tables: Mapping[str, pa.Table] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """The writer connection, under its lock, in one transaction with ``tables`` registered; errors typed.

        A value DuckDB cannot hold or a broken constraint fails again on retry (permanent); an I/O error may not.
        """
        with self._lock:
            try:
                with transaction(self._connection, tables):
                    yield self._connection
            except duckdb.Error as exc:
                raise WarehouseError(self.name, "write", str(exc), permanent=isinstance(exc, _DATA_ERRORS)) from exc

    def _upsert(self, batch: pa.Table, *statements: Statement) -> None:
        """Run ``statements`` over ``batch`` (as ``incoming``) in one transaction."""
        with self._writing({"incoming": batch}) as connection:
            _execute(connection, statements)

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
            select series_key, ts, arg_max(value, issued_at) as value, max(issued_at) as issued_at from observations
            where {series} and ts >= ? and ts < ? {known}
            group by series_key, ts order by {rank}, ts"""
        params: list[object] = [window.start, window.end]
        if as_of is not None:
            params.append(as_of)
        known = "and issued_at <= ?" if as_of is not None else ""
        return self._read_keyed(query.replace("{known}", known), series_ids, params)

    @override
    def read_known(
        self, series_ids: Sequence[str], window: Window, known_within: timedelta, earliest_if_unknown: bool = False
    ) -> pa.Table:
        micros = int(known_within.total_seconds() * 1_000_000)
        if not earliest_if_unknown:  # the latest vintage in time: one aggregate, no window over every vintage
            query = """
                select series_key, ts, arg_max(value, issued_at) as value, max(issued_at) as issued_at
                from observations
                where {series} and ts >= ? and ts < ? and issued_at <= ts + to_microseconds(?::bigint)
                group by series_key, ts order by {rank}, ts"""
            return self._read_keyed(query, series_ids, [window.start, window.end, micros])
        # In time = issued at or before ts + known_within; those first (latest of them), else the earliest vintage.
        query = """
            select series_key, ts, value, issued_at from (
                select *, issued_at <= ts + to_microseconds(?::bigint) as in_time from observations
                where {series} and ts >= ? and ts < ?
            )
            qualify row_number() over (
                partition by series_key, ts
                order by in_time desc, case when in_time then issued_at else ts end desc, issued_at) = 1
            order by {rank}, ts"""
        return self._read_keyed(query, series_ids, [micros, window.start, window.end])

    @override
    def read_vintages(self, series_ids: Sequence[str], window: Window, issued: Window | None = None) -> pa.Table:
        query = """
            select series_key, ts, value, issued_at from observations
            where {series} and ts >= ? and ts < ? {issued}
            order by {rank}, ts, issued_at"""
        params: list[object] = [window.start, window.end]
        if issued is not None:
            params += [issued.start, issued.end]
        clause = "and issued_at >= ? and issued_at < ?" if issued is not None else ""
        return self._read_keyed(query.replace("{issued}", clause), series_ids, params)

    @override
    def issues(self, series_ids: Sequence[str], issued: Window) -> pa.Table:
        query = """
            select series_key, issued_at, min(ts) as first_ts, max(ts) as last_ts, count(*) as "values"
            from observations
            where {series} and issued_at >= ? and issued_at < ?
            group by series_key, issued_at order by {rank}, issued_at"""
        return self._read_keyed(query, series_ids, [issued.start, issued.end], ISSUE_SCHEMA)

    @override
    def catalogue(self) -> pa.Table:
        # What is held of each series is kept up to date by the writes (duckdb_layout): no scan of the rows.
        query = """
            select series_id, provider, dataset, area, variable, unit, resolution,
                   first_ts, last_ts, last_issued_at, coalesce(vintages, 0) as vintages, coalesce("rows", 0) as "rows"
            from series order by series_id"""
        return self._read_rows(query, [], CATALOGUE_SCHEMA)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """The calling thread's read connection (a DuckDB connection is not for two threads at once)."""
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._lock:
                cursor = self._connection.cursor()
                cursor.execute("set TimeZone = 'UTC'")
                self._cursors.append(cursor)
            self._local.cursor = cursor
        return cursor

    def _read_keyed(
        self, query: str, series_ids: Sequence[str], params: list[object], schema: pa.Schema = READ_SCHEMA
    ) -> pa.Table:
        """Run ``query`` (``{series}``: the filter, ``{rank}``: the id order, rows keyed by ``series_key``)."""
        selection = SeriesSelection.of(series_ids)
        keyed = query.replace("{series}", selection.where).replace("{rank}", selection.rank)
        return self._read_rows(keyed, params, schema, selection)

    def _read_rows(
        self,
        query: str,
        params: list[object] | dict[str, object],
        schema: pa.Schema = READ_SCHEMA,
        selection: SeriesSelection | None = None,
    ) -> pa.Table:
        try:
            # A relation streams straight to Arrow; a DB-API result would copy the rows once more.
            result = self._cursor().sql(query, params=params).to_arrow_table()
        except duckdb.Error as exc:
            raise WarehouseError(self.name, "query", str(exc)) from exc
        if result is None:
            return schema.empty_table()
        return (selection.named(result) if selection is not None else result).cast(schema)

    @override
    def count(self) -> int:
        # fetchall, not fetchone: DuckDB 2 refuses further work on a connection with a half-read result.
        rows = self._cursor().execute("select count(*) from observations").fetchall()
        return int(rows[0][0]) if rows else 0

    @override
    def series_metadata(self, series_id: str) -> dict[str, str] | None:
        known = self._metadata.get(series_id)
        if known is not None:
            return dict(known)
        writes = self._writes
        rows = (
            self._cursor()
            .execute(
                "select provider, dataset, area, variable, unit, resolution from series where series_id = ?",
                [series_id],
            )
            .fetchall()
        )
        if not rows:
            return None
        found = dict(zip(("provider", "dataset", "area", "variable", "unit", "resolution"), rows[0], strict=True))
        if writes == self._writes:  # no write since the lookup began: what was read is still true
            if len(self._metadata) >= _METADATA_MEMO:
                self._metadata.clear()
            self._metadata[series_id] = found
        return dict(found)

    @override
    def compact(self, keep_after: datetime) -> int:
        with self._lock:
            try:
                with transaction(self._connection):
                    rows = self._connection.execute("delete from observations where ts < ?", [keep_after]).fetchall()
                    if rows and rows[0][0]:  # what the catalogue keeps of a series counted rows now gone
                        recount_series(self._connection)
                self.clustered = cluster(self._connection)
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
        try:
            return self._cursor().sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise WarehouseError(self.name, "query", str(exc)) from exc

    @override
    def close(self) -> None:
        with self._lock:
            for cursor in self._cursors:
                cursor.close()
            self._connection.close()


def _execute(connection: duckdb.DuckDBPyConnection, statements: Iterable[Statement]) -> None:
    for statement in statements:
        sql, params = statement if isinstance(statement, tuple) else (statement, None)
        connection.execute(sql, params)


def _merge_incoming(bounds: dict[str, object]) -> tuple[Statement, ...]:
    """The statements that upsert ``incoming`` (one row per key, with its ``series_key``) into observations.

    ``bounds`` are its ts and issued_at ranges (``ts_from``/``ts_to``, ``issued_from``/``issued_to``): DuckDB prunes
    the scans of the stored rows to the row groups that can hold them.
    """
    return (
        _REFUSE_KEY_COLLISIONS,
        # Metadata as the batch says; what is held of the series (its counts) stays.
        """insert into series (series_id, provider, dataset, area, variable, unit, resolution, series_key)
           select distinct on (series_id)
               series_id, provider, dataset, area, variable, unit, resolution, series_key
           from incoming
           on conflict (series_id) do update set provider = excluded.provider, dataset = excluded.dataset,
               area = excluded.area, variable = excluded.variable, unit = excluded.unit,
               resolution = excluded.resolution, series_key = excluded.series_key""",
        # The stored rows with the batch's keys, and its issues already stored; the batch's ranges prune both
        # scans to the row groups that can hold them (a new issue's lie past every clustered one's).
        (
            """create or replace temp table replaced as
               select o.series_key, o.ts, o.issued_at from observations o join incoming i
                 on o.series_key = i.series_key and o.ts = i.ts and o.issued_at = i.issued_at
                and o.series_id = i.series_id
               where o.ts >= $ts_from and o.ts <= $ts_to
                 and o.issued_at >= $issued_from and o.issued_at <= $issued_to""",
            bounds,
        ),
        (
            """create or replace temp table held_issues as
               select distinct o.series_key, o.issued_at from observations o
               join (select distinct series_key, issued_at from incoming) i
                 on o.series_key = i.series_key and o.issued_at = i.issued_at
               where o.issued_at >= $issued_from and o.issued_at <= $issued_to""",
            {"issued_from": bounds["issued_from"], "issued_to": bounds["issued_to"]},
        ),
        SERIES_STATS_UPDATE,
        """delete from observations o using replaced r
           where o.series_key = r.series_key and o.ts = r.ts and o.issued_at = r.issued_at""",
        """insert into observations (series_key, series_id, ts, issued_at, value)
           select series_key, series_id, ts, issued_at, value from incoming""",
        "drop table replaced",
        "drop table held_issues",
    )


def _staging_table(load_id: str) -> str:
    """The staging table of a load: named by a digest, so any load id makes a valid, distinct table name."""
    return f"bulk_{hashlib.sha256(load_id.encode()).hexdigest()[:24]}"


def _checked_size(size: str) -> str:
    """A DuckDB size such as ``4GB`` or ``512MiB``; anything else is refused (it is written into the SQL)."""
    if not re.match(DUCKDB_SIZE_PATTERN, size.strip()):
        raise WarehouseError("duckdb", "open", f"memory_limit {size!r} is not a size such as 4GB or 512MiB")
    return size.strip()
