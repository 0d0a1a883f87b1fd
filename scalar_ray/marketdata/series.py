"""Series reads: values over ``[start, end)`` as known at a moment, in a time zone and frequency.

The warehouse keeps every vintage; a read picks one per interval (``latest`` or ``first`` known at ``as_of``) or
keeps them ``all``. With a ``frequency``, values are aggregated into local buckets (``calendar``) after the hour
filter, and every bucket says how many native intervals it holds (``count``) against how many it should
(``expected``): a Copenhagen day of quarter-hours expects 92, 96 or 100. Buckets with nothing in them are kept
(value null, count 0), so a gap is seen, not skipped. Times leave in the asked zone; inside, all is UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.core.durations import Duration
from scalar_ray.core.errors import ReadRequestError, UnknownSeriesError
from scalar_ray.core.window import Window
from scalar_ray.marketdata.calendar import HOURS, Frequency, HoursDefinition, bucket_edges, bucket_index, in_hours
from scalar_ray.marketdata.units import Aggregated, Aggregation, aggregated
from scalar_ray.warehouse.base import Warehouse

__all__ = [
    "MAX_POINTS",
    "MAX_SERIES",
    "SeriesFrame",
    "SeriesInfo",
    "SeriesRequest",
    "Vintage",
    "in_zone",
    "read_series",
    "time_zone",
]

Vintage = Literal["latest", "first", "all"]
MAX_SERIES = 200
MAX_POINTS = 10_000_000  # native intervals x series in one read: about 1 GB of Arrow at most
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class SeriesRequest:
    """What a series read asks for; validated by ``read_series``."""

    series_ids: tuple[str, ...]
    window: Window
    as_of: datetime | None = None
    vintage: Vintage = "latest"
    time_zone: str = "UTC"
    frequency: str | None = None
    aggregation: Aggregation | None = None
    hours: str = "base"


@dataclass(frozen=True)
class SeriesInfo:
    """One series of an answer: its native resolution and the unit and aggregation of its values there."""

    series_id: str
    resolution: str
    unit: str
    aggregation: Aggregation | None


@dataclass(frozen=True)
class SeriesFrame:
    """A read's answer: a long table and what it means.

    ``table`` columns: ``series_id``, ``ts`` (interval or bucket start, in ``time_zone``), ``value``; then
    ``issued_at`` (native reads) or ``count`` and ``expected`` (aggregated reads).
    """

    table: pa.Table
    series: tuple[SeriesInfo, ...]
    time_zone: str
    frequency: str | None
    hours: HoursDefinition
    as_of: datetime | None = None
    vintage: Vintage = "latest"

    def wide(self) -> pa.Table:
        """One row per time, one value column per series (named by its id), in the order asked."""
        return wide_table(self.table, [info.series_id for info in self.series])


def wide_table(table: pa.Table, series_ids: Sequence[str]) -> pa.Table:
    """Pivot a long (series_id, ts, value) table to one value column per series over the sorted times."""
    times = pc.unique(table["ts"].combine_chunks()).sort()
    stamps = times.cast(pa.int64()).to_numpy(zero_copy_only=False)
    row = np.searchsorted(stamps, table["ts"].cast(pa.int64()).to_numpy(zero_copy_only=False))
    column_of = {series_id: index for index, series_id in enumerate(dict.fromkeys(series_ids))}
    found = pc.index_in(table["series_id"], value_set=pa.array(list(column_of), pa.string()))
    column = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    values = table["value"].to_numpy(zero_copy_only=False).astype(float)
    asked = column >= 0
    grid = np.full((len(column_of), len(stamps)), np.nan)
    grid[column[asked], row[asked]] = values[asked]  # vectorised: a year of 50 series in milliseconds
    columns: dict[str, pa.Array] = {"ts": times}
    for series_id, index in column_of.items():
        columns[series_id] = pa.array(grid[index], pa.float64(), mask=np.isnan(grid[index]))
    return pa.table(columns)


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` or ``ReadRequestError``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        problem = f"'{name[:64]}' is not an IANA time zone (Europe/Copenhagen, UTC …)"
        raise ReadRequestError("time_zone", problem) from exc


def read_series(warehouse: Warehouse, request: SeriesRequest) -> SeriesFrame:
    """Answer ``request`` from ``warehouse``; ``ReadRequestError`` when it cannot be answered as asked."""
    zone = time_zone(request.time_zone)
    hours = HOURS.get(request.hours)
    if hours is None:
        raise ReadRequestError("hours", f"'{request.hours}' is not one of {', '.join(HOURS)}")
    frequency = Frequency.parse(request.frequency) if request.frequency else None
    if frequency is None and (request.aggregation is not None or hours.name != "base"):
        raise ReadRequestError("frequency", "an aggregation or an hour filter needs an output frequency")
    if frequency is not None and request.vintage == "all":
        raise ReadRequestError("vintage", "every vintage cannot be aggregated: ask latest or first with a frequency")
    metadata = _metadata(warehouse, request.series_ids)
    steps = {series_id: _native_step(meta["resolution"]) for series_id, meta in metadata.items()}
    _check_size(request, steps)
    rows = _vintages(warehouse, request)
    infos = []
    if frequency is None:
        for series_id, meta in metadata.items():
            infos.append(SeriesInfo(series_id, meta["resolution"], meta["unit"], None))
        table = in_zone(rows, zone, ("ts", "issued_at"))
        return SeriesFrame(table, tuple(infos), zone.key, None, hours, request.as_of, request.vintage)
    edges = bucket_edges(request.window, frequency, zone)
    pieces = []
    for series_id, meta in metadata.items():
        how = aggregated(meta["unit"], request.aggregation, steps[series_id])
        infos.append(SeriesInfo(series_id, meta["resolution"], how.unit, how.aggregation))
        own = rows.filter(pc.equal(rows["series_id"], series_id))
        pieces.append(_aggregate(series_id, own, request.window, edges, steps[series_id], how, hours, zone))
    table = pa.concat_tables(pieces) if pieces else _AGGREGATED.empty_table()
    frame_table = in_zone(table, zone, ("ts",))
    return SeriesFrame(frame_table, tuple(infos), zone.key, frequency.text, hours, request.as_of, request.vintage)


def _metadata(warehouse: Warehouse, series_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    if not series_ids:
        raise ReadRequestError("series", "name at least one series id")
    if len(series_ids) > MAX_SERIES:
        raise ReadRequestError("series", f"{len(series_ids)} series at once; at most {MAX_SERIES}")
    found = {series_id: warehouse.series_metadata(series_id) for series_id in dict.fromkeys(series_ids)}
    unknown = [series_id for series_id, meta in found.items() if meta is None]
    if unknown:
        raise UnknownSeriesError(unknown)
    return {series_id: meta for series_id, meta in found.items() if meta is not None}


def _native_step(resolution: str) -> timedelta | None:
    try:
        return Duration.parse(resolution).clock_step()
    except ValueError:
        return None  # a resolution the catalogue cannot read: treated like a calendar one (no expected grid)


def _check_size(request: SeriesRequest, steps: dict[str, timedelta | None]) -> None:
    length = request.window.end - request.window.start
    points = sum(length / (step or timedelta(days=1)) for step in steps.values())
    if points > MAX_POINTS:
        raise ReadRequestError(
            "window",
            f"about {points:,.0f} values at once, more than {MAX_POINTS:,}: narrow the window, ask fewer series or "
            "read by pages",
        )


def _vintages(warehouse: Warehouse, request: SeriesRequest) -> pa.Table:
    ids = list(dict.fromkeys(request.series_ids))
    if request.vintage == "latest":
        return warehouse.read(ids, request.window, request.as_of)
    known = Window(EPOCH, request.as_of + _MICROSECOND) if request.as_of is not None else None
    every = warehouse.read_vintages(ids, request.window, known)
    if request.vintage == "all":
        return every
    if request.vintage == "first":
        return first_per_interval(every)
    raise ReadRequestError("vintage", f"'{request.vintage}' is not one of latest, first, all")


def first_per_interval(vintages: pa.Table) -> pa.Table:
    """The first row of each (series, interval) in a table sorted by series, interval and issue time."""
    if vintages.num_rows == 0:
        return vintages
    series = vintages["series_id"].to_numpy(zero_copy_only=False)
    stamps = vintages["ts"].cast(pa.int64()).to_numpy(zero_copy_only=False)
    first = np.ones(vintages.num_rows, dtype=bool)
    first[1:] = (series[1:] != series[:-1]) | (stamps[1:] != stamps[:-1])
    return vintages.filter(pa.array(first))


_AGGREGATED = pa.schema(
    [
        pa.field("series_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("count", pa.int64(), nullable=False),
        pa.field("expected", pa.int64()),
    ]
)


def _aggregate(
    series_id: str,
    rows: pa.Table,
    window: Window,
    edges: list[datetime],
    step: timedelta | None,
    how: Aggregated,
    hours: HoursDefinition,
    zone: ZoneInfo,
) -> pa.Table:
    kept = rows.filter(in_hours(rows["ts"], hours, zone)) if rows.num_rows else rows
    buckets = len(edges) - 1
    index = bucket_index(kept["ts"], edges)
    values = kept["value"].to_numpy(zero_copy_only=False).astype(float)
    if how.factor_per_hour and step is not None:
        values = values * (step / timedelta(hours=1))
    count = np.bincount(index, minlength=buckets)[:buckets]
    result = np.full(buckets, np.nan)
    filled = count > 0
    if how.aggregation in ("mean", "sum"):
        totals = np.bincount(index, weights=values, minlength=buckets)[:buckets]
        result[filled] = totals[filled] / count[filled] if how.aggregation == "mean" else totals[filled]
    elif how.aggregation in ("min", "max"):
        reduce = np.fmin if how.aggregation == "min" else np.fmax
        start = np.inf if how.aggregation == "min" else -np.inf
        extreme = np.full(buckets, start)
        reduce.at(extreme, index, values)
        result[filled] = extreme[filled]
    else:  # first or last, by interval start (rows come sorted by interval)
        order = np.arange(len(index))
        if how.aggregation == "first":
            pick = np.full(buckets, len(index))
            np.minimum.at(pick, index, order)
        else:
            pick = np.full(buckets, -1)
            np.maximum.at(pick, index, order)
        result[filled] = values[pick[filled]]
    expected = _expected(window, edges, step, hours, zone)
    # Buckets the series should fill are kept even when empty: a gap is seen, not skipped.
    present = filled | (expected > 0) if expected is not None else np.ones(buckets, dtype=bool)
    starts = np.array([int(edge.timestamp() * 1_000_000) for edge in edges[:-1]], dtype=np.int64)
    shown = int(present.sum())
    kept_expected = pa.array(expected[present], pa.int64()) if expected is not None else pa.nulls(shown, pa.int64())
    return pa.table(
        {
            "series_id": pa.array([series_id] * shown, pa.string()),
            "ts": pa.array(starts[present], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "value": pa.array(result[present], pa.float64(), mask=~filled[present]),
            "count": pa.array(count[present], pa.int64()),
            "expected": kept_expected,
        },
        schema=_AGGREGATED,
    )


def _expected(
    window: Window, edges: list[datetime], step: timedelta | None, hours: HoursDefinition, zone: ZoneInfo
) -> np.ndarray | None:
    """Native intervals per bucket inside the window that pass the hour filter (None: no fixed native step)."""
    if step is None:
        return None
    first = window.start + (-(window.start - EPOCH)) % step  # the first native interval start in the window
    count = int((window.end - first) / step) if window.end > first else 0
    micros = int(step / _MICROSECOND)
    grid = pa.array(int(first.timestamp() * 1_000_000) + micros * np.arange(count, dtype=np.int64), pa.int64())
    grid = grid.cast(pa.timestamp("us", tz="UTC"))
    grid = grid.filter(in_hours(grid, hours, zone))
    buckets = len(edges) - 1
    return np.bincount(bucket_index(grid, edges), minlength=buckets)[:buckets].astype(np.int64)


def in_zone(table: pa.Table, zone: ZoneInfo, columns: tuple[str, ...] | None = None) -> pa.Table:
    """``table`` with ``columns`` (default: every timestamp) typed in ``zone``: the same instants, Arrow keeps UTC."""
    for position, field_ in enumerate(table.schema):
        if pa.types.is_timestamp(field_.type) and (columns is None or field_.name in columns):
            typed = table[field_.name].cast(pa.timestamp("us", tz=zone.key))
            table = table.set_column(position, pa.field(field_.name, typed.type, field_.nullable), typed)
    return table
