"""Instances: a series' issues, one issue, and the views across issues that forecast users live in.

- ``issues``: the issue times of a series with the intervals each covers;
- ``instance``: the values of exactly one issue;
- ``relative``: per local delivery day, the values of the newest issue made ``days_ahead`` days before that day, at
  or before a local ``time_of_day`` (Energy Quantified's ``relative``; one issue per day, stitched);
- ``staircase``: per interval, the newest value issued at least ``lead`` before it (tshistory's staircase);
- ``absolute``: how the value of one delivery interval evolved across issues, indexed by issue time;
- ``revisions``: what changed between two knowledge times.

All take and give UTC; ``series.in_zone`` renders another zone. Every answer is a long Arrow table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.core.errors import ReadRequestError
from scalar_ray.core.window import Window
from scalar_ray.marketdata.calendar import Frequency, bucket_edges, bucket_index
from scalar_ray.marketdata.series import EPOCH
from scalar_ray.warehouse.base import READ_SCHEMA, Warehouse

__all__ = ["REVISION_SCHEMA", "absolute", "instance", "issues", "relative", "revisions", "staircase"]

_MICROSECOND = timedelta(microseconds=1)
_FAR_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)
_DAY = Frequency.parse("P1D")
_MAX_DAYS_AHEAD = 366

REVISION_SCHEMA = pa.schema(
    [
        pa.field("series_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("before", pa.float64()),
        pa.field("after", pa.float64()),
        pa.field("issued_before", pa.timestamp("us", tz="UTC")),
        pa.field("issued_after", pa.timestamp("us", tz="UTC")),
    ]
)


def issues(warehouse: Warehouse, series_ids: Sequence[str], issued: Window | None = None) -> pa.Table:
    """The issue times of the series (within ``issued``, default all), each with the intervals it covers."""
    return warehouse.issues(list(series_ids), issued or Window(EPOCH, _FAR_FUTURE))


def instance(warehouse: Warehouse, series_id: str, issued_at: datetime, window: Window | None = None) -> pa.Table:
    """The values issued at exactly ``issued_at`` (over ``window``, default all it covers)."""
    exactly = Window(issued_at, issued_at + _MICROSECOND)
    if window is None:
        covered = warehouse.issues([series_id], exactly)
        if covered.num_rows == 0:
            return READ_SCHEMA.empty_table()
        window = Window(covered["first_ts"][0].as_py(), covered["last_ts"][0].as_py() + _MICROSECOND)
    return warehouse.read_vintages([series_id], window, exactly)


def staircase(warehouse: Warehouse, series_ids: Sequence[str], window: Window, lead: timedelta) -> pa.Table:
    """Per interval, the newest value issued at least ``lead`` before the interval starts."""
    if lead < timedelta(0):
        raise ReadRequestError("lead", "a lead time is zero or positive (how long before delivery)")
    return warehouse.read_known(list(series_ids), window, known_within=-lead)


def relative(
    warehouse: Warehouse,
    series_ids: Sequence[str],
    window: Window,
    days_ahead: int,
    time_of_day: time,
    zone: ZoneInfo,
) -> pa.Table:
    """Per local delivery day of ``window``, the newest issue made by ``time_of_day`` local, ``days_ahead`` before.

    ``days_ahead`` 1 with 12:00 is "the day-ahead forecast as it stood at noon the day before"; 0 is intraday. A day
    no issue qualifies for is absent: a missed run shows as a gap, never as a later issue.
    """
    if not 0 <= days_ahead <= _MAX_DAYS_AHEAD:
        raise ReadRequestError("days_ahead", f"between 0 and {_MAX_DAYS_AHEAD}")
    edges = bucket_edges(window, _DAY, zone)
    # Each local day's cut-off: days_ahead local days before it, at time_of_day local (DST-correct wall time).
    cutoffs = np.array(
        [
            int(
                datetime.combine(edge.astimezone(zone).date() - timedelta(days=days_ahead), time_of_day, zone)
                .astimezone(UTC)
                .timestamp()
                * 1_000_000
            )
            for edge in edges[:-1]
        ],
        dtype=np.int64,
    )
    last_cutoff = datetime.fromtimestamp(int(cutoffs.max()) / 1_000_000, UTC)
    vintages = warehouse.read_vintages(list(series_ids), window, Window(EPOCH, last_cutoff + _MICROSECOND))
    if vintages.num_rows == 0:
        return vintages
    day = bucket_index(vintages["ts"], edges)
    issued = vintages["issued_at"].cast(pa.int64()).to_numpy(zero_copy_only=False)
    in_time = issued <= cutoffs[day]
    candidates = vintages.filter(pa.array(in_time)).append_column("day", pa.array(day[in_time], pa.int64()))
    if candidates.num_rows == 0:
        return READ_SCHEMA.empty_table()
    chosen = candidates.group_by(["series_id", "day"], use_threads=False).aggregate([("issued_at", "max")])
    picked = candidates.join(chosen, ["series_id", "day"]).filter(
        pc.equal(pc.field("issued_at"), pc.field("issued_at_max"))
    )
    return picked.select(READ_SCHEMA.names).sort_by([("series_id", "ascending"), ("ts", "ascending")]).cast(READ_SCHEMA)


def absolute(warehouse: Warehouse, series_id: str, delivery: datetime, issued: Window | None = None) -> pa.Table:
    """Every issue's value for the interval starting at ``delivery``, oldest issue first."""
    return warehouse.read_vintages([series_id], Window(delivery, delivery + _MICROSECOND), issued)


def revisions(
    warehouse: Warehouse, series_ids: Sequence[str], window: Window, since: datetime, until: datetime
) -> pa.Table:
    """The intervals whose value known at ``until`` differs from the one known at ``since`` (or is new there)."""
    if until <= since:
        raise ReadRequestError("until", "the later knowledge time must come after the earlier one")
    before = warehouse.read(list(series_ids), window, since)
    after = warehouse.read(list(series_ids), window, until)
    earlier = before.rename_columns(["series_id", "ts", "before", "issued_before"])
    joined = after.rename_columns(["series_id", "ts", "after", "issued_after"]).join(
        earlier, ["series_id", "ts"], join_type="left outer"
    )
    changed = joined.filter(
        pc.or_kleene(pc.is_null(pc.field("before")), pc.not_equal(pc.field("before"), pc.field("after")))
    )
    return (
        changed.select(REVISION_SCHEMA.names)
        .sort_by([("series_id", "ascending"), ("ts", "ascending")])
        .cast(REVISION_SCHEMA)
    )
