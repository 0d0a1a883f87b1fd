"""The half-open UTC window every fetch, read and forecast is asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Window"]


@dataclass(frozen=True)
class Window:
    """A half-open UTC time window ``[start, end)``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end.isoformat()} is not after its start {self.start.isoformat()}")

    def __str__(self) -> str:
        return f"{_iso(self.start)}/{_iso(self.end)}"

    def split(self, step: timedelta) -> list[Window]:
        """Consecutive windows of at most ``step`` covering this one."""
        pieces, cursor = [], self.start
        while cursor < self.end:
            upper = min(cursor + step, self.end)
            pieces.append(Window(cursor, upper))
            cursor = upper
        return pieces


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
