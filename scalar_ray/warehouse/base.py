"""The warehouse port: idempotent writes of canonical observations and forecasts, and point-in-time reads.

Observations are keyed by (``series_id``, ``ts``, ``issued_at``): a re-delivered batch overwrites itself (no
duplicates), and a revision is a new vintage. Reads can ask for the data "as known at" a moment, which training
needs to avoid leakage from later revisions. ``InMemoryWarehouse`` is the fake for unit tests; the DuckDB and
StarRocks adapters are the real ones, and all of them pass one contract suite. Forecasts (``core.forecasts``) are
kept apart, one row per (family, zone, target, issue time, interval) with the model version that issued it.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from typing_extensions import override

from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.forecasts import FORECAST_KEY, FORECAST_SCHEMA
from scalar_ray.core.observations import OBSERVATION_SCHEMA
from scalar_ray.core.window import Window

__all__ = [
    "BULK_CHUNK_ROWS",
    "CATALOGUE_SCHEMA",
    "ISSUE_SCHEMA",
    "READ_SCHEMA",
    "InMemoryWarehouse",
    "Warehouse",
    "WriteResult",
    "check_forecasts",
    "check_observations",
    "content_digest",
]

_METADATA_FIELDS = ("provider", "dataset", "area", "variable", "unit", "resolution")

# The rows of a bulk load's chunk (``Warehouse.stage``): two of DuckDB's 122,880-row row groups. A chunk of whole row
# groups is written to the database file at its commit instead of through the write-ahead log: staging ran at ~750k
# rows/s in 100,000-row chunks and ~1M in these (bench/ingest.py). Stream Load takes any size.
BULK_CHUNK_ROWS = 2 * 122_880

# What a read returns: one row per (series, interval) — the chosen vintage — in series and time order.
READ_SCHEMA = pa.schema(
    [
        pa.field("series_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("issued_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


# The catalogue: every series with its metadata and what the warehouse holds of it (nulls: no rows any more).
CATALOGUE_SCHEMA = pa.schema(
    [
        pa.field("series_id", pa.string(), nullable=False),
        *(pa.field(name, pa.string(), nullable=False) for name in _METADATA_FIELDS),
        pa.field("first_ts", pa.timestamp("us", tz="UTC")),
        pa.field("last_ts", pa.timestamp("us", tz="UTC")),
        pa.field("last_issued_at", pa.timestamp("us", tz="UTC")),
        pa.field("vintages", pa.int64(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
    ]
)

# The issues (vintages) of a series: one row per issue time, with the intervals it covers.
ISSUE_SCHEMA = pa.schema(
    [
        pa.field("series_id", pa.string(), nullable=False),
        pa.field("issued_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("first_ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("last_ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("values", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class WriteResult:
    """What one write stored."""

    rows: int
    series: int


class Warehouse(ABC):
    """Where canonical observations are kept and queried."""

    name: str

    @abstractmethod
    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        """Upsert canonical observations (``OBSERVATION_SCHEMA``) and their series' metadata; idempotent.

        ``batch_id`` names the batch the same way on every retry (ingestion derives it from the message ids);
        adapters with load labels use it so a retried load is recognised.
        """

    def stage(self, observations: pa.Table, load_id: str, chunk_id: str) -> int:
        """Hold a chunk of a bulk load (a back-fill, a replay) for ``merge_staged``; the rows it holds.

        Staging the same ``chunk_id`` of a load again holds it once (a retried task). This default loads the chunk at
        once, as an upsert: right for warehouses whose loads are bulk already (StarRocks' Stream Load into a
        primary-key table) and for the fake; the embedded warehouse appends chunks and merges them in bulk.
        """
        return self.write(observations, batch_id=chunk_id).rows

    def merge_staged(self, load_id: str) -> WriteResult:
        """Store what ``load_id`` staged, as the same chunks written one by one in staging order would; idempotent.

        Merging again (a job retried after a crash in the merge) changes nothing. What this default stages is stored
        already, so there is nothing to merge.
        """
        del load_id
        return WriteResult(0, 0)

    def discard_staged(self, load_id: str) -> None:  # noqa: B027 - the default stages nothing
        """Forget what ``load_id`` staged and has not merged (a load given up)."""

    @abstractmethod
    def read(self, series_ids: Sequence[str], window: Window, as_of: datetime | None = None) -> pa.Table:
        """For each series and interval in ``window``: the latest vintage issued at or before ``as_of`` (or ever)."""

    @abstractmethod
    def read_known(
        self, series_ids: Sequence[str], window: Window, known_within: timedelta, earliest_if_unknown: bool = False
    ) -> pa.Table:
        """For each series and interval: the value as it was known ``known_within`` after the interval started.

        That is the latest vintage issued at or before ``ts + known_within`` (negative: that long *before* the
        interval — a forecast with a lead). With ``earliest_if_unknown``, an interval with no such vintage gets its
        earliest one: a backfill stamps history with the fetch time, and its first value is what was published then.
        Training frames use this so that no row sees a value from after the moment it would have been used.
        """

    @abstractmethod
    def read_vintages(self, series_ids: Sequence[str], window: Window, issued: Window | None = None) -> pa.Table:
        """Every vintage of each series' intervals in ``window`` (issued in ``issued``, if given).

        ``READ_SCHEMA`` rows ordered by series, interval and issue time: what the read model derives the first
        values, revisions, instances and lead-time views from.
        """

    @abstractmethod
    def issues(self, series_ids: Sequence[str], issued: Window) -> pa.Table:
        """The issue times of each series within ``issued``, with the intervals each covers (``ISSUE_SCHEMA``)."""

    @abstractmethod
    def catalogue(self) -> pa.Table:
        """Every known series with its metadata, first and last interval, last issue and vintage count.

        ``CATALOGUE_SCHEMA`` rows ordered by series id.
        """

    @abstractmethod
    def count(self) -> int:
        """Stored observation rows, all vintages."""

    @abstractmethod
    def series_metadata(self, series_id: str) -> dict[str, str] | None:
        """The series' provider, dataset, area, variable, unit and resolution, or None if unknown."""

    def compact(self, keep_after: datetime) -> int:
        """Drop observations of intervals before ``keep_after`` (retention) and reclaim space; return rows dropped."""
        raise WarehouseError(self.name, "compact", "this warehouse does not compact")

    def query(self, sql: str) -> pa.Table:
        """Run one read-only SQL statement (sample queries, operators' checks); ``WarehouseError`` otherwise."""
        raise WarehouseError(self.name, "query", "this warehouse takes no SQL")

    @abstractmethod
    def write_forecasts(self, forecasts: pa.Table, batch_id: str | None = None) -> WriteResult:
        """Upsert forecast rows (``FORECAST_SCHEMA``) on (family, zone, target, issue time, interval); idempotent.

        ``series`` in the result counts the (family, zone, target) forecasts written.
        """

    @abstractmethod
    def read_forecasts(self, family: str, zone: str, issued: Window) -> pa.Table:
        """Every issue of one model whose issue time lies in ``issued``, ordered by issue time, target and interval."""

    def latest_forecast(self, family: str, zone: str, as_of: datetime, lookback: timedelta) -> pa.Table:
        """The newest issue at or before ``as_of`` and no older than ``lookback`` (empty when there is none)."""
        issues = self.read_forecasts(family, zone, Window(as_of - lookback, as_of + timedelta(microseconds=1)))
        if issues.num_rows == 0:
            return issues
        return issues.filter(pc.equal(issues["issued_at"], pc.max(issues["issued_at"])))

    def close(self) -> None:  # noqa: B027 - adapters without resources need nothing here
        """Release connections."""


