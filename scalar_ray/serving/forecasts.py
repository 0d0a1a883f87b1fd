"""Forecasts as the API serves them, read back from where the platform stored them.

The warehouse keeps every issue in its forecasts table, with the model version that made it; Redis keeps each
model's newest issue as the same rows. ``Forecast`` is one issue of one model in a wide table (target, ts, mean, q10,
q50, q90) with its issue time. ``StoredForecasts`` finds the latest issue in Redis, falls back to the warehouse when
the cache has none, and finds the issue in force at an earlier time in the warehouse (point in time: only issues
made by then).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.cache.base import Cache
from scalar_ray.core.forecasts import quantile_column
from scalar_ray.forecasting.families import FamilySpec
from scalar_ray.serving.errors import ForecastNotFoundError, HorizonTooLongError
from scalar_ray.warehouse.base import Warehouse

__all__ = [
    "Forecast",
    "StoredForecasts",
    "forecast_from_rows",
    "horizon_steps",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Forecast:
    """One issue of one family x zone model: per target and interval the mean and the quantiles."""

    family: str
    zone: str
    issue_time: datetime
    source: str  # "cache", "warehouse" or "model" (predicted on request)
    resolution: str
    quantiles: tuple[float, ...]
    table: pa.Table  # target (string), ts (timestamp UTC), mean, q10, q50, q90 … (float64), ordered by target, ts
    units: dict[str, str] = field(default_factory=dict)
    model_version: str | None = None
    # The baseline that issued it instead of the version's model (an input check failed), and why; None otherwise.
    fallback: str | None = None
    fallback_reason: str | None = None

    @property
    def model_id(self) -> str:
        """``dk_demand/DK1``."""
        return f"{self.family}/{self.zone}"

    @property
    def steps(self) -> int:
        """Intervals per target."""
        targets = len(set(self.table["target"].to_pylist())) or 1
        rows: int = self.table.num_rows
        return rows // targets

    def head(self, steps: int | None) -> Forecast:
        """The first ``steps`` intervals of every target (all of them for None)."""
        if steps is None or steps >= self.steps:
            return self
        parts = []
        for target in dict.fromkeys(self.table["target"].to_pylist()):
            rows = self.table.filter(pc.equal(self.table["target"], target))
            parts.append(rows.slice(0, steps))
        return _replace_table(self, pa.concat_tables(parts))


def _replace_table(forecast: Forecast, table: pa.Table) -> Forecast:
    return Forecast(
        forecast.family,
        forecast.zone,
        forecast.issue_time,
        forecast.source,
        forecast.resolution,
        forecast.quantiles,
        table,
        forecast.units,
        forecast.model_version,
    )


def horizon_steps(spec: FamilySpec, horizon: timedelta | None) -> int | None:
    """Intervals covering ``horizon`` (None: the model's whole horizon); ``HorizonTooLongError`` beyond it."""
    if horizon is None:
        return None
    if horizon <= timedelta(0):
        raise HorizonTooLongError(spec.name, f"the horizon must be positive, got {horizon}", spec.horizon)
    steps = -(-horizon // spec.step)  # ceiling: a partial interval is still delivered whole
    if steps > spec.horizon_steps:
        raise HorizonTooLongError(spec.name, f"{horizon} is beyond the model's horizon of {spec.horizon}", spec.horizon)
    return steps


def forecast_from_rows(
    spec: FamilySpec, zone: str, rows: pa.Table, source: str, units: dict[str, str] | None = None
) -> Forecast:
    """Forecasts-table rows of one issue as a wide ``Forecast`` (targets by variable name, the model's quantiles)."""
    issue_times = set(rows["issued_at"].to_pylist())
    versions = set(rows["model_version"].to_pylist())
    if len(issue_times) != 1 or len(versions) != 1:
        raise ValueError(f"rows of {len(issue_times)} issues and {len(versions)} versions given, expected one each")
    order = {target: index for index, target in enumerate(spec.target_ids(zone))}
    chosen = rows.filter(pc.is_in(rows["target"], pa.array(list(order))))
    names = ["mean", *(quantile_column(q) for q in spec.quantiles)]
    valid = pc.is_valid(chosen["mean"])
    for name in names[1:]:
        valid = pc.and_(valid, pc.is_valid(chosen[name]))  # an interval without all its quantiles is not served
    complete = chosen.filter(valid)
    ranked = complete.append_column("_order", pa.array([order[t] for t in complete["target"].to_pylist()], pa.int64()))
    ranked = ranked.sort_by([("_order", "ascending"), ("ts", "ascending")])
    table = pa.table(
        {
            "target": pa.array([target.rsplit("/", 1)[-1] for target in ranked["target"].to_pylist()], pa.string()),
            "ts": ranked["ts"],
            **{name: ranked[name] for name in names},
        }
    )
    fallback, reason = _fallback(rows)
    return Forecast(
        spec.name,
        zone,
        issue_times.pop(),
        source,
        spec.resolution,
        spec.quantiles,
        table,
        units or {},
        versions.pop(),
        fallback,
        reason,
    )


def _fallback(rows: pa.Table) -> tuple[str | None, str | None]:
    """The issue's fallback (one per issue: every row says it); none in rows cached before the column existed."""
    if "fallback" not in rows.column_names or rows.num_rows == 0:
        return None, None
    return rows["fallback"][0].as_py(), rows["fallback_reason"][0].as_py()


@dataclass
class StoredForecasts:
    """The latest issue (Redis first, then the warehouse) and the issue in force at an earlier time."""

    warehouse: Warehouse
    cache: Cache | None
    lookback: timedelta = timedelta(days=7)
    _known_units: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict, repr=False)
    _newest: dict[tuple[str, str], Forecast] = field(default_factory=dict, repr=False)

    def latest(self, spec: FamilySpec, zone: str, now: datetime) -> Forecast:
        """The newest issue; ``ForecastNotFoundError`` when none was issued within the look-back.

        An issue never changes once stored, so the newest one is kept per model, converted, and served again while
        Redis names the same issue time: one small Redis read per request instead of reading and converting rows.
        """
        if self.cache is not None:
            key = (spec.name, zone)
            issued_at = self.cache.latest_issue_time(spec.name, zone)
            if issued_at is not None and issued_at >= now - self.lookback:
                held = self._newest.get(key)
                if held is not None and held.issue_time == issued_at:
                    return held
                rows = self.cache.latest_forecast(spec.name, zone)
                if rows is not None and rows.num_rows:
                    cached = forecast_from_rows(spec, zone, rows, "cache", self._units(spec, zone))
                    self._newest[key] = cached
                    return cached
        return self.as_of(spec, zone, now, source="warehouse")

    def as_of(self, spec: FamilySpec, zone: str, moment: datetime, source: str = "warehouse") -> Forecast:
        """The issue in force at ``moment``: the newest one issued at or before it, from the forecasts table."""
        rows = self.warehouse.latest_forecast(spec.name, zone, moment, self.lookback)
        if rows.num_rows == 0:
            since = f"{moment - self.lookback:%Y-%m-%dT%H:%MZ}"
            raise ForecastNotFoundError(spec.name, zone, f"no forecast issued from {since} to {moment:%Y-%m-%dT%H:%MZ}")
        return forecast_from_rows(spec, zone, rows, source, self._units(spec, zone))

    def _units(self, spec: FamilySpec, zone: str) -> dict[str, str]:
        # Units are the stored forecast series' own (the target's), which do not change while the API runs: read once.
        key = (spec.name, zone)
        if key not in self._known_units:
            units = {}
            for series in spec.target_ids(zone):
                metadata = self.warehouse.series_metadata(series) or {}  # the forecast's unit is its target's
                units[series.split("/")[-1]] = metadata.get("unit", "")
            if all(units.values()):
                self._known_units[key] = units
            return units
        return self._known_units[key]
