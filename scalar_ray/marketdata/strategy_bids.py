"""The battery strategy's bids for one delivery day, against the prices that cleared: from the stored forecasts.

The DK day-ahead strategy (``forecasting.strategy``) bids from the day-ahead price quantiles known when the auction
closes: SDAC's gate is 12:00 CET (Europe/Brussels) the day before delivery. This read takes the newest stored issue of
the price model made by that gate, builds the day's bid curves from its quantiles (no model runs: the forecast is the
one the platform issued), and, when the day's auction prices are known, clears the curves at them and runs the
battery, settling what it could not deliver at the imbalance price (the auction price where none is stored).

A delivery day is a local day of the zone: 92, 96 or 100 quarter-hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.core.areas import area_by_code_or_none
from scalar_ray.core.durations import fixed_duration
from scalar_ray.core.errors import ReadRequestError
from scalar_ray.core.window import Window
from scalar_ray.forecasting.strategy import Battery, BidCurve, DayResult, bid_curves, settle_day
from scalar_ray.marketdata.forecasts import forecast_issue
from scalar_ray.warehouse.base import Warehouse

__all__ = ["GATE", "STRATEGY_BIDS_SCHEMA", "StrategyBids", "strategy_bids"]

GATE = (time(12), ZoneInfo("Europe/Brussels"))  # SDAC gate closure, the day before delivery
PRICE_SERIES = "entsoe/A44/{zone}/price"
IMBALANCE_SERIES = "entsoe/A85/{zone}/imbalance_price"
_LOOKBACK = timedelta(days=7)  # how far before the gate an issue may be and still be used

_TS = pa.timestamp("us", tz="UTC")
STRATEGY_BIDS_SCHEMA = pa.schema(
    [
        pa.field("ts", _TS, nullable=False),
        pa.field("q_low", pa.float64()),  # the forecast's lowest and highest stored quantiles, and its median
        pa.field("q_median", pa.float64()),
        pa.field("q_high", pa.float64()),
        pa.field("plan_mw", pa.float64(), nullable=False),  # the schedule planned on the median (+ buy, - sell)
        pa.field("bid_mw", pa.float64()),  # the curve's quantity (null: no bid in this interval)
        pa.field("limit_price", pa.float64()),  # buy up to / sell from this price, EUR/MWh
        pa.field("cleared_price", pa.float64()),  # the auction price (null until known)
        pa.field("cleared_mw", pa.float64()),  # what cleared at it
        pa.field("delivered_mw", pa.float64()),  # what the battery then took (+) or gave (-)
    ]
)


@dataclass(frozen=True)
class StrategyBids:
    """One delivery day's bids, what cleared, and the forecast issue they came from."""

    zone: str
    day: date
    gate: datetime
    issued_at: datetime
    model_version: str
    battery: Battery
    table: pa.Table  # STRATEGY_BIDS_SCHEMA, one row per interval of the local day
    settled: DayResult | None  # None until every interval's auction price is known


def _local_day(zone: str, day: date) -> Window:
    area = area_by_code_or_none(zone)
    if area is None:
        raise ReadRequestError("zone", f"unknown zone {zone[:64]!r}")
    start = datetime.combine(day, time(), area.zone)
    return Window(start.astimezone(UTC), datetime.combine(day + timedelta(days=1), time(), area.zone).astimezone(UTC))


def _bid(curve: BidCurve) -> tuple[float | None, float | None]:
    """The curve's traded quantity and the price where it switches (None, None for an interval without a bid)."""
    if len(curve.points) < 2:  # noqa: PLR2004 - a bid is a step: one point is "nothing at any price"
        return None, None
    (_, first), (price, second) = curve.points[0], curve.points[1]
    return (first if first else second), price