def content_digest(table: pa.Table, salt: str = "") -> str:
    """A 40-hex-digit name for a batch from its Arrow buffers (and ``salt``): the same rows give the same name."""
    digest = hashlib.sha256(salt.encode())
    for column in table.columns:
        for chunk in column.chunks:
            # A slice shares its parent's buffers whole: its offset and length tell two slices of one table apart.
            digest.update(f"{chunk.offset}:{len(chunk)}".encode())
            for buffer in chunk.buffers():
                if buffer is not None:
                    digest.update(buffer)
    return digest.hexdigest()[:40]


def check_observations(warehouse: str, observations: pa.Table) -> pa.Table:
    """The batch with exactly the canonical columns and types, or a ``WarehouseError`` naming what is wrong."""
    missing = [name for name in OBSERVATION_SCHEMA.names if name not in observations.column_names]
    if missing:
        raise WarehouseError(warehouse, "write", f"batch lacks column(s) {', '.join(missing)}", permanent=True)
    try:
        batch = observations.select(OBSERVATION_SCHEMA.names).cast(OBSERVATION_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
        raise WarehouseError(
            warehouse, "write", f"batch does not fit the observation schema: {exc}", permanent=True
        ) from exc
    return batch


def check_forecasts(warehouse: str, forecasts: pa.Table) -> pa.Table:
    """The batch with exactly the forecast columns and types, or a ``WarehouseError`` naming what is wrong.

    Quantile levels the batch does not carry are null.
    """
    required = [field.name for field in FORECAST_SCHEMA if not field.nullable]
    missing = [name for name in required if name not in forecasts.column_names]
    if missing:
        raise WarehouseError(warehouse, "write", f"forecast batch lacks column(s) {', '.join(missing)}", permanent=True)
    columns = [
        forecasts[field.name] if field.name in forecasts.column_names else pa.nulls(forecasts.num_rows, field.type)
        for field in FORECAST_SCHEMA
    ]
    try:
        return pa.table(columns, names=FORECAST_SCHEMA.names).cast(FORECAST_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
        raise WarehouseError(
            warehouse, "write", f"batch does not fit the forecast schema: {exc}", permanent=True
        ) from exc


class InMemoryWarehouse(Warehouse):
    """A dictionary-backed warehouse for unit tests: the same semantics, no persistence."""

    name = "memory"

    def __init__(self) -> None:
        self._values: dict[tuple[str, datetime, datetime], float] = {}
        self._series: dict[str, dict[str, str]] = {}
        self._forecasts: dict[tuple[Any, ...], dict[str, Any]] = {}

    @override
    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        batch = check_observations(self.name, observations)
        for row in batch.to_pylist():
            self._values[(row["series_id"], row["ts"], row["issued_at"])] = row["value"]
            self._series[row["series_id"]] = {key: row[key] for key in _METADATA_FIELDS}
        return WriteResult(batch.num_rows, len(set(batch["series_id"].to_pylist())))

    @override
    def read(self, series_ids: Sequence[str], window: Window, as_of: datetime | None = None) -> pa.Table:
        chosen: dict[tuple[str, datetime], tuple[datetime, float]] = {}
        wanted = set(series_ids)
        for (series_id, ts, issued_at), value in self._values.items():
            if series_id not in wanted or not window.start <= ts < window.end:
                continue
            if as_of is not None and issued_at > as_of:
                continue
            key = (series_id, ts)
            if key not in chosen or issued_at > chosen[key][0]:
                chosen[key] = (issued_at, value)
        return _read_table(sorted((s, ts, value, issued) for (s, ts), (issued, value) in chosen.items()))

    @override
    def read_known(
        self, series_ids: Sequence[str], window: Window, known_within: timedelta, earliest_if_unknown: bool = False
    ) -> pa.Table:
        vintages: dict[tuple[str, datetime], list[tuple[datetime, float]]] = {}
        wanted = set(series_ids)
        for (series_id, ts, issued_at), value in self._values.items():
            if series_id in wanted and window.start <= ts < window.end:
                vintages.setdefault((series_id, ts), []).append((issued_at, value))
        rows = []
        for (series_id, ts), known in sorted(vintages.items()):
            in_time = [vintage for vintage in known if vintage[0] <= ts + known_within]
            if in_time:
                issued_at, value = max(in_time)
            elif earliest_if_unknown:
                issued_at, value = min(known)
            else:
                continue
            rows.append((series_id, ts, value, issued_at))
        return _read_table(rows)

    @override
    def read_vintages(self, series_ids: Sequence[str], window: Window, issued: Window | None = None) -> pa.Table:
        wanted = set(series_ids)
        kept = sorted(
            (key, value)
            for key, value in self._values.items()
            if key[0] in wanted
            and window.start <= key[1] < window.end
            and (issued is None or issued.start <= key[2] < issued.end)
        )
        return _read_table([(series_id, ts, value, issued_at) for (series_id, ts, issued_at), value in kept])

    @override
    def issues(self, series_ids: Sequence[str], issued: Window) -> pa.Table:
        covered: dict[tuple[str, datetime], list[datetime]] = {}
        wanted = set(series_ids)
        for series_id, ts, issued_at in self._values:
            if series_id in wanted and issued.start <= issued_at < issued.end:
                covered.setdefault((series_id, issued_at), []).append(ts)
        rows = [
            {"series_id": s, "issued_at": at, "first_ts": min(ts), "last_ts": max(ts), "values": len(ts)}
            for (s, at), ts in sorted(covered.items())
        ]
        return pa.Table.from_pylist(rows, schema=ISSUE_SCHEMA)

    @override
    def catalogue(self) -> pa.Table:
        held: dict[str, list[tuple[datetime, datetime]]] = {}
        for series_id, ts, issued_at in self._values:
            held.setdefault(series_id, []).append((ts, issued_at))
        rows = []
        for series_id, metadata in sorted(self._series.items()):
            keys = held.get(series_id, [])
            rows.append(
                {
                    "series_id": series_id,
                    **metadata,
                    "first_ts": min((ts for ts, _ in keys), default=None),
                    "last_ts": max((ts for ts, _ in keys), default=None),
                    "last_issued_at": max((at for _, at in keys), default=None),
                    "vintages": len({at for _, at in keys}),
                    "rows": len(keys),
                }
            )
        return pa.Table.from_pylist(rows, schema=CATALOGUE_SCHEMA)

    @override
    def count(self) -> int:
        return len(self._values)

    @override
    def compact(self, keep_after: datetime) -> int:
        stale = [key for key in self._values if key[1] < keep_after]
        for key in stale:
            del self._values[key]
        return len(stale)

    @override
    def series_metadata(self, series_id: str) -> dict[str, str] | None:
        return self._series.get(series_id)

    @override
    def write_forecasts(self, forecasts: pa.Table, batch_id: str | None = None) -> WriteResult:
        batch = check_forecasts(self.name, forecasts)
        rows = batch.to_pylist()
        for row in rows:
            self._forecasts[tuple(row[name] for name in FORECAST_KEY)] = row
        return WriteResult(len(rows), len({(row["family"], row["zone"], row["target"]) for row in rows}))

    @override
    def read_forecasts(self, family: str, zone: str, issued: Window) -> pa.Table:
        rows = [
            row
            for row in self._forecasts.values()
            if row["family"] == family and row["zone"] == zone and issued.start <= row["issued_at"] < issued.end
        ]
        rows.sort(key=lambda row: (row["issued_at"], row["target"], row["ts"]))
        return pa.Table.from_pylist(rows, schema=FORECAST_SCHEMA)


def _read_table(rows: Sequence[tuple[str, datetime, float, datetime]]) -> pa.Table:
    return pa.table(
        {
            "series_id": [row[0] for row in rows],
            "ts": [row[1] for row in rows],
            "value": [row[2] for row in rows],
            "issued_at": [row[3] for row in rows],
        },
        schema=READ_SCHEMA,
    )


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (naive values are taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
