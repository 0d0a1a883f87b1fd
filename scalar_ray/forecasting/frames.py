"""Point-in-time training and prediction frames from the warehouse.

A frame built at issue time ``T`` holds only what was known at ``T``, and each historical row only what was known
when a forecast for it would have been made:

- targets and past covariates (actuals): each interval's value as first published — the latest vintage issued
  within the dataset's publication delay, else its earliest (what a backfill stored) — and only intervals whose value
  was out by ``T``;
- known covariates (forecasts, day-ahead prices) in the history: the vintage issued at least the family's lead
  before the interval, never a later revision or the actual; for the horizon after ``T``: the latest vintage issued
  by ``T``;
- calendar covariates (hour, weekday, the zone's public holidays) computed in the market's local time.

Everything is on the family's UTC grid; AutoGluon takes timezone-naive timestamps, so they are UTC with the zone
dropped. Checks raise ``ForecastDataError`` naming the model: no data, too little history, too many gaps, a required
covariate that does not exist.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import holidays
import numpy as np
import pandas as pd
import pyarrow as pa

from scalar_ray.core.areas import area_by_code
from scalar_ray.core.durations import fixed_duration
from scalar_ray.core.errors import ForecastDataError
from scalar_ray.core.utc import floor_to
from scalar_ray.core.window import Window
from scalar_ray.forecasting.families import CovariateRef, FamilySpec
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.warehouse.base import Warehouse

__all__ = [
    "CALENDAR_COLUMNS",
    "ModelFrame",
    "baseline_history",
    "build_frame",
    "calendar_features",
    "column_name",
    "publication_lag",
    "to_autogluon",
]

CALENDAR_COLUMNS = ("hour_sin", "hour_cos", "weekday", "is_weekend", "is_holiday")
# Above this share of a known covariate's horizon filled from the day before, the frame says so in its notes.
_MAX_FILLED_FUTURE = 0.5
# Below this share of a known covariate's history issued a full lead ahead, the notes say so.
_MIN_LEAD_COVERAGE = 0.5


@dataclass
class ModelFrame:
    """What one model trains and predicts on."""

    family: str
    zone: str
    issue_time: datetime
    # Long format: item_id (target variable), timestamp (naive UTC), target, covariate columns; up to ``last_ts``.
    data: pd.DataFrame
    # Known covariates for the horizon after ``last_ts``: item_id, timestamp, known columns.
    future_known: pd.DataFrame
    known_names: list[str]
    past_names: list[str]
    last_ts: datetime
    notes: list[str] = field(default_factory=list)
    # What the input checks need from before the gaps were filled: the targets' history span (every target has data
    # in it), and per target the share of the recent window's intervals that were observed.
    span: timedelta = timedelta(0)
    recent_observed: dict[str, float] = field(default_factory=dict)
    # Per known covariate (series id): the newest vintage issued by the issue time (None: none in the history), and
    # the horizon's values as issued, NaN where nothing was (``future_known`` has those gaps filled).
    known_newest_issue: dict[str, datetime | None] = field(default_factory=dict)
    known_issued_ahead: dict[str, pd.Series] = field(default_factory=dict)

    @property
    def first_ts(self) -> datetime:
        """Start of the history used."""
        return _aware(self.data["timestamp"].min())

    @property
    def rows(self) -> int:
        """Rows of history (all items)."""
        return len(self.data)

    def horizon_window(self, spec: FamilySpec) -> Window:
        """The intervals a forecast from this frame covers: the horizon after the last known target."""
        start = self.last_ts + spec.step
        return Window(start, start + spec.step * spec.horizon_steps)


def to_autogluon(frame: pd.DataFrame) -> Any:
    """A long frame (item_id, timestamp, ...) as AutoGluon's TimeSeriesDataFrame (imported only where used)."""
    from autogluon.timeseries import TimeSeriesDataFrame  # noqa: PLC0415 - seconds to import

    return TimeSeriesDataFrame.from_data_frame(frame, id_column="item_id", timestamp_column="timestamp")


def column_name(series_id: str, zone: str) -> str:
    """``entsoe/A44/DK1/price`` → ``entsoe_A44_price`` (the zone is the model's).

    A border of the zone is named by its other side: ``entsoe/A11/DK1>SE3/physical_flow`` →
    ``entsoe_A11_physical_flow_to_SE3``.
    """
    provider, dataset, area, variable = series_id.split("/")
    if area == zone:
        side = ""
    elif area.startswith(f"{zone}>"):
        side = f"_to_{area.split('>', 1)[1]}"
    elif area.endswith(f">{zone}"):
        side = f"_from_{area.split('>', 1)[0]}"
    else:
        side = f"_{area}"
    return f"{provider}_{dataset}_{variable}{side}".replace("-", "_").replace(">", "_")


def baseline_history(spec: FamilySpec) -> timedelta:
    """The least history the baseline trains and backtests on (``min_history`` where that is less).

    The backtest windows, and before them two seasons or three horizons: what training asks for.
    """
    backtest = spec.step * spec.horizon_steps + spec.backtest_step * (spec.backtest.windows - 1)
    before = spec.step * max(2 * spec.season_steps, 3 * spec.horizon_steps)
    return min(_as_timedelta(spec.min_history), backtest + before)


@cache
def publication_lag(series_id: str) -> timedelta:
    """How long after an interval ends its first value is normally out: the catalogue's delay for actuals, 0 else."""
    provider, dataset, _, _ = series_id.split("/")
    lags = [
        _as_timedelta(spec.publication_delay)
        for spec in load_catalogue()
        if spec.provider == provider and spec.key == dataset and _as_timedelta(spec.horizon) == timedelta(0)
    ]
    return max(lags, default=timedelta(0))


def build_frame(warehouse: Warehouse, spec: FamilySpec, zone: str, issue_time: datetime) -> ModelFrame:
    """The frame for ``spec`` in ``zone`` as known at ``issue_time``; ``ForecastDataError`` if it cannot be built."""
    step = spec.step
    start = floor_to(issue_time - _as_timedelta(spec.history), step)
    # Reaching past the issue time: a target published ahead (day-ahead prices) is known there; what counts is
    # when a value was issued, which the reads check.
    ahead = max(_as_timedelta(spec.horizon), timedelta(days=2))
    history = Window(start, floor_to(issue_time, step) + step + ahead)
    builder = _FrameBuilder(warehouse, spec, zone, issue_time)
    targets = builder.targets(history)
    for ref in spec.known_covariates:
        for series in builder.expand(ref):
            builder.add_known(ref, series)
    for ref in spec.past_covariates:
        for series in builder.expand(ref):
            builder.add_past(ref, series, history)
    builder.add_calendar()
    return ModelFrame(
        family=spec.name,
        zone=zone,
        issue_time=issue_time,
        data=_long(builder.data, targets, [*builder.known_names, *builder.past_names]),
        future_known=_long(builder.future_known, targets, builder.known_names, target=False),
        known_names=builder.known_names,
        past_names=builder.past_names,
        last_ts=builder.grid[-1].to_pydatetime(),
        notes=builder.notes,
        span=builder.span,
        recent_observed=builder.recent_observed,
        known_newest_issue=builder.known_newest_issue,
        known_issued_ahead=builder.known_issued_ahead,
    )


class _FrameBuilder:
    """The wide frames (history grid, horizon grid) filled column by column."""

    def __init__(self, warehouse: Warehouse, spec: FamilySpec, zone: str, issue_time: datetime) -> None:
        self.warehouse, self.spec, self.zone, self.issue_time = warehouse, spec, zone, issue_time
        self.notes: list[str] = []
        self.span = timedelta(0)
        self.recent_observed: dict[str, float] = {}
        self.known_newest_issue: dict[str, datetime | None] = {}
        self.known_issued_ahead: dict[str, pd.Series] = {}
        self.known_names: list[str] = []
        self.past_names: list[str] = []
        self.grid = pd.DatetimeIndex([])
        self.future = pd.DatetimeIndex([])
        self.data = pd.DataFrame()
        self.future_known = pd.DataFrame()

    def targets(self, history: Window) -> list[str]:
        """Read and check the targets; set the grid (first to last interval every target has) and the horizon."""
        spec, zone, step = self.spec, self.zone, self.spec.step
        values = {
            series: _actuals(self.warehouse, series, history, self.issue_time, step) for series in spec.target_ids(zone)
        }
        empty = [series for series, found in values.items() if found.empty]
        if empty:
            raise ForecastDataError(
                spec.name, zone, f"no data for {', '.join(empty)} in {history} (is the zone acquired and ingested?)"
            )
        first_ts = max(found.index.min() for found in values.values())
        last_ts = min(found.index.max() for found in values.values())  # one forecast start for the whole model
        span, floor = last_ts + step - first_ts, baseline_history(spec)
        if span < floor:  # below min_history but above this floor, the input checks let the baseline serve
            raise ForecastDataError(
                spec.name, zone, f"too little history: {_days(span)} of data, even the baseline needs {_days(floor)}"
            )
        self.span = span
        self.grid = pd.date_range(first_ts, last_ts, freq=step)
        self.future = pd.date_range(last_ts + step, periods=spec.horizon_steps, freq=step)
        self.data = pd.DataFrame(index=self.grid)
        self.future_known = pd.DataFrame(index=self.future)
        recent_start = last_ts + step - _as_timedelta(spec.checks.recent)
        for series, found in values.items():
            on_grid = found.reindex(self.grid)
            self.recent_observed[series] = float(on_grid[on_grid.index >= recent_start].notna().mean())
            missing = float(on_grid.isna().mean())
            if missing > spec.max_missing:
                raise ForecastDataError(
                    spec.name,
                    zone,
                    f"gaps: {missing:.0%} of {series} is missing on the {spec.resolution} grid from "
                    f"{first_ts:%Y-%m-%d %H:%M} to {last_ts:%Y-%m-%d %H:%M} (at most {spec.max_missing:.0%} is filled)",
                )
            if missing:
                self.notes.append(f"{series}: {missing:.1%} missing, interpolated")
            self.data[series] = on_grid.interpolate(limit_direction="both")
        return list(values)

    def expand(self, ref: CovariateRef) -> list[str]:
        """The covariate's series for this zone (several for a ``*`` template); none is a missing covariate."""
        series = ref.series_ids(self.zone)
        if not series:
            self._missing(ref, ref.series_id(self.zone))
        return series

    def add_known(self, ref: CovariateRef, series: str) -> None:
        """History as issued ``lead`` ahead of each interval; the horizon as issued by the issue time.

        Where no vintage is that old (a day-ahead value issued once a day, a document stamped with its last day's
        time), the history falls back to the last vintage issued before the interval began: still never a revision
        or an actual from after delivery. The horizon's gaps (not issued yet) take the value a day earlier.
        """
        step = self.spec.step
        end = (self.future[-1] + step).to_pydatetime()
        window = Window(self.grid[0].to_pydatetime(), end)
        led = _known_before(self.warehouse, series, window, self.spec.lead).reindex(self.grid)
        before = _known_before(self.warehouse, series, window, timedelta(0))
        # Each interval's latest vintage by the issue time, over the history and the horizon: the newest of their
        # issue times is the newest vintage the feed had issued by then (any newer one would be some interval's).
        by_issue = _to_pandas(self.warehouse.read([series], window, as_of=self.issue_time))
        latest = _values(by_issue[by_issue["ts"] >= self.future[0]])
        if before.empty and latest.empty:
            self._missing(ref, series)
            return
        self.known_newest_issue[series] = None if by_issue.empty else by_issue["issued_at"].max().to_pydatetime()
        coverage = float(led.notna().mean())
        if coverage < _MIN_LEAD_COVERAGE:
            self.notes.append(
                f"{series}: {coverage:.0%} of the history was issued {self.spec.lead} ahead; "
                "the rest uses the last value issued before delivery"
            )
        history_values = led.fillna(before.reindex(self.grid)).ffill().bfill()
        if history_values.isna().all():
            history_values = history_values.fillna(float(latest.mean()))
        ahead = latest.reindex(self.future)
        self.known_issued_ahead[series] = ahead.copy()
        missing = float(ahead.isna().mean())
        if missing:
            day_earlier = pd.concat([history_values, ahead]).shift(freq=pd.Timedelta(days=1)).reindex(self.future)
            ahead = ahead.fillna(day_earlier).ffill().fillna(history_values.iloc[-1])
            if missing > _MAX_FILLED_FUTURE:
                self.notes.append(f"{series}: {missing:.0%} of the horizon not issued yet, filled from a day earlier")
        name = column_name(series, self.zone)
        self.data[name] = history_values
        self.future_known[name] = ahead
        self.known_names.append(name)

    def add_past(self, ref: CovariateRef, series: str, history: Window) -> None:
        """Actuals as first published, up to the last target interval."""
        values = _actuals(self.warehouse, series, history, self.issue_time, self.spec.step)
        if values.empty:
            self._missing(ref, series)
            return
        name = column_name(series, self.zone)
        self.data[name] = values.reindex(self.grid).interpolate(limit_direction="both")
        self.past_names.append(name)

    def add_calendar(self) -> None:
        """Hour, weekday, weekend, holiday: known for any horizon."""
        country = self.spec.country(self.zone)
        for name, column in calendar_features(self.grid, self.zone, country).items():
            self.data[name] = column
        for name, column in calendar_features(self.future, self.zone, country).items():
            self.future_known[name] = column
        self.known_names += list(CALENDAR_COLUMNS)

    def _missing(self, ref: CovariateRef, series: str) -> None:
        if not ref.optional:
            raise ForecastDataError(self.spec.name, self.zone, f"no data for the covariate {series}")
        self.notes.append(f"{series}: not available for {self.zone}, left out")


