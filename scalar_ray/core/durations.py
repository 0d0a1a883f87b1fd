"""ISO-8601 durations: one type for resolutions, horizons, look-backs and schedules.

``isodate`` parses and validates the text. The date part (years, months, weeks, days) is kept apart from the clock
part (hours, minutes, seconds) because they step differently: ``P1D`` is a calendar day, 23 or 25 hours on a
market's DST days, while ``PT24H`` is always 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import isodate
from dateutil.relativedelta import relativedelta

__all__ = ["Duration", "add_duration", "clock_step", "fixed_duration", "parse_duration"]

_EXAMPLES = "such as PT15M, PT60M, PT30S or P1D"
_LONGEST_YEARS = 1000  # no window, horizon or step is longer; date arithmetic past it overflows


@dataclass(frozen=True)
class Duration:
    """A positive ISO-8601 duration: whole calendar months and days, and a clock part (seconds honoured)."""

    text: str
    months: int
    days: int
    clock: timedelta

    @classmethod
    def parse(cls, text: str, *, allow_zero: bool = False) -> Duration:
        """``PT15M``, ``P1D``, ``P1Y``, ``PT30S``; ``ValueError`` naming the text for anything else.

        Zero is refused (a step of zero never advances) unless ``allow_zero``: offsets such as a publication delay
        or a horizon of ``PT0S`` are zero for actuals.
        """
        upper = text.strip().upper()
        date_part, separator, time_part = upper.partition("T")
        try:
            isodate.parse_duration(upper)  # validates the whole text
            calendar = isodate.parse_duration(date_part, as_timedelta_if_possible=False) if date_part != "P" else None
            clock = isodate.parse_duration(f"PT{time_part}") if separator else timedelta(0)
        except (isodate.ISO8601Error, ValueError, TypeError) as exc:
            raise ValueError(f"'{text}' is not an ISO-8601 duration {_EXAMPLES}") from exc
        except OverflowError as exc:  # P1000000000D: past what a timedelta holds (a billion days)
            raise ValueError(f"'{text[:40]}' is longer than any duration this platform uses") from exc
        if any(mark in date_part for mark in ".,") or upper.startswith("-"):
            raise ValueError(f"'{text}': years, months, weeks and days must be whole and positive ({_EXAMPLES})")
        months = int(calendar.years) * 12 + int(calendar.months) if calendar else 0
        days = calendar.tdelta.days if calendar else 0
        assert isinstance(clock, timedelta)  # noqa: S101 - a time-only duration is a timedelta in isodate
        if months > _LONGEST_YEARS * 12 or days + clock.days > _LONGEST_YEARS * 366:
            raise ValueError(f"'{text[:40]}' is longer than any duration this platform uses ({_LONGEST_YEARS} years)")
        duration = cls(upper, months, days, clock)
        if months == 0 and days == 0 and clock <= timedelta(0) and not (allow_zero and clock == timedelta(0)):
            raise ValueError(f"'{text}' is a zero duration; give a positive one {_EXAMPLES}")
        return duration

    def __str__(self) -> str:
        return self.text

    @property
    def is_calendar(self) -> bool:
        """Whether it counts months or years, which have no fixed length."""
        return self.months != 0

    def fixed(self) -> timedelta:
        """Its length with days as 24 hours (UTC grids); ``ValueError`` for months and years."""
        if self.months:
            raise ValueError(f"'{self.text}' is not a fixed duration (use PT15M, PT4H, P1D ...)")
        return timedelta(days=self.days) + self.clock

    def longest(self) -> timedelta:
        """An upper bound of its length: a month at 31 days, a year at 366 (window arithmetic)."""
        years, months = divmod(self.months, 12)
        return timedelta(days=366 * years + 31 * months + self.days) + self.clock

    def clock_step(self) -> timedelta | None:
        """Its length when it has no calendar part (``PT15M``), else None (a day or longer steps by the calendar)."""
        return None if self.months or self.days else self.clock

    def add_to(self, moment: datetime, times: int = 1, zone: ZoneInfo | None = None) -> datetime:
        """``moment + times * self``, in UTC.

        The clock part steps in UTC. Days, months and years are calendar steps: taken in ``zone`` when given, so a
        daily series follows local midnight across DST (a 23- or 25-hour day), else in UTC.
        """
        if not (self.months or self.days):
            return moment + self.clock * times
        local = moment.astimezone(zone) if zone else moment.astimezone(UTC)
        calendar = relativedelta(months=self.months * times, days=self.days * times)
        # Wall-clock arithmetic, then the zone again so that the result gets its own (possibly other) UTC offset.
        stepped = (local.replace(tzinfo=None) + calendar).replace(tzinfo=local.tzinfo if zone is None else zone)
        return stepped.astimezone(UTC) + self.clock * times


def parse_duration(text: str, *, allow_zero: bool = False) -> Duration:
    """``Duration.parse``."""
    return Duration.parse(text, allow_zero=allow_zero)


def fixed_duration(text: str, *, allow_zero: bool = False) -> timedelta:
    """A duration of fixed length: days count as 24 hours (UTC grids); months and years are refused (ValueError)."""
    return Duration.parse(text, allow_zero=allow_zero).fixed()


def clock_step(text: str) -> timedelta | None:
    """A resolution of fixed clock length (``PT15M`` → 15 minutes), or None for a day or longer (calendar steps)."""
    return Duration.parse(text).clock_step()


def add_duration(moment: datetime, duration: Duration, times: int = 1, zone: ZoneInfo | None = None) -> datetime:
    """``duration.add_to(moment, times, zone)``."""
    return duration.add_to(moment, times, zone)
