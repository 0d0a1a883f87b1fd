"""The input checks on a model's frame: too little history, too little recent data, stale and flat-lining inputs."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from scalar_ray.forecasting.frames import ModelFrame
from scalar_ray.forecasting.input_checks import check_inputs, fallback_reason
from scalar_ray.forecasting.issuing import issue_fallback
from tests.unit.forecasting.builders import NOW, entry, small_family

DAYS = 12


def frame(
    target: np.ndarray | None = None, covariate: np.ndarray | None = None, *, lag: timedelta = timedelta(hours=1)
) -> ModelFrame:
    """A DK1 frame of 12 days of quarter-hours ending ``lag`` before NOW: a daily load shape and one past covariate."""
    count = DAYS * 96
    last = (NOW - lag).replace(tzinfo=None) - timedelta(minutes=15)
    stamps = pd.date_range(end=last, periods=count, freq="15min")
    shape = 1000 + 200 * np.sin(np.arange(count) * 2 * np.pi / 96)
    data = pd.DataFrame(
        {
            "item_id": "load",
            "timestamp": stamps,
            "target": shape if target is None else target,
            "entsoe_A75_generation": shape * 0.3 if covariate is None else covariate,
        }
    )
    return ModelFrame(
        "test_demand",
        "DK1",
        NOW,
        data,
        pd.DataFrame(),
        [],
        ["entsoe_A75_generation"],
        stamps[-1].to_pydatetime().replace(tzinfo=NOW.tzinfo),
        span=timedelta(days=DAYS),
        recent_observed={"entsoe/A65/DK1/load": 1.0},
    )


def stuck_tail(values: np.ndarray, hours: int, value: float) -> np.ndarray:
    out = values.copy()
    out[-hours * 4 :] = value
    return out


def test_good_inputs_pass() -> None:
    assert check_inputs(frame(), small_family(), NOW) == ()


def test_a_target_stuck_for_a_day_is_flat_lining_and_for_less_it_is_not() -> None:
    shape = frame().data["target"].to_numpy()
    spec = small_family()

    (problem,) = check_inputs(frame(stuck_tail(shape, 25, 987.0)), spec, NOW)

    assert (problem.kind, problem.series) == ("flatline", "entsoe/A65/DK1/load")
    assert str(problem) == "entsoe/A65/DK1/load: flat-lining: 987 for the last P1D"
    assert check_inputs(frame(stuck_tail(shape, 20, 987.0)), spec, NOW) == ()


def test_a_past_covariate_repeating_a_value_is_flat_lining_but_a_day_of_zeros_is_not() -> None:
    shape = frame().data["target"].to_numpy()

    (problem,) = check_inputs(frame(covariate=stuck_tail(shape, 30, 55.0)), small_family(), NOW)
    assert (problem.kind, problem.series) == ("flatline", "entsoe_A75_generation")
    assert check_inputs(frame(covariate=stuck_tail(shape, 30, 0.0)), small_family(), NOW) == ()


def test_a_target_whose_newest_actual_is_old_is_stale() -> None:
    (problem,) = check_inputs(frame(lag=timedelta(hours=9)), small_family(), NOW)

    assert problem.kind == "stale"
    assert "the newest actual ends 9.0 h before the issue" in problem.detail


def test_too_little_history_and_too_little_recent_data() -> None:
    short = frame()
    short.span = timedelta(days=1.5)
    sparse = frame()
    sparse.recent_observed = {"entsoe/A65/DK1/load": 0.5}

    (history,) = check_inputs(short, small_family(), NOW)
    (recent,) = check_inputs(sparse, small_family(), NOW)

    assert history.kind == "too_little_history" and "1.5 days of data, the models need 2.0 days" in history.detail
    assert recent.kind == "too_little_recent_data" and "50% of the last P2D observed, needs 80%" in recent.detail


def test_the_fallback_names_the_baseline_and_the_reasons_also_those_found_at_training() -> None:
    problems = check_inputs(frame(lag=timedelta(hours=9)), small_family(), NOW)

    now = issue_fallback(entry("v1"), problems)
    earlier = issue_fallback(entry("v2").__class__(**{**entry("v2").__dict__, "fallback_reason": "x: stale"}), ())

    assert now is not None and now.model == "SeasonalNaive" and now.reason == fallback_reason(problems)
    assert earlier is not None and earlier.reason == "at training: x: stale"
    assert issue_fallback(entry("v3"), ()) is None


def test_a_forecast_feed_that_stopped_issuing_is_stale_and_one_issued_within_the_day_is_not() -> None:
    fresh, stopped, never = frame(), frame(), frame()
    fresh.known_newest_issue = {"entsoe/A65/DK1/load_da": NOW - timedelta(hours=20)}
    stopped.known_newest_issue = {"entsoe/A65/DK1/load_da": NOW - timedelta(hours=40)}
    never.known_newest_issue = {"entsoe/A65/DK1/load_da": None}

    (old,) = check_inputs(stopped, small_family(), NOW)
    (none,) = check_inputs(never, small_family(), NOW)

    assert check_inputs(fresh, small_family(), NOW) == ()
    assert (old.kind, old.series) == ("stale", "entsoe/A65/DK1/load_da")
    assert old.detail == "stale: the newest forecast was issued 40.0 h before the issue (allowed 30.0 h)"
    assert none.detail == "stale: no vintage issued by the issue time"


def issued_ahead(hours: int, values: float | None = None) -> pd.Series:
    """A known covariate's horizon as issued: ``hours`` of quarter-hours, one ``values`` or a daily shape."""
    stamps = pd.date_range(NOW.replace(tzinfo=None), periods=hours * 4, freq="15min")
    shape = 500 + 100 * np.sin(np.arange(len(stamps)) * 2 * np.pi / 96)
    return pd.Series(shape if values is None else np.full(len(stamps), values), index=stamps)


def test_a_forecast_repeating_one_value_over_a_day_ahead_is_flat_lining_but_zeros_or_a_short_horizon_are_not() -> None:
    def with_ahead(ahead: pd.Series) -> ModelFrame:
        checked = frame()
        checked.known_issued_ahead = {"meteologica/wind_power_forecast/DK1/forecast": ahead}
        return checked

    (problem,) = check_inputs(with_ahead(issued_ahead(24, 812.5)), small_family(), NOW)

    assert (problem.kind, problem.series) == ("flatline", "meteologica/wind_power_forecast/DK1/forecast")
    assert problem.detail == "flat-lining: 812.5 over the horizon as issued (24.0 h)"
    assert check_inputs(with_ahead(issued_ahead(24)), small_family(), NOW) == ()
    assert check_inputs(with_ahead(issued_ahead(24, 0.0)), small_family(), NOW) == ()  # solar at night, no wind
    assert check_inputs(with_ahead(issued_ahead(4, 812.5)), small_family(), NOW) == ()  # 4 h flat can be true
