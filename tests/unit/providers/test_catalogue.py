from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from scalar_ray.core.errors import ConfigurationError
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import PROVIDERS, load_catalogue
from tests.unit.providers.helpers import utc


def test_catalogue_covers_every_provider_and_the_required_datasets() -> None:
    catalogue = load_catalogue()
    counts = Counter(dataset.provider for dataset in catalogue)

    assert set(counts) == set(PROVIDERS)
    assert counts["elia"] >= 15 and counts["jao"] >= 6
    entsoe = {dataset.key for dataset in catalogue.for_provider("entsoe")}
    assert {"A44", "A65", "A75", "A69", "A11", "A09", "A85", "A86", "A84"} <= entsoe
    assert {"ods134", "ods047", "ods201"} <= {d.id for d in catalogue.for_provider("elia")}
    nordpool = {d.id for d in catalogue.for_provider("nordpool")}
    assert {"DayAheadPriceIndices-15", "DayAheadPriceIndices-60", "IntradayStatistics"} <= nordpool
    assert {"DayAheadPrices", "ElectricityProdex5MinRealtime", "Forecasts_5Min", "PowerSystemRightNow"} <= {
        d.id for d in catalogue.for_provider("energinet")
    }


def test_request_windows_respect_each_providers_limit() -> None:
    catalogue = load_catalogue()
    month = Window(utc(2026, 1, 1), utc(2026, 1, 31))

    assert len(catalogue.get("entsoe", "A85").request_windows(month)) == 3  # balancing data: 10 days a request
    assert len(catalogue.get("jao", "maxExchanges").request_windows(month)) == 15  # two days a request
    assert len(catalogue.get("entsoe", "A44").request_windows(month)) == 1  # a year a request


def test_a_limit_of_days_steps_by_the_calendar_so_a_25_hour_day_is_one_request() -> None:
    spec = load_catalogue().get("nordpool", "DayAheadPrices")  # one CET delivery day a request
    long_day = Window(utc(2025, 10, 25, 22), utc(2025, 10, 26, 23))
    three_days = Window(utc(2025, 10, 24, 22), utc(2025, 10, 27, 23))

    assert spec.request_windows(long_day) == [long_day]  # not 24 hours and then the same day's last hour again
    assert [piece.end - piece.start for piece in spec.request_windows(three_days)] == [
        timedelta(hours=24),
        timedelta(hours=25),
        timedelta(hours=24),
    ]


def test_cron_schedules_run_in_market_time_across_dst() -> None:
    schedule = load_catalogue().get("entsoe", "A44").schedule

    # 13:05 Brussels: 12:05 UTC in winter, 11:05 UTC once summer time starts on 2026-03-29.
    assert schedule.next_run(utc(2026, 3, 28, 12, 7)) == utc(2026, 3, 29, 11, 5)
    assert schedule.next_run(utc(2026, 3, 27, 10, 0)) == utc(2026, 3, 27, 12, 5)


def test_interval_schedules_are_aligned_to_the_grid() -> None:
    schedule = load_catalogue().get("energinet", "ElectricityProdex5MinRealtime").schedule

    assert schedule.next_run(utc(2026, 3, 28, 12, 7, 30)) == utc(2026, 3, 28, 12, 10)
    assert schedule.next_run(utc(2026, 3, 28, 12, 10)) == utc(2026, 3, 28, 12, 15)


def test_fetch_window_reaches_back_for_revisions_and_ahead_for_forecasts() -> None:
    catalogue = load_catalogue()
    now = utc(2026, 3, 28, 12, 7)

    actual = catalogue.get("entsoe", "A65-actual").fetch_window(now)
    assert actual.start == now.replace(minute=0) - timedelta(hours=13)  # 12 h lookback + 1 h publication delay
    assert actual.end == utc(2026, 3, 28, 12, 15)
    forecast = catalogue.get("entsoe", "A65-forecast").fetch_window(now)
    assert forecast.end == utc(2026, 3, 30, 12, 15)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        pytest.param(
            "{id: A44, description: x, areas: [DK1], resolution: PT15M, schedule: {cron: '61 * * * *'}, "
            "publication_delay: PT0S, lookback: P1D, horizon: P1D, max_window: P1Y}",
            "not a valid cron expression",
            id="bad_cron",
        ),
        pytest.param(
            "{id: A44, description: x, areas: [XX9], resolution: PT15M, schedule: {every: PT15M}, "
            "publication_delay: PT0S, lookback: P1D, horizon: P1D, max_window: P1Y}",
            "unknown area 'XX9'",
            id="unknown_area",
        ),
        pytest.param(
            "{id: A99, description: x, areas: [DK1], resolution: PT15M, schedule: {every: PT15M}, "
            "publication_delay: PT0S, lookback: P1D, horizon: P1D, max_window: P1Y}",
            "the entsoe parser has no dataset 'A99'",
            id="unknown_parser_key",
        ),
        pytest.param(
            "{id: A44, description: x, areas: [DK1], resolution: 15min, schedule: {every: PT15M}, "
            "publication_delay: PT0S, lookback: P1D, horizon: P1D, max_window: P1Y}",
            "not an ISO-8601 duration",
            id="bad_duration",
        ),
        pytest.param(
            "{id: A44, description: x, areas: [DK1], resolution: PT15M, schedule: {every: PT15M, "
            "timezone: Mars/Olympus}, publication_delay: PT0S, lookback: P1D, horizon: P1D, max_window: P1Y}",
            "unknown time zone",
            id="bad_timezone",
        ),
    ],
)
def test_a_bad_catalogue_entry_fails_naming_the_dataset(tmp_path: Path, entry: str, problem: str) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(f"entsoe:\n  - {entry}\n")

    with pytest.raises(ConfigurationError, match=problem) as caught:
        load_catalogue(path)
    assert caught.value.setting.startswith("catalogue entsoe/")
