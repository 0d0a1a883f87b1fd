"""The DK day-ahead battery strategy: plans within limits, curves that clear as planned, honest settlement."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from scalar_ray.forecasting.strategy import (
    PRICE_CEILING,
    PRICE_FLOOR,
    Battery,
    BidCurve,
    bid_curves,
    plan_schedule,
    settle_day,
)

STEP_H = 0.25
BATTERY = Battery(power_mw=10, energy_mwh=10, efficiency=0.9, start_soc=0.0)
# Cheap night, expensive evening: 96 quarter-hours.
PRICES = np.array([20.0] * 32 + [50.0] * 40 + [120.0] * 16 + [60.0] * 8)
NO_IMBALANCE = PRICES.copy()


def test_the_plan_buys_cheap_sells_dear_and_keeps_the_limits() -> None:
    plan = plan_schedule(PRICES, BATTERY, STEP_H)

    assert np.all(np.abs(plan) <= BATTERY.power_mw + 1e-9)
    charged = plan[plan > 0].sum() * STEP_H
    assert charged == pytest.approx(BATTERY.energy_mwh)  # fills once (4 steps of 2.5 MWh)
    assert np.all(PRICES[plan > 0] == 20.0)
    assert np.all(PRICES[plan < 0] == 120.0)
    # Energy never goes below zero or above the capacity, and the day ends where it began.
    stored = np.cumsum(np.where(plan > 0, plan, plan / BATTERY.efficiency)) * STEP_H
    assert stored.min() >= -1e-9
    assert stored.max() <= BATTERY.energy_mwh + 1e-9
    assert stored[-1] == pytest.approx(0.0)


def test_a_flat_price_is_not_worth_a_cycle() -> None:
    assert not plan_schedule(np.full(96, 50.0), BATTERY, STEP_H).any()


def test_curves_from_a_perfect_forecast_clear_as_planned_with_no_imbalance() -> None:
    curves, plan = bid_curves({0.1: PRICES, 0.5: PRICES, 0.9: PRICES}, BATTERY, STEP_H)

    result = settle_day(curves, PRICES, NO_IMBALANCE, BATTERY, STEP_H)

    assert np.allclose(result.schedule, plan)
    assert result.imbalance_mwh == pytest.approx(0.0)
    # 10 MWh bought at 20, 9 MWh sold at 120.
    assert result.pnl_eur == pytest.approx(-10 * 20 + 9 * 120)
    assert all(curve.points[0][0] == PRICE_FLOOR for curve in curves)


def test_a_buy_curve_does_not_pay_more_than_the_energy_can_be_sold_for() -> None:
    curves, plan = bid_curves({0.1: PRICES - 5, 0.5: PRICES, 0.9: PRICES + 500}, BATTERY, STEP_H)
    charge = int(np.argmax(plan > 0))

    limit = 120.0 * BATTERY.efficiency  # the expected sale price of the stored MWh
    assert curves[charge].quantity_at(limit - 1) == BATTERY.power_mw
    assert curves[charge].quantity_at(limit + 1) == 0.0
    assert curves[charge].quantity_at(PRICE_CEILING) == 0.0


def test_a_sell_that_cannot_be_delivered_is_settled_as_imbalance() -> None:
    # The curve sells in the evening, but the morning buy did not clear (prices came in above the limit).
    curves, _ = bid_curves({0.1: PRICES, 0.5: PRICES, 0.9: PRICES}, BATTERY, STEP_H)
    actual = PRICES.copy()
    actual[:32] = 200.0  # the night turned expensive: nothing bought
    imbalance = np.full(96, 300.0)

    result = settle_day(curves, actual, imbalance, BATTERY, STEP_H)

    sold = -result.schedule[result.schedule < 0].sum() * STEP_H
    assert sold > 0
    assert result.imbalance_mwh == pytest.approx(sold)  # none of it could be delivered
    assert result.imbalance_eur == pytest.approx(-sold * 300.0)
    assert result.imbalance_cost_eur == pytest.approx(sold * (300.0 - 120.0))


def test_a_step_curve_clears_the_quantity_of_the_last_point_at_or_below_the_price() -> None:
    curve = BidCurve(((PRICE_FLOOR, 0.0), (80.0, -5.0)))

    assert curve.quantity_at(79.99) == 0.0
    assert curve.quantity_at(80.0) == -5.0


def test_a_battery_too_small_for_one_step_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least one quarter-hour"):
        Battery(power_mw=10, energy_mwh=1)
