"""Conformal calibration of the forecast interval: coverage, the CQR offset, when it applies, sorted quantiles."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from scalar_ray.forecasting.calibration import (
    IntervalCalibration,
    WindowInterval,
    calibrate,
    conformal_offset,
    interval_coverage,
    shift_interval,
)
from scalar_ray.forecasting.issuing import forecast_table
from scalar_ray.forecasting.registry import RegistryEntry
from tests.unit.forecasting.builders import NOW, entry, small_family


def windows_of(
    rng: np.random.Generator, half_width: float, count: int = 4, length: int = 500, target: str = "load"
) -> list[list[WindowInterval]]:
    """Standard-normal actuals around 0 with a fixed interval [-half_width, half_width] (1.2816: a true 80 %)."""
    return [
        [WindowInterval(target, rng.standard_normal(length), np.full(length, -half_width), np.full(length, half_width))]
        for _ in range(count)
    ]


def test_coverage_is_the_share_of_actuals_inside_the_closed_interval() -> None:
    actual = np.array([0.0, 1.0, 2.0, 3.0])

    assert interval_coverage(actual, np.full(4, 1.0), np.full(4, 2.0)) == 0.5
    assert math.isnan(interval_coverage(np.array([]), np.array([]), np.array([])))


def test_the_offset_is_the_finite_sample_quantile_of_how_far_actuals_fall_outside() -> None:
    # Scores max(low - y, y - high) for [0, 1]: 9 actuals inside by 0.5, one 3 above the top.
    actual = np.array([0.5] * 9 + [4.0])
    scores_inside = -0.5

    offset = conformal_offset(actual, np.zeros(10), np.ones(10), nominal=0.8)

    assert offset == scores_inside  # the 0.88 quantile of the scores is still an inside one: narrow by 0.5
    assert conformal_offset(actual, np.zeros(10), np.ones(10), nominal=0.95) == 3.0  # widen to reach the outlier


def test_a_too_narrow_interval_is_widened_to_its_nominal_coverage_estimated_on_held_out_windows() -> None:
    windows = windows_of(np.random.default_rng(7), half_width=0.5)  # about 38 % coverage

    calibration = calibrate(windows, 0.1, 0.9)

    assert calibration.applied
    assert calibration.coverage_before == pytest.approx(0.383, abs=0.03)
    assert calibration.coverage_after == pytest.approx(0.8, abs=0.03)
    assert calibration.estimated_after == calibration.coverage_after
    assert calibration.offsets["load"] == pytest.approx(1.2816 - 0.5, abs=0.1)


def test_a_too_wide_interval_is_narrowed() -> None:
    calibration = calibrate(windows_of(np.random.default_rng(8), half_width=2.5), 0.1, 0.9)

    assert calibration.applied and calibration.coverage_before > 0.95
    assert calibration.offsets["load"] < 0
    assert calibration.coverage_after == pytest.approx(0.8, abs=0.03)


def test_an_interval_within_five_points_of_nominal_is_left_as_the_models_made_it() -> None:
    calibration = calibrate(windows_of(np.random.default_rng(9), half_width=1.2816), 0.1, 0.9)

    assert not calibration.applied
    assert calibration.coverage_before == calibration.coverage_after == pytest.approx(0.8, abs=0.05)
    assert calibration.offsets == {}


def test_offsets_that_the_held_out_windows_find_no_better_are_not_applied() -> None:
    # Two unlike days: on the first the interval is far too narrow, on the second far too wide. Each day's offsets,
    # scored on the other, push the other's coverage further from 80 % (the too-wide day gets wider, the too-narrow one
    # narrower), so the cross-validated estimate is worse than leaving the models' interval alone.
    rng = np.random.default_rng(11)
    narrow_day = windows_of(rng, half_width=0.3, count=1)[0]
    wide_day = windows_of(rng, half_width=3.0, count=1)[0]

    calibration = calibrate([narrow_day, wide_day], 0.1, 0.9)

    assert abs(calibration.coverage_before - 0.8) > 0.05
    assert calibration.estimated_after is not None
    assert abs(calibration.estimated_after - 0.8) >= abs(calibration.coverage_before - 0.8)
    assert not calibration.applied and calibration.offsets == {}
    assert calibration.coverage_after == calibration.coverage_before  # what issuing gives: the models' interval


def test_offsets_are_learned_per_target_in_its_own_unit() -> None:
    rng = np.random.default_rng(10)
    narrow = windows_of(rng, half_width=0.5, target="load")
    scaled = [
        [WindowInterval("price", w.actual * 100, w.low * 100 * 4, w.high * 100 * 4) for w in window]
        for window in windows_of(rng, half_width=0.5)
    ]
    both = [a + b for a, b in zip(narrow, scaled, strict=True)]

    offsets = calibrate(both, 0.1, 0.9).offsets

    assert offsets["load"] > 0.5  # widened
    assert offsets["price"] < -50  # 200 wide against a true 128: narrowed by about 70, in EUR/MWh


def test_the_shift_moves_only_the_outer_edges_and_keeps_quantiles_sorted() -> None:
    calibration = IntervalCalibration(0.1, 0.9, 0.5, 0.8, applied=True, offsets={"load": 2.0, "price": -15.0})
    quantiles = np.array([[90.0, 100.0, 110.0]])

    widened = shift_interval(quantiles, [0.1, 0.5, 0.9], calibration, "load")
    narrowed = shift_interval(quantiles, [0.1, 0.5, 0.9], calibration, "price")

    assert widened.tolist() == [[88.0, 100.0, 112.0]]
    assert narrowed.tolist() == [[95.0, 100.0, 105.0]]  # 105, 100, 95 crossed the median: sorted again
    assert quantiles.tolist() == [[90.0, 100.0, 110.0]]  # the input is not changed
    assert shift_interval(quantiles, [0.1, 0.5, 0.9], replace(calibration, applied=False), "load").tolist() == [
        [90.0, 100.0, 110.0]
    ]


def test_issuing_applies_the_versions_offsets() -> None:
    index = pd.MultiIndex.from_product(
        [["load"], pd.date_range("2026-10-25 00:00", periods=1, freq="15min")], names=["item_id", "timestamp"]
    )
    frame = pd.DataFrame([(100.0, 90.0, 100.0, 110.0)], index=index, columns=["mean", "0.1", "0.5", "0.9"])
    calibration = IntervalCalibration(0.1, 0.9, 0.6, 0.8, applied=True, offsets={"load": 5.0})

    row = forecast_table(small_family(), "DK1", "v9", frame, NOW, calibration).to_pylist()[0]

    assert (row["mean"], row["q10"], row["q50"], row["q90"]) == (100.0, 85.0, 100.0, 115.0)


def test_the_calibration_round_trips_through_a_registry_entry_and_old_entries_have_none() -> None:
    calibration = IntervalCalibration(0.1, 0.9, 0.62, 0.79, applied=True, offsets={"load": 12.5})
    stored = replace(entry("v1"), calibration=calibration.as_dict())

    read = RegistryEntry.from_json(stored.to_json())

    assert read.calibration is not None
    assert IntervalCalibration.from_dict(read.calibration) == calibration
    old = json.loads(entry("v0").to_json())
    del old["calibration"]  # written before calibration existed
    assert RegistryEntry.from_json(json.dumps(old)).calibration is None
