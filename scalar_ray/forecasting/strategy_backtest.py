"""Backtest of the DK day-ahead strategy on the champion ``dk_dayahead`` models, with a plot.

For each delivery day after the champion's training data ended (out of sample), the champion forecasts the day's
price quantiles from what was known before the auction (the day's frame up to the previous day, known covariates as
issued a lead ahead), the strategy bids, and the day is settled at the actual auction and imbalance prices. The same
days are settled for naive bidding (yesterday's prices as the forecast) and perfect foresight (the actual prices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalar_ray.core.areas import area_by_code
from scalar_ray.core.errors import ForecastDataError
from scalar_ray.core.window import Window
from scalar_ray.forecasting.families import FamilySpec
from scalar_ray.forecasting.frames import build_frame, to_autogluon
from scalar_ray.forecasting.registry import ModelRegistry
from scalar_ray.forecasting.strategy import Battery, DayResult, bid_curves, settle_day
from scalar_ray.warehouse.base import Warehouse

__all__ = ["StrategyDay", "StrategyReport", "backtest_strategy", "plot_strategy"]

IMBALANCE_SERIES = "entsoe/A85/{zone}/imbalance_price"


@dataclass
class StrategyDay:
    """One delivery day: the three strategies' results and what the plot needs."""

    day: str
    forecast: DayResult
    naive: DayResult
    perfect: DayResult
    timestamps: pd.DatetimeIndex
    actual: np.ndarray
    quantiles: dict[float, np.ndarray]
    naive_prices: np.ndarray


@dataclass
class StrategyReport:
    """A zone's backtest."""

    zone: str
    version: str
    battery: Battery
    days: list[StrategyDay] = field(default_factory=list)

    def totals(self) -> dict[str, Any]:
        """P&L per strategy, share of the perfect-foresight P&L captured, imbalance volume and cost per MWh."""

        def total(kind: str, attribute: str) -> float:
            return float(sum(getattr(getattr(day, kind), attribute) for day in self.days))

        perfect = total("perfect", "pnl_eur")
        imbalance_mwh = total("forecast", "imbalance_mwh")
        return {
            "zone": self.zone,
            "days": len(self.days),
            "pnl_forecast_eur": round(total("forecast", "pnl_eur"), 2),
            "pnl_naive_eur": round(total("naive", "pnl_eur"), 2),
            "pnl_perfect_eur": round(perfect, 2),
            "captured": round(total("forecast", "pnl_eur") / perfect, 3) if perfect > 0 else None,
            "captured_naive": round(total("naive", "pnl_eur") / perfect, 3) if perfect > 0 else None,
            "traded_mwh": round(total("forecast", "traded_mwh"), 2),
            "imbalance_mwh": round(imbalance_mwh, 2),
            "imbalance_cost_eur_per_mwh": (
                round(total("forecast", "imbalance_cost_eur") / imbalance_mwh, 2) if imbalance_mwh else 0.0
            ),
            "naive_imbalance_mwh": round(total("naive", "imbalance_mwh"), 2),
        }


def backtest_strategy(
    warehouse: Warehouse,
    registry: ModelRegistry,
    spec: FamilySpec,
    zone: str,
    battery: Battery,
    *,
    issue_time: datetime | None = None,
    max_days: int = 7,
) -> StrategyReport:
    """Settle every out-of-sample delivery day (at most ``max_days``, the latest) for forecast, naive and perfect."""
    from autogluon.timeseries import TimeSeriesPredictor  # noqa: PLC0415 - seconds to import

    entry = registry.champion(spec.name, zone)
    if entry is None:
        raise ForecastDataError(spec.name, zone, "no champion model yet (run `scalar-ray train`)")
    predictor = TimeSeriesPredictor.load(str(registry.model_dir(entry)))
    frame = build_frame(warehouse, spec, zone, issue_time or datetime.now(UTC))
    step, step_h = spec.step, spec.step / timedelta(hours=1)
    data = frame.data.set_index("timestamp")
    prices = data["target"]
    imbalance = _imbalance_prices(warehouse, zone, prices.index)
    train_end = pd.Timestamp(entry.data_window["train_end"]).tz_convert(UTC).tz_localize(None)
    report = StrategyReport(zone, entry.version, battery)
    for label, day_start, day_end in _delivery_days(prices.index, zone, train_end)[-max_days:]:
        context = frame.data[frame.data["timestamp"] < day_start]
        ahead = frame.data[(frame.data["timestamp"] >= day_start) & (frame.data["timestamp"] < day_end)]
        known = ahead[["item_id", "timestamp", *entry.known_covariates]]
        predicted = predictor.predict(
            to_autogluon(context[["item_id", "timestamp", "target", *entry.known_covariates, *entry.past_covariates]]),
            known_covariates=to_autogluon(known) if entry.known_covariates else None,
            model=entry.serving_model,
        ).loc[ahead["item_id"].iloc[0]]
        length = len(ahead)
        quantiles = {q: predicted[str(q)].to_numpy()[:length] for q in spec.quantiles}
        actual = ahead["target"].to_numpy()
        timestamps = pd.DatetimeIndex(ahead["timestamp"])
        naive_prices = prices.reindex(timestamps - pd.Timedelta(days=1)).ffill().bfill().to_numpy()
        imbalance_day = imbalance.reindex(timestamps).fillna(pd.Series(actual, index=timestamps)).to_numpy()
        if len(actual) < pd.Timedelta(hours=20) / step:
            continue  # a day the data does not cover
        results = []
        for forecast in (quantiles, dict.fromkeys(spec.quantiles, naive_prices), dict.fromkeys(spec.quantiles, actual)):
            curves, _ = bid_curves(forecast, battery, step_h)
            results.append(settle_day(curves, actual, imbalance_day, battery, step_h))
        report.days.append(
            StrategyDay(
                day=label,
                forecast=results[0],
                naive=results[1],
                perfect=results[2],
                timestamps=timestamps,
                actual=actual,
                quantiles=quantiles,
                naive_prices=naive_prices,
            )
        )
    if not report.days:
        raise ForecastDataError(spec.name, zone, f"no complete delivery day after the training data ({train_end})")
    return report