def _prices_at(warehouse: Warehouse, series_id: str, window: Window, ts: pa.Array) -> np.ndarray:
    """The stored price of the interval holding each ``ts`` (an hourly price covers its four quarter-hours)."""
    rows = warehouse.read([series_id], window).sort_by("ts")
    known = np.full(len(ts), np.nan)
    if rows.num_rows == 0:
        return known
    metadata = warehouse.series_metadata(series_id) or {}
    covers_us = fixed_duration(metadata.get("resolution") or "PT15M") // timedelta(microseconds=1)
    starts = rows["ts"].cast(pa.int64()).to_numpy()
    wanted = ts.cast(pa.int64()).to_numpy()
    position = np.searchsorted(starts, wanted, side="right") - 1
    # Within the price's own interval only: a missing hour is unknown, not the hour before carried on.
    found = (position >= 0) & (wanted < starts[np.maximum(position, 0)] + covers_us)
    known[found] = rows["value"].to_numpy()[position[found]]
    return known


def strategy_bids(
    warehouse: Warehouse, zone: str, day: date, battery: Battery, *, family: str = "dk_dayahead"
) -> StrategyBids:
    """The bids for ``day`` in ``zone`` from ``family``'s newest issue by the gate, cleared where prices are known."""
    window = _local_day(zone, day)
    gate = datetime.combine(day - timedelta(days=1), GATE[0], GATE[1]).astimezone(UTC)
    price_series = PRICE_SERIES.format(zone=zone)
    issue = forecast_issue(warehouse, family, zone, as_of=gate, lookback=_LOOKBACK)
    in_day = pc.and_(
        pc.equal(issue["target"], price_series),
        pc.and_(pc.greater_equal(issue["ts"], pa.scalar(window.start)), pc.less(issue["ts"], pa.scalar(window.end))),
    )
    rows = issue.filter(in_day).sort_by("ts")
    if rows.num_rows == 0:
        raise ReadRequestError(
            "day", f"no {family}/{zone} forecast of {price_series} issued by the gate ({gate:%Y-%m-%d %H:%M} UTC)"
        )
    levels = [name for name in rows.schema.names if name.startswith("q") and rows[name].null_count == 0]
    quantiles = {int(name[1:]) / 100: rows[name].to_numpy() for name in levels}
    if "q50" not in levels:  # the strategy plans on the median; the mean stands in when no q50 was stored
        quantiles[0.5] = rows["mean"].to_numpy()
    step = np.diff(rows["ts"].cast(pa.int64()).to_numpy())
    step_h = float(np.median(step)) / 3.6e9 if len(step) else 0.25
    curves, plan = bid_curves(quantiles, battery, step_h)
    bids = [_bid(curve) for curve in curves]

    prices = _prices_at(warehouse, price_series, window, rows["ts"])
    settled = None
    cleared = delivered = np.full(rows.num_rows, np.nan)
    if not np.isnan(prices).any():
        imbalance = _prices_at(warehouse, IMBALANCE_SERIES.format(zone=zone), window, rows["ts"])
        imbalance = np.where(np.isnan(imbalance), prices, imbalance)
        settled = settle_day(curves, prices, imbalance, battery, step_h)
        cleared, delivered = settled.schedule, settled.delivered

    def column(values: np.ndarray) -> pa.Array:
        return pa.array(values, pa.float64(), from_pandas=True)  # NaN (unknown) becomes null

    ordered = sorted(quantiles)
    table = pa.table(
        {
            "ts": rows["ts"].cast(_TS),
            "q_low": column(quantiles[ordered[0]]),
            "q_median": column(quantiles[0.5]),
            "q_high": column(quantiles[ordered[-1]]),
            "plan_mw": column(plan),
            "bid_mw": pa.array([quantity for quantity, _ in bids], pa.float64()),
            "limit_price": pa.array([price for _, price in bids], pa.float64()),
            "cleared_price": column(prices),
            "cleared_mw": column(cleared),
            "delivered_mw": column(delivered),
        },
        schema=STRATEGY_BIDS_SCHEMA,
    )
    return StrategyBids(
        zone=zone,
        day=day,
        gate=gate,
        issued_at=rows["issued_at"][0].as_py(),
        model_version=str(rows["model_version"][0].as_py()),
        battery=battery,
        table=table,
        settled=settled,
    )
