"""UTC inside: timestamps parsed to UTC, local market days as UTC windows, UTC grids.

Compare and key on UTC only: two aware datetimes with the same tzinfo compare on wall-clock time, so on the long DST
day 02:00+02:00 and 02:00+01:00 would look equal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["as_utc", "floor_to", "local_day_window", "parse_utc"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_utc(text: str) -> datetime:
    """An ISO-8601 timestamp (``2023-05-06T22:00Z``, ``...+02:00``, or naive = UTC) as an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(value))


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already (the warehouse's and AutoGluon's convention)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def floor_to(moment: datetime, step: timedelta) -> datetime:
    """``moment`` rounded down to a multiple of ``step`` since the Unix epoch (UTC grids)."""
    return _EPOCH + ((moment - _EPOCH) // step) * step


def local_day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """A market's local delivery day as a UTC window: 23 hours on the spring DST day, 25 on the autumn one."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
