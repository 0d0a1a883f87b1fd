"""The time helpers, for every time zone of a catalogue area, on every day from 2015 to 2030 (Hypothesis).

The oracle is the EU's summer-time rule (Directive 2000/84/EC, in force for every zone here): clocks go forward at
01:00 UTC on the last Sunday of March and back at 01:00 UTC on the last Sunday of October. It is written here from
the rule, not from the helpers or zoneinfo, so a helper that followed a wrong reading would fail.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalar_ray.core.areas import area_by_code_or_none
from scalar_ray.core.durations import parse_duration
from scalar_ray.core.utc import as_utc, floor_to, local_day_window
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.simulator.grid import intervals

ZONES = sorted(
    {known.timezone for spec in load_catalogue() for area in spec.areas if (known := area_by_code_or_none(area))}
)
DAYS = st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31))
QUARTER = timedelta(minutes=15)


def last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - calendar.SUNDAY) % 7)


def expected_hours(day: date) -> int:
    if day == last_sunday(day.year, 3):
        return 23
    if day == last_sunday(day.year, 10):
        return 25
    return 24


def test_the_catalogue_knows_the_zones_this_file_tests() -> None:
    assert {"Europe/Copenhagen", "Europe/Helsinki", "Europe/Oslo", "Europe/Paris", "Europe/Berlin"} <= set(ZONES)


@given(day=DAYS, zone=st.sampled_from(ZONES))
def test_a_local_day_is_23_24_or_25_hours_exactly_on_the_eu_rule_and_tiles_utc_time(day: date, zone: str) -> None:
    start, end = local_day_window(day, zone)

    assert end - start == timedelta(hours=expected_hours(day))
    assert local_day_window(day + timedelta(days=1), zone)[0] == end
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert start.astimezone(ZoneInfo(zone)).hour == 0


@given(day=DAYS, zone=st.sampled_from(ZONES))
def test_a_local_day_has_92_96_or_100_quarter_hours_all_on_that_local_day(day: date, zone: str) -> None:
    start, end = local_day_window(day, zone)

    grid = list(intervals(start, end, QUARTER))

    assert len(grid) == 4 * expected_hours(day)  # 92 / 96 / 100
    assert len(set(grid)) == len(grid)  # keyed on UTC: the repeated 02:00 of the long day is two keys
    assert all(ts.minute % 15 == 0 and ts.second == 0 for ts in grid)
    assert {ts.astimezone(ZoneInfo(zone)).date() for ts in grid} == {day}


@given(year=st.integers(2015, 2030))
def test_the_long_day_repeats_a_wall_clock_hour_that_only_utc_tells_apart(year: int) -> None:
    long_day = last_sunday(year, 10)
    first = datetime(long_day.year, long_day.month, long_day.day, 0, tzinfo=UTC)  # 02:00 CEST in Copenhagen
    second = first + timedelta(hours=1)  # 02:00 CET
    local_first, local_second = (moment.astimezone(ZoneInfo("Europe/Copenhagen")) for moment in (first, second))

    assert local_first.replace(tzinfo=None) == local_second.replace(tzinfo=None)  # the same wall-clock reading
    assert as_utc(local_first) != as_utc(local_second)


@given(
    moment=st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    minutes=st.sampled_from([1, 5, 15, 30, 60]),
)
def test_floor_to_lands_on_the_utc_grid_at_or_before_the_moment(moment: datetime, minutes: int) -> None:
    step = timedelta(minutes=minutes)

    floored = floor_to(moment, step)

    assert floored <= moment < floored + step
    assert (floored - datetime(1970, 1, 1, tzinfo=UTC)) % step == timedelta(0)


@given(hours=st.integers(0, 48), minutes=st.integers(0, 59), seconds=st.integers(0, 59))
def test_a_clock_duration_keeps_every_part_and_zero_is_refused(hours: int, minutes: int, seconds: int) -> None:
    text = f"PT{hours}H{minutes}M{seconds}S"
    total = timedelta(hours=hours, minutes=minutes, seconds=seconds)

    if total == timedelta(0):
        with pytest.raises(ValueError, match=text):
            parse_duration(text)
    else:
        assert parse_duration(text).fixed() == total
