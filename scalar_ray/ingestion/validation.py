"""Checks a fetched window must pass before it reaches the warehouse (pure; no I/O).

A message is accepted or rejected whole: a window with one impossible value is suspect throughout, and a rejected
message goes to the dead-letter topic intact, with the reasons, so nothing is lost and it can be replayed once fixed.
Exact duplicate rows are dropped silently (a provider repeating itself); the same key with two values is a rejection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.broker.envelope import Envelope
from scalar_ray.core.durations import clock_step
from scalar_ray.core.observations import KEY, keys_strictly_increasing, unique_keys

__all__ = ["VALUE_RANGES", "Verdict", "validate_envelope"]

# Plausible bounds per unit, far outside anything a market has printed (the harmonised SDAC price limits are
# -500..4000 EUR/MWh; imbalance prices have touched ±15,000 EUR/MWh; the largest bidding zone loads are ~80 GW).
# A value outside them is a unit or parsing error, not news.
VALUE_RANGES: dict[str, tuple[float, float]] = {
    "EUR/MWh": (-50_000.0, 50_000.0),
    "DKK/MWh": (-400_000.0, 400_000.0),
    "NOK/MWh": (-600_000.0, 600_000.0),
    "SEK/MWh": (-600_000.0, 600_000.0),
    "MW": (-500_000.0, 500_000.0),
    "MWh": (-500_000.0, 500_000.0),
    "%": (-1.0, 101.0),
}
# How far in the future a vintage may claim to be issued: clocks drift, providers stamp ahead a little.
_ISSUED_AHEAD = timedelta(hours=1)
_MAX_REASONS = 5
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Verdict:
    """The rows to write (deduplicated) when ``accepted``, else the reasons for the dead-letter entry."""

    observations: pa.Table
    reasons: tuple[str, ...]
    duplicates_dropped: int = 0

    @property
    def accepted(self) -> bool:
        """No check failed."""
        return not self.reasons


def validate_envelope(envelope: Envelope, now: datetime) -> Verdict:
    """Check provenance, ranges, the resolution grid, the window and duplicates of one decoded message."""
    table = envelope.observations
    reasons: list[str] = []
    reasons += _provenance(envelope)
    reasons += _finite_and_in_range(table)
    reasons += _on_grid(table)
    reasons += _inside_window(envelope)
    reasons += _issued_in_past(table, now)
    deduplicated, dropped, conflicts = _deduplicate(table)
    if conflicts:
        reasons.append(f"{conflicts} key(s) (series_id, ts, issued_at) carry two different values")
    return Verdict(deduplicated, tuple(reasons[:_MAX_REASONS]), dropped)


def _provenance(envelope: Envelope) -> list[str]:
    table = envelope.observations
    reasons = []
    for column, expected in (("provider", envelope.provider), ("dataset", envelope.dataset)):
        if pc.all(pc.equal(table[column], expected)).as_py() is not False:
            continue  # every row agrees (or there are none): the usual case, without collecting distinct values
        others = {value for value in pc.unique(table[column]).to_pylist() if value != expected}
        if others:
            reasons.append(f"rows claim {column} {sorted(others)[0]!r}, the message says {expected!r}")
    return reasons


def _finite_and_in_range(table: pa.Table) -> list[str]:
    reasons = []
    values = table["value"]
    not_finite = pc.sum(pc.invert(pc.is_finite(values))).as_py() or 0
    if not_finite:
        reasons.append(f"{not_finite} value(s) are NaN or infinite")
    units = pc.unique(table["unit"]).to_pylist()
    for unit in units:
        bounds = VALUE_RANGES.get(unit)
        if bounds is None:
            continue
        low, high = bounds
        outside_mask = pc.or_(pc.less(values, low), pc.greater(values, high))
        if len(units) > 1:  # a window usually has one unit: then no mask of it
            outside_mask = pc.and_(outside_mask, pc.equal(table["unit"], unit))
        if pc.any(outside_mask).as_py():
            outside = table.filter(outside_mask)
            first = outside.slice(0, 1).to_pylist()[0]
            reasons.append(
                f"{outside.num_rows} {unit} value(s) outside [{low:g}, {high:g}], e.g. {first['value']!r} "
                f"for {first['series_id']} at {first['ts'].isoformat()}"
            )
    return reasons


def _on_grid(table: pa.Table) -> list[str]:
    """Interval starts of sub-daily series must sit on their resolution's grid (UTC, whole minutes)."""
    reasons = []
    resolutions = pc.unique(table["resolution"]).to_pylist()
    starts = pc.cast(table["ts"], pa.int64())
    for resolution in resolutions:
        step = _grid_step_us(resolution)
        if step is None:
            continue  # daily and longer grids follow local market days; nothing to check in UTC
        # A window usually has one resolution: its interval starts are then checked without filtering.
        micros = starts if len(resolutions) == 1 else starts.filter(pc.equal(table["resolution"], resolution))
        off_grid = pc.sum(pc.not_equal(pc.subtract(micros, pc.multiply(pc.divide(micros, step), step)), 0)).as_py()
        if off_grid:
            reasons.append(f"{off_grid} {resolution} timestamp(s) are not on the {resolution} grid")
    return reasons


def _grid_step_us(resolution: str) -> int | None:
    try:
        step = clock_step(resolution)
    except ValueError:
        return None
    # Only grids that divide an hour are anchored to UTC hours in every time zone the platform covers.
    if step is None or step > _HOUR or _HOUR % step:
        return None
    return step // timedelta(microseconds=1)


def _inside_window(envelope: Envelope) -> list[str]:
    table = envelope.observations
    if table.num_rows == 0:
        return []
    earliest, latest = pc.min(table["ts"]).as_py(), pc.max(table["ts"]).as_py()
    if earliest < envelope.window.start or latest >= envelope.window.end:
        return [f"timestamps {earliest.isoformat()}..{latest.isoformat()} fall outside the window {envelope.window}"]
    return []


def _issued_in_past(table: pa.Table, now: datetime) -> list[str]:
    if table.num_rows == 0:
        return []
    latest = pc.max(table["issued_at"]).as_py()
    if latest > now + _ISSUED_AHEAD:
        return [f"issued_at {latest.isoformat()} lies in the future"]
    return []


def _deduplicate(table: pa.Table) -> tuple[pa.Table, int, int]:
    """The table without exact duplicate rows; how many were dropped; how many keys have conflicting values."""
    if keys_strictly_increasing(table):
        return table, 0, 0  # a parser's sorted window: no key can repeat
    per_key = table.group_by(list(KEY)).aggregate([("value", "count_distinct")])
    conflicts = pc.sum(pc.greater(per_key["value_count_distinct"], 1)).as_py() or 0
    if per_key.num_rows == table.num_rows:
        return table, 0, conflicts
    kept = unique_keys(table, "first")
    return kept, table.num_rows - kept.num_rows, conflicts
