"""Point-in-time frames: what a model sees is what was known when it would have forecast."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scalar_ray.core.errors import ForecastDataError
from scalar_ray.forecasting.frames import build_frame, calendar_features, column_name, publication_lag
from scalar_ray.forecasting.input_checks import check_inputs
from scalar_ray.warehouse.base import InMemoryWarehouse
from tests.unit.forecasting.builders import NOW, STEP, daily, small_family, write_series

START = NOW - timedelta(days=6)


def platform_history(warehouse: InMemoryWarehouse, days: float = 6) -> None:
    """Load actuals published an hour after each interval; the day-ahead forecast issued 12 h before each one,
    then revised an hour before delivery with a value no model may see in training (it would be a leak)."""
    start = NOW - timedelta(days=days)
    write_series(warehouse, "entsoe/A65/DK1/load", start, NOW, issued=lambda ts: ts + timedelta(hours=1))
    write_series(
        warehouse, "entsoe/A65/DK1/load_da", start, NOW + timedelta(hours=8), issued=lambda ts: ts - timedelta(hours=12)
    )
    write_series(
        warehouse,
        "entsoe/A65/DK1/load_da",
        start,
        NOW,
        issued=lambda ts: ts - timedelta(hours=1),
        value=lambda ts: -1.0,
    )


def test_the_frame_ends_at_the_last_published_actual_and_covers_the_horizon() -> None:
    warehouse = InMemoryWarehouse()
    platform_history(warehouse)
    spec = small_family()

    frame = build_frame(warehouse, spec, "DK1", NOW)

    # Each interval is published an hour after it starts: at 10:00 the 09:00 value is the last one out.
    assert frame.last_ts == NOW - timedelta(hours=1)
    assert len(frame.future_known) == spec.horizon_steps
    assert frame.future_known["timestamp"].min() == (frame.last_ts + STEP).replace(tzinfo=None)
    assert set(frame.data["item_id"]) == {"load"}
    assert frame.known_names[0] == "entsoe_A65_load_da"
    assert {"hour_sin", "is_holiday"} <= set(frame.known_names)


def test_known_covariates_in_training_are_the_vintage_issued_a_lead_ahead_never_a_later_revision() -> None:
    warehouse = InMemoryWarehouse()
    platform_history(warehouse)

    frame = build_frame(warehouse, small_family(), "DK1", NOW)

    assert (frame.data["entsoe_A65_load_da"] != -1.0).all()  # the 1-hour-ahead revision is never used
    # The horizon uses the latest vintage issued by the issue time: the revision where it was out already.
    horizon = frame.future_known.set_index("timestamp")["entsoe_A65_load_da"]
    revised = horizon.index < NOW.replace(tzinfo=None)  # the revision exists for intervals before now
    assert (horizon[revised] == -1.0).all()
    assert (horizon[~revised] != -1.0).all()


def test_a_backfilled_actual_counts_as_published_in_time_but_nothing_after_the_issue_time_leaks_in() -> None:
    warehouse = InMemoryWarehouse()
    backfilled_at = NOW + timedelta(days=3)  # history fetched later carries the fetch time
    write_series(warehouse, "entsoe/A65/DK1/load", START, NOW + timedelta(days=2), issued=lambda _: backfilled_at)
    write_series(
        warehouse, "entsoe/A65/DK1/load_da", START, NOW + timedelta(days=2), issued=lambda ts: ts - timedelta(hours=12)
    )

    frame = build_frame(warehouse, small_family(), "DK1", NOW)

    # Actuals later than the issue time minus their publication delay are not in the frame, backfilled or not.
    assert frame.last_ts <= NOW - publication_lag("entsoe/A65/DK1/load") - STEP
    assert frame.rows >= 5 * 96


def test_missing_optional_covariates_are_left_out_and_said_so() -> None:
    warehouse = InMemoryWarehouse()
    platform_history(warehouse)

    frame = build_frame(warehouse, small_family(), "DK1", NOW)

    assert "meteologica_demand_forecast_forecast" not in frame.known_names
    assert any("meteologica/demand_forecast/DK1/forecast" in note for note in frame.notes)


def test_a_zone_without_data_is_a_clear_error() -> None:
    warehouse = InMemoryWarehouse()
    platform_history(warehouse)

    with pytest.raises(ForecastDataError, match=r"test_demand/DK2: no data for entsoe/A65/DK2/load"):
        build_frame(warehouse, small_family(zones=["DK1", "DK2"]), "DK2", NOW)


def test_too_little_history_is_a_clear_error() -> None:
    warehouse = InMemoryWarehouse()
    platform_history(warehouse, days=1)

    with pytest.raises(
        ForecastDataError, match=r"too little history: 1\.0 days of data, even the baseline needs 2\.0 days"
    ):
        build_frame(warehouse, small_family(), "DK1", NOW)


def test_gaps_beyond_the_limit_are_refused_and_small_ones_interpolated() -> None:
    warehouse = InMemoryWarehouse()
    platform_history(warehouse)
    # A second target present on days 0, 2 and 4 only: two of the five days it spans are missing.
    holes = small_family(targets=["entsoe/A65/{zone}/load", "entsoe/A65/{zone}/load_gappy"])
    start = START
    for day in range(0, 6, 2):
        write_series(
            warehouse,
            "entsoe/A65/DK1/load_gappy",
            start + timedelta(days=day),
            start + timedelta(days=day + 1),
            issued=lambda ts: ts + timedelta(hours=1),
        )

    with pytest.raises(ForecastDataError, match=r"gaps: 40% of entsoe/A65/DK1/load_gappy is missing"):
        build_frame(warehouse, holes, "DK1", NOW)
    tolerant = build_frame(warehouse, holes.model_copy(update={"max_missing": 0.6}), "DK1", NOW)
    assert tolerant.data["target"].notna().all()
    assert any("load_gappy" in note and "interpolated" in note for note in tolerant.notes)


def test_calendar_features_use_local_time_and_national_holidays() -> None:
    import pandas as pd

    christmas_noon_utc = pd.DatetimeIndex([pd.Timestamp("2026-12-25 11:00", tz="UTC")])

    features = calendar_features(christmas_noon_utc, "DK1", "DK")

    assert features["is_holiday"][0] == 1.0
    assert features["hour_sin"][0] == pytest.approx(0.0, abs=1e-9)  # 12:00 in Copenhagen
    assert column_name("entsoe/A69/DK1/generation_forecast_wind_onshore_da", "DK1") == (
        "entsoe_A69_generation_forecast_wind_onshore_da"
    )
    assert column_name("entsoe/A11/DK1>DE-LU/physical_flow", "DK1") == "entsoe_A11_physical_flow_to_DE_LU"
    assert column_name("entsoe/A11/SE3>DK1/physical_flow", "DK1") == "entsoe_A11_physical_flow_from_SE3"
    assert daily(NOW) > 0


def test_the_frame_keeps_each_forecast_feeds_newest_issue_and_its_horizon_as_issued() -> None:
    """A day-ahead feed that stopped two days ago: its newest vintage is in the frame, the filled horizon is not."""
    warehouse = InMemoryWarehouse()
    stopped = NOW - timedelta(days=2)
    write_series(warehouse, "entsoe/A65/DK1/load", START, NOW, issued=lambda ts: ts + timedelta(hours=1))
    write_series(warehouse, "entsoe/A65/DK1/load_da", START, stopped, issued=lambda ts: min(ts, stopped) - STEP)

    frame = build_frame(warehouse, small_family(), "DK1", NOW)
    problems = check_inputs(frame, small_family(), NOW)

    assert frame.known_newest_issue == {"entsoe/A65/DK1/load_da": stopped - 2 * STEP}
    assert frame.known_issued_ahead["entsoe/A65/DK1/load_da"].isna().all()  # nothing issued for the horizon
    assert frame.future_known["entsoe_A65_load_da"].notna().all()  # ... which the model gets filled
    assert [(p.kind, p.series) for p in problems] == [("stale", "entsoe/A65/DK1/load_da")]
    assert "issued 48.5 h before the issue" in problems[0].detail
