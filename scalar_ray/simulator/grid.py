"""Time grids for the simulator: intervals of a window, local delivery days, catalogue resolutions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from scalar_ray.core.durations import fixed_duration
from scalar_ray.core.utc import local_day_window
from scalar_ray.providers.catalogue import load_catalogue

__all__ = ["SDAC_15_MINUTE_GO_LIVE", "day_ahead_step", "delivery_days", "intervals", "resolution_of", "step_of"]

# SDAC's switch to 15-minute day-ahead products (delivery day 2025-10-01).
SDAC_15_MINUTE_GO_LIVE = datetime(2025, 9, 30, 22, tzinfo=UTC)


def step_of(resolution: str) -> timedelta:
    """``PT15M`` → 15 minutes (fixed-length resolutions only)."""
    return fixed_duration(resolution)


def resolution_of(provider: str, key: str) -> str:
    """The catalogue resolution of a provider's dataset (by id or parser key)."""
    for spec in load_catalogue().for_provider(provider):
        if key in (spec.id, spec.key):
            return spec.resolution
    return "PT15M"


def day_ahead_step(ts: datetime) -> timedelta:
    """Day-ahead products are hourly before the 15-minute go-live and quarter-hourly after."""
    return timedelta(minutes=15) if ts >= SDAC_15_MINUTE_GO_LIVE else timedelta(hours=1)


def intervals(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    """Interval starts on the UTC grid of ``step`` within ``[start, end)``."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    cursor = epoch + -((epoch - start) // step) * step
    while cursor < end:
        yield cursor
        cursor += step


def delivery_days(start: datetime, end: datetime, timezone: str) -> list[tuple[date, datetime, datetime]]:
    """The local delivery days overlapping ``[start, end)``, each with its UTC window (23 or 25 hours on DST days)."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date()
    days: list[tuple[date, datetime, datetime]] = []
    while True:
        day_start, day_end = local_day_window(day, timezone)
        if day_start >= end:
            return days
        days.append((day, day_start, day_end))
        day += timedelta(days=1)