def plot_strategy(reports: list[StrategyReport], path: Path) -> Path:
    """Forecast quantiles, actual and naive prices, and the cleared bids of each zone's backtest days."""
    import matplotlib as mpl  # noqa: PLC0415 - only where a plot is drawn

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, axes = plt.subplots(len(reports), 1, figsize=(14, 4.5 * len(reports)), squeeze=False)
    for axis, report in zip(axes[:, 0], reports, strict=True):
        timestamps = pd.DatetimeIndex(np.concatenate([day.timestamps for day in report.days]))
        levels = sorted(report.days[0].quantiles)
        low = np.concatenate([day.quantiles[levels[0]] for day in report.days])
        high = np.concatenate([day.quantiles[levels[-1]] for day in report.days])
        median = np.concatenate([day.quantiles[min(levels, key=lambda q: abs(q - 0.5))] for day in report.days])
        axis.fill_between(timestamps, low, high, alpha=0.25, label=f"forecast {levels[0]:.0%} to {levels[-1]:.0%}")
        axis.plot(timestamps, median, label="forecast median")
        axis.plot(timestamps, np.concatenate([day.actual for day in report.days]), color="black", label="actual")
        axis.plot(
            timestamps,
            np.concatenate([day.naive_prices for day in report.days]),
            linestyle=":",
            color="grey",
            label="naive (yesterday)",
        )
        axis.set_ylabel("EUR/MWh")
        bids = axis.twinx()
        cleared = np.concatenate([day.forecast.schedule for day in report.days])
        bids.bar(timestamps, cleared, width=0.01, color=np.where(cleared > 0, "tab:green", "tab:red"), alpha=0.6)
        bids.set_ylabel("cleared bids, MW (+ buy / - sell)")
        totals = report.totals()
        axis.set_title(
            f"{report.zone} day-ahead strategy, champion {report.version}: P&L {totals['pnl_forecast_eur']:,.0f} EUR "
            f"(naive {totals['pnl_naive_eur']:,.0f}, perfect {totals['pnl_perfect_eur']:,.0f}) over "
            f"{totals['days']} day(s)"
        )
        axis.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _delivery_days(
    index: pd.DatetimeIndex, zone: str, after: pd.Timestamp
) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """Local delivery days (local date, naive UTC bounds) starting at or after ``after`` and inside the data."""
    timezone = area_by_code(zone).timezone
    local = index.tz_localize(UTC).tz_convert(timezone)
    days = []
    for day in sorted(set(local.normalize())):
        start = day.tz_convert(UTC).tz_localize(None)
        end = (day + pd.DateOffset(days=1)).tz_convert(UTC).tz_localize(None)  # a calendar day: 23 or 25 h at DST
        if start >= after and end <= index[-1] + (index[1] - index[0]):
            days.append((f"{day:%Y-%m-%d}", start, end))
    return days


def _imbalance_prices(warehouse: Warehouse, zone: str, index: pd.DatetimeIndex) -> pd.Series:
    step = index[1] - index[0]
    window = Window(index[0].tz_localize(UTC).to_pydatetime(), (index[-1] + step).tz_localize(UTC).to_pydatetime())
    table = warehouse.read([IMBALANCE_SERIES.format(zone=zone)], window).to_pandas()
    if table.empty:
        return pd.Series(dtype=float)
    return table.set_index(pd.to_datetime(table["ts"], utc=True).dt.tz_localize(None))["value"]
