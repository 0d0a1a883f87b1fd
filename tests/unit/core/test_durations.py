"""One duration type: ISO-8601 parsed by isodate, seconds honoured, zero refused, calendar steps in local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalar_ray.core.durations import Duration, fixed_duration, parse_duration

CET = ZoneInfo("Europe/Copenhagen")


@pytest.mark.parametrize(
    ("text", "months", "days", "clock"),
    [
        pytest.param("PT15M", 0, 0, timedelta(minutes=15), id="quarter_hour"),
        pytest.param("PT60M", 0, 0, timedelta(hours=1), id="hour_in_minutes"),
        pytest.param("PT30S", 0, 0, timedelta(seconds=30), id="seconds_honoured"),
        pytest.param("PT0.5S", 0, 0, timedelta(milliseconds=500), id="fractional_seconds"),
        pytest.param("P1D", 0, 1, timedelta(0), id="calendar_day"),
        pytest.param("P1W", 0, 7, timedelta(0), id="week"),
        pytest.param("P1Y2M3DT4H5M6S", 14, 3, timedelta(hours=4, minutes=5, seconds=6), id="every_part"),
        pytest.param("pt5m", 0, 0, timedelta(minutes=5), id="lower_case"),
    ],
)
def test_parts_are_kept_apart(text: str, months: int, days: int, clock: timedelta) -> None:
    duration = parse_duration(text)
    assert (duration.months, duration.days, duration.clock) == (months, days, clock)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("PT0M", id="zero_minutes"),
        pytest.param("P0D", id="zero_days"),
        pytest.param("PT0S", id="zero_seconds"),
        pytest.param("-P1D", id="negative"),
        pytest.param("P0.5D", id="fractional_days"),
        pytest.param("15 minutes", id="not_iso"),
        pytest.param("P", id="empty"),
        pytest.param("PT", id="empty_time"),
        pytest.param("", id="blank"),
    ],
)
def test_zero_negative_fractional_and_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text).strip('"')):
        parse_duration(text)


def test_zero_is_an_offset_when_asked_for() -> None:
    assert parse_duration("PT0S", allow_zero=True).fixed() == timedelta(0)
    with pytest.raises(ValueError, match="-PT1H"):
        parse_duration("-PT1H", allow_zero=True)


def test_fixed_lengths_refuse_months_and_count_days_as_24_hours() -> None:
    assert fixed_duration("P1DT6H") == timedelta(hours=30)
    with pytest.raises(ValueError, match="not a fixed duration"):
        fixed_duration("P1M")
    assert parse_duration("P1Y").longest() == timedelta(days=366)
    assert parse_duration("P1D").clock_step() is None
    assert parse_duration("PT15M").clock_step() == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("start", "hours"),
    [
        pytest.param(datetime(2026, 3, 28, 23, tzinfo=UTC), 23, id="spring_forward_day"),
        pytest.param(datetime(2026, 10, 24, 22, tzinfo=UTC), 25, id="fall_back_day"),
        pytest.param(datetime(2026, 6, 1, 22, tzinfo=UTC), 24, id="ordinary_day"),
    ],
)
def test_a_calendar_day_in_a_zone_follows_local_midnight(start: datetime, hours: int) -> None:
    assert parse_duration("P1D").add_to(start, zone=CET) - start == timedelta(hours=hours)
    assert parse_duration("P1D").add_to(start) - start == timedelta(hours=24)  # in UTC a day is 24 hours
    assert parse_duration("PT24H").add_to(start, zone=CET) - start == timedelta(hours=24)


@given(
    st.integers(min_value=1, max_value=10_000),
    st.sampled_from(["S", "M", "H"]),
    st.integers(min_value=-50, max_value=50),
)
def test_clock_durations_step_exactly(amount: int, unit: str, times: int) -> None:
    duration = Duration.parse(f"PT{amount}{unit}")
    length = {"S": timedelta(seconds=1), "M": timedelta(minutes=1), "H": timedelta(hours=1)}[unit] * amount
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert duration.fixed() == length
    assert duration.add_to(start, times, CET) == start + length * times


@pytest.mark.parametrize("text", ["P1000000000D", "PT99999999999999999999H", "P9999999999Y"])
def test_a_duration_past_what_a_timedelta_holds_is_a_value_error_not_an_overflow(text: str) -> None:
    with pytest.raises(ValueError, match=r"longer than any duration|not an ISO-8601 duration"):
        parse_duration(text)
