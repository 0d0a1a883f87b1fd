"""The platform's own forecasts as market data: issues with their model versions, one issue, and the staircase.

Forecasts live in their own table (``core.forecasts``: mean and quantiles per target, issue and interval, with the
model version that issued them); these reads give them the shapes the series reads give observations.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.core.errors import ReadRequestError
from scalar_ray.core.forecasts import FORECAST_SCHEMA
from scalar_ray.core.window import Window
from scalar_ray.warehouse.base import Warehouse

__all__ = ["FORECAST_ISSUE_SCHEMA", "forecast_issue", "forecast_issues", "forecast_staircase"]

_MICROSECOND = timedelta(microseconds=1)

FORECAST_ISSUE_SCHEMA = pa.schema(
    [
        pa.field("issued_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("target", pa.string(), nullable=False),
        pa.field("first_ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("last_ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("values", pa.int64(), nullable=False),
    ]
)


def forecast_issues(warehouse: Warehouse, family: str, zone: str, issued: Window) -> pa.Table:
    """Each issue of one model in ``issued``: when, by which version, for which target, over which intervals."""
    rows = warehouse.read_forecasts(family, zone, issued)
    if rows.num_rows == 0:
        return FORECAST_ISSUE_SCHEMA.empty_table()
    grouped = rows.group_by(["issued_at", "model_version", "target"], use_threads=False).aggregate(
        [("ts", "min"), ("ts", "max"), ("ts", "count")]
    )
    named = grouped.rename_columns(["issued_at", "model_version", "target", "first_ts", "last_ts", "values"])
    return named.sort_by([("issued_at", "ascending"), ("target", "ascending")]).cast(FORECAST_ISSUE_SCHEMA)


def forecast_issue(
    warehouse: Warehouse, family: str, zone: str, *, issued_at: datetime | None = None,
    as_of: datetime | None = None, lookback: timedelta = timedelta(days=7),
) -> pa.Table:  # fmt: skip
    """One issue (``FORECAST_SCHEMA``): exactly ``issued_at``, or the newest at or before ``as_of``."""
    if (issued_at is None) == (as_of is None):
        raise ReadRequestError("issued_at", "give either issued_at (one issue) or as_of (the newest then)")
    if issued_at is not None:
        return warehouse.read_forecasts(family, zone, Window(issued_at, issued_at + _MICROSECOND))
    assert as_of is not None  # noqa: S101 - one of the two, checked above
    return warehouse.latest_forecast(family, zone, as_of, lookback)


def forecast_staircase(
    warehouse: Warehouse, family: str, zone: str, window: Window, lead: timedelta, horizon: timedelta
) -> pa.Table:
    """Per target and interval in ``window``, the newest issue made at least ``lead`` before the interval.

    ``horizon`` bounds how far ahead the model forecasts (issues older than ``window.start - horizon`` cannot reach
    the window, so they are not read). Rows keep ``FORECAST_SCHEMA``: model version, mean and quantiles.
    """
    if lead < timedelta(0):
        raise ReadRequestError("lead", "a lead time is zero or positive (how long before delivery)")
    issued = Window(window.start - horizon - lead, window.end - lead + _MICROSECOND)
    rows = warehouse.read_forecasts(family, zone, issued)
    lead_us = pa.scalar(int(lead / _MICROSECOND), pa.int64())
    ts_us, issued_us = rows["ts"].cast(pa.int64()), rows["issued_at"].cast(pa.int64())
    usable = pc.and_(
        pc.and_(pc.greater_equal(rows["ts"], pa.scalar(window.start)), pc.less(rows["ts"], pa.scalar(window.end))),
        pc.less_equal(issued_us, pc.subtract(ts_us, lead_us)),
    )
    candidates = rows.filter(usable)
    if candidates.num_rows == 0:
        return FORECAST_SCHEMA.empty_table()
    newest = candidates.group_by(["target", "ts"], use_threads=False).aggregate([("issued_at", "max")])
    chosen = candidates.join(newest, ["target", "ts"])
    chosen = chosen.filter(pc.equal(pc.field("issued_at"), pc.field("issued_at_max"))).select(FORECAST_SCHEMA.names)
    return chosen.sort_by([("target", "ascending"), ("ts", "ascending")]).cast(FORECAST_SCHEMA)
