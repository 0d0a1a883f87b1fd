"""Buckets and hour filters in a market's local time, DST-correct.

A bucket is ``[edge, next edge)`` in UTC. Clock frequencies (``PT5M`` … ``PT1H``) divide an hour and step in UTC,
which is stepping in local time in every European zone (their offsets are whole hours). Calendar frequencies
(``P1D``, ``P1W``, ``P1M``, ``P3M``, ``P1Y``) start at local midnight of a local day, Monday, the first of a month,
quarter or year, and step by the calendar in the zone: a Copenhagen day is 23 hours on the last Sunday of March and
25 on the last Sunday of October. Counting the native intervals between two edges is how a 23- or 25-hour day shows
as 92 or 100 quarter-hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.core.durations import Duration
from scalar_ray.core.errors import ReadRequestError
from scalar_ray.core.window import Window

__all__ = [
    "HOURS",
    "MAX_BUCKETS",
    "Frequency",
    "HoursDefinition",
    "bucket_edges",
    "bucket_index",
    "in_hours",
]

MAX_BUCKETS = 2_000_000  # a year of minutes and more: past it a request is refused, never built
_CLOCK_STEPS = {timedelta(minutes=m) for m in (1, 5, 10, 15, 30, 60)}
_CALENDAR = {"P1D": (0, 1), "P1W": (0, 7), "P1M": (1, 0), "P3M": (3, 0), "P1Y": (12, 0)}


@dataclass(frozen=True)
class Frequency:
    """An output frequency: a clock step that divides an hour, or a calendar period of the zone."""

    duration: Duration

    @classmethod
    def parse(cls, text: str) -> Frequency:
        """``PT15M``, ``PT1H``, ``P1D``, ``P1W``, ``P1M``, ``P3M``, ``P1Y``; ``ReadRequestError`` for anything else."""
        try:
            duration = Duration.parse(text)
        except ValueError as exc:
            raise ReadRequestError("frequency", str(exc)) from exc
        step = duration.clock_step()
        if step is not None and step in _CLOCK_STEPS:
            return cls(duration)
        if step is None and not duration.clock and (duration.months, duration.days) in _CALENDAR.values():
            return cls(duration)
        raise ReadRequestError(
            "frequency", f"'{text}' is not an output frequency: PT1M, PT5M, PT10M, PT15M, PT30M, PT1H, {_calendar()}"
        )

    @property
    def text(self) -> str:
        """The ISO-8601 text (``PT1H``)."""
        return self.duration.text

    def first_edge(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The start of the bucket holding ``moment``."""
        step = self.duration.clock_step()
        if step is not None:
            steps = int(moment.timestamp() * 1_000_000) // int(step / timedelta(microseconds=1))
            return datetime.fromtimestamp(0, moment.tzinfo) + steps * step
        local = moment.astimezone(zone)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        if self.duration.days == 7:  # noqa: PLR2004 - a week: back to Monday
            day -= timedelta(days=day.weekday())
        elif self.duration.months:  # a month, quarter or year: back to its first day
            months = self.duration.months
            day = day.replace(month=(day.month - 1) // months * months + 1, day=1)
        return day.replace(tzinfo=zone).astimezone(moment.tzinfo)


def _calendar() -> str:
    return ", ".join(_CALENDAR)


def bucket_edges(window: Window, frequency: Frequency, zone: ZoneInfo) -> list[datetime]:
    """The bucket edges covering ``window``: the first at or before its start, the last at or after its end."""
    first = frequency.first_edge(window.start, zone)
    step = frequency.duration.clock_step()
    if step is not None and (window.end - first) / step > MAX_BUCKETS:
        raise ReadRequestError("frequency", f"{frequency.text} over {window} makes more than {MAX_BUCKETS} buckets")
    edges, index = [first], 1
    while edges[-1] < window.end:
        edges.append(frequency.duration.add_to(first, index, zone))
        index += 1
        if index > MAX_BUCKETS:
            raise ReadRequestError("frequency", f"{frequency.text} over {window} makes more than {MAX_BUCKETS} buckets")
    return edges


def bucket_index(ts: pa.ChunkedArray | pa.Array, edges: list[datetime]) -> np.ndarray:
    """For each UTC timestamp, the index of the bucket ``[edges[i], edges[i + 1])`` holding it."""
    stamps = ts.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
    bounds = np.array([int(edge.timestamp() * 1_000_000) for edge in edges], dtype=np.int64)
    index: np.ndarray = np.searchsorted(bounds, stamps, side="right") - 1
    return index


HoursName = Literal["base", "peak", "offpeak"]


@dataclass(frozen=True)
class HoursDefinition:
    """Which intervals an hour filter keeps, stated with every answer that used it."""

    name: HoursName
    description: str


HOURS: dict[str, HoursDefinition] = {
    "base": HoursDefinition("base", "every interval"),
    # EEX's Peak and Off-Peak load products; public holidays are not excluded (as in the exchanges' products).
    "peak": HoursDefinition("peak", "intervals starting 08:00-20:00 local time, Monday to Friday (EEX Peak)"),
    "offpeak": HoursDefinition("offpeak", "every interval outside peak: 20:00-08:00 local and all weekend"),
}


def in_hours(ts: pa.ChunkedArray | pa.Array, hours: HoursDefinition, zone: ZoneInfo) -> pa.Array:
    """A mask: whether each interval (by its UTC start) lies in ``hours`` in ``zone``."""
    if hours.name == "base":
        return pa.array(np.ones(len(ts), dtype=bool))
    local = ts.cast(pa.timestamp("us", tz=zone.key))
    hour, weekday = pc.hour(local), pc.day_of_week(local)  # local fields: the type carries the zone
    peak = pc.and_(pc.less(weekday, 5), pc.and_(pc.greater_equal(hour, 8), pc.less(hour, 20)))
    mask = peak if hours.name == "peak" else pc.invert(peak)
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask
