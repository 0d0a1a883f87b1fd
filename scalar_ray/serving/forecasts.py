"""Forecasts as the API serves them, read back from where the platform stored them.

The warehouse keeps every issue in its forecasts table, with the model version that made it; Redis keeps the newest
points of the forecast's series (``scalar/<family>/<zone>/<target>_q10|…|_mean``). ``Forecast`` is one issue of one
model in a wide table (target, ts, mean, q10, q50, q90) with its issue time. ``StoredForecasts`` finds the latest
issue in Redis, falls back to the warehouse when the cache has no complete issue, and finds the issue in force at an
earlier time in the warehouse (point in time: only issues made by then).
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
from scalar_ray.forecasting.issuing import forecast_series_id
from scalar_ray.serving.errors import ForecastNotFoundError, HorizonTooLongError
from scalar_ray.warehouse.base import Warehouse

__all__ = [
    "Forecast",
    "StoredForecasts",
    "forecast_from_observations",
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


def forecast_from_observations(
    spec: FamilySpec,
    zone: str,
    rows: pa.Table,
    source: str,
    units: dict[str, str] | None = None,
    model_version: str | None = None,
) -> Forecast:
    """Canonical forecast rows of one issue (series_id, ts, value, issued_at) as a wide ``Forecast``.

    Rows of other issues must have been removed; the issue time is the rows' ``issued_at``.
    """
    targets = [series.split("/")[-1] for series in spec.target_ids(zone)]
    columns = ["mean", *(quantile_column(q) for q in spec.quantiles)]
    by_series: dict[str, dict[datetime, float]] = {}
    issue_times: set[datetime] = set()
    data = rows.select(["series_id", "ts", "value", "issued_at"]).to_pydict()
    for series_id, ts, value, issued_at in zip(
        data["series_id"], data["ts"], data["value"], data["issued_at"], strict=True
    ):
        by_series.setdefault(series_id, {})[ts] = value
        issue_times.add(issued_at)
    if len(issue_times) != 1:
        raise ValueError(f"rows of {len(issue_times)} issues given, expected one")
    out: dict[str, list[object]] = {"target": [], "ts": [], **{name: [] for name in columns}}
    for target in targets:
        series = {
            name: by_series.get(forecast_series_id(spec.name, zone, target, q), {})
            for name, q in zip(columns, (None, *spec.quantiles), strict=True)
        }
        for ts in sorted(series["mean"]):
            if not all(ts in values for values in series.values()):
                continue  # an interval without all its quantiles is not a forecast to serve
            out["target"].append(target)
            out["ts"].append(ts)
            for name in columns:
                out[name].append(series[name][ts])
    schema = pa.schema(
        [("target", pa.string()), ("ts", pa.timestamp("us", tz="UTC"))] + [(name, pa.float64()) for name in columns]
    )
    table = pa.table(out, schema=schema)
    return Forecast(
        spec.name, zone, issue_times.pop(), source, spec.resolution, spec.quantiles, table, units or {}, model_version
    )


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
    return Forecast(
        spec.name, zone, issue_times.pop(), source, spec.resolution, spec.quantiles, table, units or {}, versions.pop()
    )


def _series_ids(spec: FamilySpec, zone: str) -> list[str]:
    return [
        forecast_series_id(spec.name, zone, series.split("/")[-1], quantile)
        for series in spec.target_ids(zone)
        for quantile in (None, *spec.quantiles)
    ]


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

        An issue never changes once stored (ingestion merges it into Redis in one script call), so the newest one is
        kept per model and served again while Redis names the same issue time for its last interval: one Redis
        round trip per request instead of reading and converting every point.
        """
        if self.cache is not None:
            held = self._newest.get((spec.name, zone))
            probe = _series_ids(spec, zone)[0]
            last = self.cache.recent_many([probe], 1).get(probe)
            if held is not None and last and last[-1].issued_at == held.issue_time:
                return held
            cached = self._from_cache(spec, zone)
            if cached is not None:
                self._newest[(spec.name, zone)] = cached
                return cached
        return self.as_of(spec, zone, now, source="warehouse")

    def as_of(self, spec: FamilySpec, zone: str, moment: datetime, source: str = "warehouse") -> Forecast:
        """The issue in force at ``moment``: the newest one issued at or before it, from the forecasts table."""
        rows = self.warehouse.latest_forecast(spec.name, zone, moment, self.lookback)
        if rows.num_rows == 0:
            since = f"{moment - self.lookback:%Y-%m-%dT%H:%MZ}"
            raise ForecastNotFoundError(spec.name, zone, f"no forecast issued from {since} to {moment:%Y-%m-%dT%H:%MZ}")
        return forecast_from_rows(spec, zone, rows, source, self._units(spec, zone))

    def _from_cache(self, spec: FamilySpec, zone: str) -> Forecast | None:
        """The newest issue if Redis holds all of it (every series, every interval), else None."""
        if self.cache is None:
            return None
        series = _series_ids(spec, zone)
        points = self.cache.recent_many(series, spec.horizon_steps)
        if len(points) != len(series) or not all(points.values()):
            return None
        newest = max(point.issued_at for held in points.values() for point in held)
        ids, ts, values, issued = [], [], [], []
        for series_id, held in points.items():
            for point in held:
                if point.issued_at == newest:
                    ids.append(series_id)
                    ts.append(point.ts)
                    values.append(point.value)
                    issued.append(point.issued_at)
        if len(ids) != len(series) * spec.horizon_steps:
            return None  # the issue is not complete in the cache (trimmed, or still arriving): the warehouse has it
        rows = pa.table({"series_id": ids, "ts": ts, "value": values, "issued_at": issued})
        return forecast_from_observations(spec, zone, rows, "cache", self._units(spec, zone))

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