def calendar_features(timestamps: pd.DatetimeIndex, zone: str, country: str) -> dict[str, np.ndarray]:
    """Hour of day (as a circle), weekday, weekend and public holiday, in the zone's local time."""
    local = timestamps.tz_convert(area_by_code(zone).timezone)
    hours = local.hour.to_numpy() + local.minute.to_numpy() / 60
    days = _holiday_set(country, int(local.year.min()), int(local.year.max()))
    return {
        "hour_sin": np.sin(2 * math.pi * hours / 24),
        "hour_cos": np.cos(2 * math.pi * hours / 24),
        "weekday": local.weekday.to_numpy().astype(float),
        "is_weekend": (local.weekday.to_numpy() >= 5).astype(float),  # noqa: PLR2004 - Saturday is 5
        "is_holiday": np.array([day in days for day in local.date], dtype=float),
    }


@cache
def _holiday_set(country: str, first_year: int, last_year: int) -> frozenset[date]:
    """The country's public holidays; none for a country the holidays package does not cover."""
    if country not in holidays.list_supported_countries():
        return frozenset()
    return frozenset(holidays.country_holidays(country, years=range(first_year, last_year + 1)).keys())


def _actuals(warehouse: Warehouse, series: str, window: Window, issue_time: datetime, step: timedelta) -> pd.Series:
    """Values as first published, restricted to those out by ``issue_time``; indexed by UTC interval start."""
    lag = publication_lag(series)
    table = warehouse.read_known([series], window, known_within=step + lag, earliest_if_unknown=True)
    frame = _to_pandas(table)
    if frame.empty:
        return pd.Series(dtype=float)
    published = (frame["issued_at"] <= issue_time) | (frame["ts"] + step + lag <= issue_time)
    return frame[published].set_index("ts")["value"]


def _known_before(warehouse: Warehouse, series: str, window: Window, lead: timedelta) -> pd.Series:
    return _values(_to_pandas(warehouse.read_known([series], window, known_within=-lead)))


def _values(frame: pd.DataFrame) -> pd.Series:
    return frame.set_index("ts")["value"] if not frame.empty else pd.Series(dtype=float)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    for column in ("ts", "issued_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _long(wide: pd.DataFrame, targets: Iterable[str], columns: list[str], *, target: bool = True) -> pd.DataFrame:
    """One block per target series: item_id = the target's variable, the shared covariates beside it."""
    blocks = []
    timestamps = wide.index.tz_convert(UTC).tz_localize(None)
    for series in targets:
        block = pd.DataFrame({"item_id": series.split("/")[-1], "timestamp": timestamps})
        if target:
            block["target"] = wide[series].to_numpy()
        for name in columns:
            block[name] = wide[name].to_numpy()
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)


def _aware(moment: pd.Timestamp) -> datetime:
    aware: datetime = moment.tz_localize(UTC).to_pydatetime() if moment.tzinfo is None else moment.to_pydatetime()
    return aware


def _as_timedelta(text: str) -> timedelta:
    return fixed_duration(text, allow_zero=True)


def _days(span: timedelta) -> str:
    return f"{span / timedelta(days=1):.1f} days"
