"""The DK day-ahead strategy: bid curves for a battery from day-ahead price quantile forecasts, and their backtest.

For each delivery day the strategy

1. plans a charge/discharge schedule that maximises the profit against the median forecast within the battery's
   limits (dynamic programming over the state of charge, one step per market time unit);
2. turns the plan into one price-quantity bid curve per market time unit (quantity in MW, positive = buy, the
   SDAC convention): a planned charge is a buy up to a limit price — the value the stored energy is expected to
   sell for later, capped by the interval's upper quantile — and a planned discharge a sell from a floor price —
   what the energy cost, raised to the interval's lower quantile. Uncertain intervals therefore bid more cautiously;
3. is settled against the actual auction prices: the curve decides what clears; what the battery cannot deliver
   (empty) or absorb (full) after the auction is an imbalance, settled at the actual imbalance price.

The backtest runs the same machinery with naive bidding (yesterday's prices as a point forecast) and with perfect
foresight (the actual prices), and reports P&L, imbalance volume and cost per MWh of imbalance. Pure functions over
numpy arrays; the job that reads forecasts from the registry and draws the plot is ``jobs/strategy.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "PRICE_CEILING",
    "PRICE_FLOOR",
    "Battery",
    "BidCurve",
    "DayResult",
    "bid_curves",
    "plan_schedule",
    "settle_day",
]

# SDAC's harmonised price limits (EUR/MWh): every curve spans them.
PRICE_FLOOR, PRICE_CEILING = -500.0, 4000.0


class Battery(BaseModel):
    """The asset: power and energy limits, round-trip efficiency, the state of charge each day starts and ends at."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    power_mw: float = Field(10.0, gt=0, description="Charge and discharge power limit.")
    energy_mwh: float = Field(20.0, gt=0, description="Usable capacity.")
    efficiency: float = Field(0.9, gt=0, le=1, description="Round trip: energy sold per unit bought.")
    start_soc: float = Field(0.5, ge=0, le=1, description="State of charge at the start and end of each day.")

    @model_validator(mode="after")
    def _one_step_fits(self) -> Self:
        if self.energy_mwh < self.power_mw * 0.25:
            raise ValueError("the battery must hold at least one quarter-hour at full power")
        return self

    def levels(self, step_h: float) -> int:
        """State-of-charge levels in units of one step at full power."""
        return int(self.energy_mwh // (self.power_mw * step_h))


@dataclass(frozen=True)
class BidCurve:
    """One market time unit's stepwise curve: (price, quantity MW) points, quantity positive = buy."""

    points: tuple[tuple[float, float], ...]

    def quantity_at(self, price: float) -> float:
        """What clears at ``price``: the quantity of the last point at or below it (a step curve)."""
        cleared = self.points[0][1]
        for point_price, quantity in self.points:
            if price >= point_price:
                cleared = quantity
        return cleared


@dataclass
class DayResult:
    """One delivery day's settlement."""

    pnl_eur: float
    dayahead_eur: float
    imbalance_eur: float
    imbalance_mwh: float
    imbalance_cost_eur: float
    traded_mwh: float
    schedule: np.ndarray = field(repr=False)  # MW per interval after the auction, positive = buy
    delivered: np.ndarray = field(repr=False)  # MW the battery actually took (+) or gave (-)


def plan_schedule(prices: np.ndarray, battery: Battery, step_h: float) -> np.ndarray:
    """The profit-maximising schedule against ``prices`` (MW at the grid per interval, + charge, - discharge).

    Dynamic programming over state-of-charge levels: charging a step buys ``power x step`` MWh and stores it;
    discharging a step takes that from storage and sells it times the efficiency (the loss is taken on the way
    out); the day ends where it started.
    """
    levels = battery.levels(step_h)
    start = round(battery.start_soc * levels)
    energy = battery.power_mw * step_h
    count = len(prices)
    value = np.full((count + 1, levels + 1), -np.inf)
    value[count, start] = 0.0
    choice = np.zeros((count, levels + 1), dtype=int)
    for t in range(count - 1, -1, -1):
        for level in range(levels + 1):
            best, best_move = -np.inf, 0
            for move in (0, 1, -1):
                following = level + move
                if not 0 <= following <= levels or value[t + 1, following] == -np.inf:
                    continue
                cash = -prices[t] * energy if move == 1 else prices[t] * energy * battery.efficiency if move else 0.0
                if cash + value[t + 1, following] > best + 1e-9:
                    best, best_move = cash + value[t + 1, following], move
            value[t, level], choice[t, level] = best, best_move
    schedule, level = np.zeros(count), start
    for t in range(count):
        move = choice[t, level]
        schedule[t] = battery.power_mw * (battery.efficiency if move < 0 else 1.0) * move
        level += move
    return schedule


def bid_curves(
    quantiles: Mapping[float, np.ndarray], battery: Battery, step_h: float
) -> tuple[list[BidCurve], np.ndarray]:
    """One bid curve per interval from price quantile forecasts, and the plan behind them (on the median)."""
    levels = sorted(quantiles)
    median = quantiles[min(levels, key=lambda q: abs(q - 0.5))]
    low, high = quantiles[levels[0]], quantiles[levels[-1]]
    plan = plan_schedule(median, battery, step_h)
    charging, discharging = plan > 0, plan < 0
    # What a stored MWh is expected to earn, and what it cost: the limits that keep each trade profitable.
    sell_value = float(np.mean(median[discharging])) * battery.efficiency if discharging.any() else PRICE_FLOOR
    buy_cost = float(np.mean(median[charging])) / battery.efficiency if charging.any() else PRICE_CEILING
    curves = []
    power = battery.power_mw
    for t in range(len(median)):
        if charging[t]:
            limit = float(min(high[t], sell_value))
            curves.append(BidCurve(((PRICE_FLOOR, power), (np.nextafter(limit, PRICE_CEILING), 0.0))))
        elif discharging[t]:
            limit = float(max(low[t], buy_cost))
            curves.append(BidCurve(((PRICE_FLOOR, 0.0), (limit, -power * battery.efficiency))))
        else:
            curves.append(BidCurve(((PRICE_FLOOR, 0.0),)))
    return curves, plan


def settle_day(
    curves: Sequence[BidCurve],
    prices: np.ndarray,
    imbalance_prices: np.ndarray,
    battery: Battery,
    step_h: float,
) -> DayResult:
    """Clear the curves at the actual prices, run the battery, settle what it could not do at imbalance prices."""
    cleared = np.array([curve.quantity_at(float(price)) for curve, price in zip(curves, prices, strict=True)])
    soc = battery.start_soc * battery.energy_mwh
    delivered = np.zeros(len(cleared))
    for t, quantity in enumerate(cleared):
        energy = quantity * step_h
        if energy > 0:  # bought: store what fits
            stored = min(energy, battery.energy_mwh - soc)
            soc += stored
            delivered[t] = stored / step_h
        elif energy < 0:  # sold: deliver what is there (the efficiency loss comes out of storage)
            available = soc * battery.efficiency
            given = min(-energy, available)
            soc -= given / battery.efficiency
            delivered[t] = -given / step_h
    # MWh taken beyond what was bought (positive: short, bought back at the imbalance price; negative: long, sold).
    deviation = (delivered - cleared) * step_h
    dayahead = float(-np.sum(cleared * prices) * step_h)
    imbalance = float(-np.sum(deviation * imbalance_prices))
    # Against settling the same volume at the auction price: what the deviations really cost.
    imbalance_cost = float(np.sum(deviation * (imbalance_prices - prices)))
    return DayResult(
        pnl_eur=dayahead + imbalance,
        dayahead_eur=dayahead,
        imbalance_eur=imbalance,
        imbalance_mwh=float(np.sum(np.abs(deviation))),
        imbalance_cost_eur=imbalance_cost,
        traded_mwh=float(np.sum(np.abs(cleared)) * step_h),
        schedule=cleared,
        delivered=delivered,
    )
