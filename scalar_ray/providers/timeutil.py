"""Time handling shared by the parsers: ISO-8601 durations, UTC parsing, and local market days to UTC windows."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

__all__ = ["add_duration", "clock_step", "floor_to", "local_day_window", "parse_duration", "parse_utc"]

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(text: str) -> relativedelta:
    """``PT15M`` → 15 minutes, ``P1D`` → one day, ``P1Y`` → one year (calendar-aware)."""
    match = _DURATION.match(text.strip())
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"'{text}' is not an ISO-8601 duration such as PT15M, PT60M or P1D")
    part = {name: int(value or 0) for name, value in match.groupdict().items()}
    return relativedelta(
        years=part["years"], months=part["months"], days=part["days"], hours=part["hours"], minutes=part["minutes"]
    )


def fixed_duration(text: str) -> timedelta:
    """A duration of fixed length: days count as 24 hours (UTC grids); months and years are refused (ValueError)."""
    duration = parse_duration(text)
    if duration.years or duration.months:
        raise ValueError(f"'{text}' is not a fixed duration (use PT15M, PT4H, P1D ...)")
    return timedelta(days=duration.days, hours=duration.hours, minutes=duration.minutes, seconds=duration.seconds)


def clock_step(text: str) -> timedelta | None:
    """A resolution of fixed clock length (``PT15M`` → 15 minutes), or None for a day or longer (calendar steps)."""
    duration = parse_duration(text)
    if duration.years or duration.months or duration.days:
        return None
    step = timedelta(hours=duration.hours, minutes=duration.minutes, seconds=duration.seconds)
    return step if step > timedelta(0) else None


def floor_to(moment: datetime, step: timedelta) -> datetime:
    """``moment`` rounded down to a multiple of ``step`` since the Unix epoch (UTC grids)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def add_duration(moment: datetime, duration: relativedelta, times: int = 1, zone: ZoneInfo | None = None) -> datetime:
    """``moment + times * duration``.

    Hours and minutes step in UTC. Days, months and years are calendar steps: taken in ``zone`` when given, so
    a daily series follows local midnight across DST (a 23- or 25-hour day), else in UTC.
    """
    if not (duration.years or duration.months or duration.days):
        return moment + timedelta(hours=duration.hours, minutes=duration.minutes, seconds=duration.seconds) * times
    local = moment.astimezone(zone) if zone else moment
    naive: datetime = local.replace(tzinfo=None) + duration * times
    stepped = naive.replace(tzinfo=local.tzinfo)
    if zone:
        # Re-attach the zone so the wall-clock result gets its own (possibly different) UTC offset.
        stepped = stepped.replace(tzinfo=None).replace(tzinfo=zone)
    return stepped.astimezone(UTC)


def parse_utc(text: str) -> datetime:
    """An ISO-8601 timestamp (``2023-05-06T22:00Z``, ``...+02:00``, or naive = UTC) as an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """A market's local delivery day as a UTC window: 23 hours on the spring DST day, 25 on the autumn one."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
