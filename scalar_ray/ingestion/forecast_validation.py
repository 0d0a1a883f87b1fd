"""Checks a forecast message must pass before its issue reaches the forecasts table (pure; no I/O).

Like an observation window, a forecast issue is accepted or rejected whole and a rejected one is dead-lettered with
its reasons. A forecast's rows must all be the issue the message names (family, zone, model version, issue time),
forecast a target the family has in that zone, fall inside the message's window, carry finite numbers, and keep
their quantiles in order (the 10 % quantile never above the 90 % one); a key may appear once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.broker.envelope import ForecastEnvelope
from scalar_ray.core.forecasts import FORECAST_KEY, QUANTILE_LEVELS, quantile_column

__all__ = ["ForecastVerdict", "validate_forecast"]

_QUANTILES = tuple(quantile_column(level) for level in QUANTILE_LEVELS)
_ISSUED_AHEAD = timedelta(hours=1)
_MAX_REASONS = 5


@dataclass(frozen=True)
class ForecastVerdict:
    """The rows to write when ``accepted``, else the reasons for the dead-letter entry."""

    forecasts: pa.Table
    reasons: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        """No check failed."""
        return not self.reasons


def validate_forecast(envelope: ForecastEnvelope, targets: Collection[str], now: datetime) -> ForecastVerdict:
    """Check one decoded forecast message; ``targets`` are the series ids the family forecasts in the zone."""
    table = envelope.forecasts
    if table.num_rows == 0:
        return ForecastVerdict(table, ("the forecast has no rows",))
    reasons = [*_one_issue(envelope), *_known_targets(table, targets), *_inside_window(envelope)]
    reasons += _finite(table) + _ordered_quantiles(table)
    if envelope.issue_time > now + _ISSUED_AHEAD:
        reasons.append(f"issue_time {envelope.issue_time.isoformat()} lies in the future")
    keys = table.group_by(list(FORECAST_KEY)).aggregate([]).num_rows
    if keys != table.num_rows:
        reasons.append(f"{table.num_rows - keys} row(s) repeat a key (family, zone, target, issued_at, ts)")
    return ForecastVerdict(table, tuple(reasons[:_MAX_REASONS]))


def _one_issue(envelope: ForecastEnvelope) -> list[str]:
    table = envelope.forecasts
    expected = {
        "family": envelope.family,
        "zone": envelope.zone,
        "model_version": envelope.model_version,
        "issued_at": envelope.issue_time,
    }
    reasons = []
    for column, value in expected.items():
        others = [found for found in pc.unique(table[column]).to_pylist() if found != value]
        if others:
            reasons.append(f"rows claim {column} {others[0]!s}, the message says {value!s}")
    return reasons


def _known_targets(table: pa.Table, targets: Collection[str]) -> list[str]:
    unknown = sorted(set(pc.unique(table["target"]).to_pylist()) - set(targets))
    return [f"{unknown[0]} is not a target of this family and zone"] if unknown else []


def _inside_window(envelope: ForecastEnvelope) -> list[str]:
    table = envelope.forecasts
    earliest, latest = pc.min(table["ts"]).as_py(), pc.max(table["ts"]).as_py()
    if earliest < envelope.window.start or latest >= envelope.window.end:
        return [f"timestamps {earliest.isoformat()}..{latest.isoformat()} fall outside the window {envelope.window}"]
    return []


def _finite(table: pa.Table) -> list[str]:
    # Quantile columns the family does not forecast are null; a null is not a number to check.
    bad = sum(pc.sum(pc.invert(pc.is_finite(table[name]))).as_py() or 0 for name in ("mean", *_QUANTILES))
    return [f"{bad} value(s) are NaN or infinite"] if bad else []


def _ordered_quantiles(table: pa.Table) -> list[str]:
    crossed = 0
    previous = None
    for name in _QUANTILES:
        column = table[name]
        if previous is not None:
            # Compared only where both levels are forecast: a null on either side is no crossing.
            crossed += pc.sum(pc.fill_null(pc.less(column, previous), False)).as_py() or 0
        previous = pc.coalesce(column, previous) if previous is not None else column
    return [f"{crossed} quantile value(s) lie below a lower level's"] if crossed else []
