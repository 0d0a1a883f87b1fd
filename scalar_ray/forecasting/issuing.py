"""Issuing forecasts with the champion models, on each family's schedule.

A forecast issue is forecasts-table rows (``core.forecasts``): family, zone, the model version that made it, the
target's series id, the issue time, each interval's mean and quantiles. It travels as a ``ForecastEnvelope`` on
``persistent://<tenant>/insights/forecasts``; ingestion validates it, stores it in the forecasts table and keeps the
model's newest issue in Redis.

``ForecastService`` is the schedule; the forecasting actor is a thin shell around it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from scalar_ray.broker.envelope import ForecastEnvelope
from scalar_ray.broker.messaging import OutgoingMessage, Publisher
from scalar_ray.broker.spool import DiskSpool
from scalar_ray.core.errors import (
    BrokerUnavailableError,
    ForecastDataError,
    ModelRegistryError,
    NoChampionError,
    ScalarError,
)
from scalar_ray.core.forecasts import FORECAST_PROVIDER, FORECAST_SCHEMA, empty_forecasts, quantile_column
from scalar_ray.core.window import Window
from scalar_ray.forecasting.calibration import IntervalCalibration, shift_interval
from scalar_ray.forecasting.families import SEASONAL_BASELINE, FamilySpec
from scalar_ray.forecasting.frames import build_frame, to_autogluon
from scalar_ray.forecasting.input_checks import InputProblem, check_inputs, fallback_reason
from scalar_ray.forecasting.registry import ModelRegistry, RegistryEntry
from scalar_ray.status import ForecastingStatus, ForecastModelStatus
from scalar_ray.telemetry.instruments import forecast_completed, tracer
from scalar_ray.telemetry.propagation import with_trace_context
from scalar_ray.warehouse.base import Warehouse

if TYPE_CHECKING:
    from autogluon.timeseries import TimeSeriesPredictor

__all__ = [
    "FORECAST_PROVIDER",
    "Fallback",
    "ForecastService",
    "IssuedForecast",
    "PredictionMemo",
    "forecast_envelope",
    "forecast_table",
    "issue_fallback",
    "load_predictor",
    "predict_with",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fallback:
    """The baseline that issued a forecast instead of the version's model, and the input checks that failed."""

    model: str
    reason: str


@dataclass(frozen=True)
class IssuedForecast:
    """One model's forecast issue: its forecasts-table rows, and the targets' units (the rows carry none)."""

    family: str
    zone: str
    version: str
    issue_time: datetime
    window: Window
    forecasts: pa.Table
    units: dict[str, str] = field(default_factory=dict)  # target variable → unit
    fallback: Fallback | None = None


def issue_fallback(entry: RegistryEntry, problems: Sequence[InputProblem]) -> Fallback | None:
    """The baseline, when this issue's inputs fail a check or the version was trained on inputs that did."""
    if problems:
        return Fallback(SEASONAL_BASELINE, fallback_reason(problems))
    if entry.fallback_reason:
        return Fallback(SEASONAL_BASELINE, f"at training: {entry.fallback_reason}")
    return None


def forecast_table(
    spec: FamilySpec,
    zone: str,
    version: str,
    predictions: pd.DataFrame,
    issue_time: datetime,
    calibration: IntervalCalibration | None = None,
    fallback: Fallback | None = None,
) -> pa.Table:
    """AutoGluon's prediction frame (item_id x timestamp → mean and quantile columns) as forecasts-table rows.

    The version's calibration (its backtest's conformal offsets) moves the interval's edges; then quantiles are
    sorted per interval: separately fitted quantiles can cross, and a 10 % quantile above the 90 % one is no
    forecast a trader can use. A ``fallback`` is written on every row: which baseline issued it, and why.
    """
    targets = {series.rsplit("/", 1)[-1]: series for series in spec.target_ids(zone)}
    levels = [str(q) for q in spec.quantiles]
    tables = []
    for item in predictions.index.get_level_values(0).unique():
        if str(item) not in targets:
            raise ForecastDataError(spec.name, zone, f"the model forecast {item}, which is not a target of the family")
        rows = predictions.loc[item]
        ordered = shift_interval(rows[levels].to_numpy(dtype="float64"), spec.quantiles, calibration, str(item))
        count = len(rows)
        stamps = pd.DatetimeIndex(rows.index)
        columns: dict[str, pa.Array] = {
            "family": pa.array([spec.name] * count, pa.string()),
            "zone": pa.array([zone] * count, pa.string()),
            "model_version": pa.array([version] * count, pa.string()),
            "target": pa.array([targets[str(item)]] * count, pa.string()),
            "issued_at": pa.array([issue_time] * count, FORECAST_SCHEMA.field("issued_at").type),
            "ts": pa.array(stamps.tz_localize(UTC) if stamps.tz is None else stamps.tz_convert(UTC)),
            "mean": pa.array(rows["mean"].to_numpy(dtype="float64")),
            "fallback": pa.array([fallback.model if fallback else None] * count, pa.string()),
            "fallback_reason": pa.array([fallback.reason if fallback else None] * count, pa.string()),
        }
        for index, level in enumerate(spec.quantiles):
            columns[quantile_column(level)] = pa.array(ordered[:, index])
        tables.append(
            pa.table(
                [columns.get(field.name, pa.nulls(count, field.type)) for field in FORECAST_SCHEMA],
                schema=FORECAST_SCHEMA,
            )
        )
    return pa.concat_tables(tables) if tables else empty_forecasts()


def forecast_envelope(issued: IssuedForecast, topic: str) -> OutgoingMessage:
    """The issue as a message for the forecasts topic (keyed by model, so a model's forecasts stay in order)."""
    envelope = ForecastEnvelope(
        issued.family,
        issued.zone,
        issued.version,
        issued.issue_time,
        issued.window,
        f"forecast-{uuid.uuid4().hex[:12]}",
        issued.forecasts,
    )
    payload, properties = envelope.encode()
    return OutgoingMessage(
        topic, payload, with_trace_context(properties), f"{FORECAST_PROVIDER}/{issued.family}/{issued.zone}"
    )


def predict_with(
    entry: RegistryEntry,
    predictor: TimeSeriesPredictor,
    spec: FamilySpec,
    zone: str,
    warehouse: Warehouse,
    issue_time: datetime,
    memo: PredictionMemo | None = None,
    guard: threading.Lock | None = None,
) -> IssuedForecast:
    """A loaded version's forecast from the data known at ``issue_time`` (the scheduler and the API share it).

    The inputs are checked first (``input_checks``): where one fails, the version's SeasonalNaive (every version
    fits it) issues the forecast instead, marked as a fallback with the reason.

    ``guard`` is the predictor's lock where several threads share one predictor (a Serve replica's request threads):
    AutoGluon's models keep state while they predict, and two predictions at once on one predictor fail
    ("WeightedEnsemble cannot predict because base model DirectTabular failed").
    """
    frame = build_frame(warehouse, spec, zone, issue_time)
    fallback = issue_fallback(entry, check_inputs(frame, spec, issue_time))
    model = fallback.model if fallback else entry.serving_model
    if fallback:
        logger.warning("forecast %s/%s falls back to %s: %s", spec.name, zone, fallback.model, fallback.reason)
    missing = [c for c in (*entry.known_covariates, *entry.past_covariates) if c not in frame.data.columns]
    if missing:
        raise ForecastDataError(spec.name, zone, f"version {entry.version} needs covariates {missing} not found")
    data = frame.data[["item_id", "timestamp", "target", *entry.known_covariates, *entry.past_covariates]]
    known = frame.future_known[["item_id", "timestamp", *entry.known_covariates]]
    history = to_autogluon(data)
    future = to_autogluon(known) if entry.known_covariates else None

    def run_model() -> pd.DataFrame:
        # AutoGluon's own prediction cache is off: it rewrites a pickle in the registry's version folder at every
        # new input (read-only in production, and growing without bound); the memo does that job in memory.
        result: pd.DataFrame = predictor.predict(history, known_covariates=future, model=model, use_cache=False)
        return result

    lock = guard if guard is not None else threading.Lock()
    if memo is not None:
        predictions = memo.predict(f"{entry.version}/{model}", history, future, run_model, lock)
    else:
        with lock:
            predictions = run_model()
    units = {}
    for series in spec.target_ids(zone):
        metadata = warehouse.series_metadata(series) or {}
        units[series.split("/")[-1]] = metadata.get("unit", "")
    # The calibration was learned on the serving model's backtest: it does not apply to another model's interval.
    calibrated = entry.calibration and model == entry.serving_model
    calibration = IntervalCalibration.from_dict(entry.calibration) if calibrated and entry.calibration else None
    table = forecast_table(spec, zone, entry.version, predictions, issue_time, calibration, fallback)
    window = frame.horizon_window(spec)
    return IssuedForecast(spec.name, zone, entry.version, issue_time, window, table, units, fallback)


class PredictionMemo:
    """AutoGluon's predictions by model version and a digest of its inputs, least recently used ones dropped.

    The same version given the same inputs forecasts the same values, so a repeated on-demand request whose data has
    not changed since the last one skips the model (the costly part: ~1 s for a recursive model here) and only
    builds the frame. Any new value in the inputs changes the digest.
    """

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str], pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def predict(
        self,
        version: str,
        history: pd.DataFrame,
        future: pd.DataFrame | None,
        run: Callable[[], pd.DataFrame],
        guard: threading.Lock,
    ) -> pd.DataFrame:
        """The memo's predictions for these inputs, else ``run()``'s (remembered), run under ``guard``.

        A caller that waited on ``guard`` while another ran the same inputs takes that result instead of running again.
        """
        digest = hashlib.blake2b(digest_size=16)
        for frame in (history, future):
            if frame is not None:
                digest.update(pd.util.hash_pandas_object(pd.DataFrame(frame), index=True).to_numpy().tobytes())
                digest.update(",".join(map(str, frame.columns)).encode())
        key = (version, digest.hexdigest())
        held = self._recall(key)
        if held is not None:
            return held
        with guard:
            held = self._recall(key)
            if held is not None:
                return held
            predictions = run()
        with self._lock:
            self._entries[key] = predictions
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return predictions.copy()

    def _recall(self, key: tuple[str, str]) -> pd.DataFrame | None:
        with self._lock:
            held = self._entries.get(key)
            if held is None:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return held.copy()


def load_predictor(registry: ModelRegistry, entry: RegistryEntry) -> TimeSeriesPredictor:
    """A version's AutoGluon predictor from the registry, its serving model held in memory.

    Without ``persist`` AutoGluon reads every model of the ensemble from disk at each ``predict``; loaded once, a
    forecast is the models' arithmetic only. ``ModelRegistryError`` when the version cannot be loaded.
    """
    from autogluon.timeseries import TimeSeriesPredictor  # noqa: PLC0415 - seconds to import

    try:
        predictor = TimeSeriesPredictor.load(str(registry.model_dir(entry)))
        predictor.persist(models=[entry.serving_model] if entry.serving_model else "best", with_ancestors=True)
    except Exception as exc:  # missing, truncated or foreign files fail in many ways; each means "cannot load"
        raise ModelRegistryError(entry.model_id, f"cannot load version {entry.version}: {exc}") from exc
    return predictor


@dataclass
class ModelState:
    """What the service knows about one family x zone."""

    family: str
    zone: str
    version: str | None = None
    last_issue: datetime | None = None
    last_rows: int = 0
    issued: int = 0
    failures: int = 0
    last_error: str | None = None
    last_duration_s: float = 0.0
    # No champion yet (before the first training): a state the checklist counts apart from failures.
    awaiting_model: bool = False
    # The champion version the last attempt used (None: there was none), so a new champion is used at once.
    tried_version: str | None = None
    # Issues the baseline made because an input check failed, and the last one's reason (None: the model issued).
    fallbacks: int = 0
    fallback: str | None = None

    def status(self) -> ForecastModelStatus:
        """For `scalar-ray status`."""
        return ForecastModelStatus(
            model=f"{self.family}/{self.zone}",
            version=self.version,
            last_issue=self.last_issue,
            rows=self.last_rows,
            issued=self.issued,
            failures=self.failures,
            error=self.last_error,
            awaiting_model=self.awaiting_model,
            duration_s=round(self.last_duration_s, 2),
            fallbacks=self.fallbacks,
            fallback=self.fallback,
        )


@dataclass
class ForecastService:
    """Issues every selected family x zone forecast when its schedule is due, with the current champion."""

    families: list[FamilySpec]
    warehouse: Warehouse
    registry: ModelRegistry
    publisher: Publisher | None
    topic: str
    zones: list[str] | None = None
    # Where an issued forecast waits while the broker is away (it used to be lost): sent first on the next round.
    spool: DiskSpool | None = None
    _next: dict[str, datetime] = field(default_factory=dict)
    _states: dict[tuple[str, str], ModelState] = field(default_factory=dict)
    _predictors: dict[tuple[str, str], tuple[str, Any]] = field(default_factory=dict)

    def models(self) -> list[tuple[FamilySpec, str]]:
        """The (family, zone) pairs this service issues."""
        return [
            (spec, zone) for spec in self.families for zone in spec.zones if self.zones is None or zone in self.zones
        ]

    def run_due(self, now: datetime) -> list[IssuedForecast]:
        """Issue every family whose schedule has come (all of them the first time), and new champions at once.

        A model whose champion is not the one its last attempt used (a first champion, or one a training job just
        promoted) forecasts at the next poll instead of waiting for its family's schedule.
        """
        if self.spool is not None and len(self.spool) and self.publisher is not None:
            self.spool.drain(self.publisher)
        issued = []
        for spec in self.families:
            due = self._next.get(spec.name)
            if due is None or now >= due:
                self._next[spec.name] = spec.schedule.next_run(now)
                zones = [zone for family, zone in self.models() if family.name == spec.name]
            else:
                zones = self._new_champions(spec)
            for zone in zones:
                forecast = self.issue(spec, zone, now)
                if forecast is not None:
                    issued.append(forecast)
        return issued

    def issue(self, spec: FamilySpec, zone: str, issue_time: datetime) -> IssuedForecast | None:
        """One forecast with the champion; published when a publisher is set. Failures are recorded, not raised.

        A span per forecast, whose context the message carries to ingestion; ``scalar.forecast.completed`` counts
        the outcome: ``ok``, ``fallback`` (an input check failed: the baseline issued it), ``no_model`` (no champion
        yet: a state, not a failure) or ``failed``.
        """
        attributes = {"scalar.family": spec.name, "scalar.area": zone}
        with tracer.start_as_current_span(f"forecast {spec.name}", attributes=attributes) as span:
            forecast, outcome = self._issue(spec, zone, issue_time)
            span.set_attribute("scalar.outcome", outcome)
            forecast_completed.add(1, {**attributes, "scalar.outcome": outcome})
            return forecast

    def _issue(self, spec: FamilySpec, zone: str, issue_time: datetime) -> tuple[IssuedForecast | None, str]:
        state = self._states.setdefault((spec.name, zone), ModelState(spec.name, zone))
        started = time.monotonic()
        try:
            forecast = self.predict(spec, zone, issue_time)
            if self.publisher is not None:
                self._publish(forecast_envelope(forecast, self.topic))
        except NoChampionError:
            state.awaiting_model, state.last_error = True, None
            logger.info("forecast %s/%s waits for a first champion", spec.name, zone)
            return None, "no_model"
        except (ScalarError, ValueError, KeyError, OSError, RuntimeError) as exc:
            state.failures += 1
            state.last_error = str(exc) if isinstance(exc, ScalarError) else f"{type(exc).__name__}: {exc}"
            logger.warning("forecast %s/%s failed: %s", spec.name, zone, state.last_error)
            return None, "failed"
        finally:
            state.last_duration_s = time.monotonic() - started
        state.version, state.last_issue, state.last_error = forecast.version, issue_time, None
        state.awaiting_model = False
        state.last_rows = forecast.forecasts.num_rows
        state.issued += 1
        state.fallback = forecast.fallback.reason if forecast.fallback else None
        state.fallbacks += forecast.fallback is not None
        logger.info(
            "forecast %s/%s issued with %s: %d rows for %s",
            spec.name,
            zone,
            forecast.version,
            forecast.forecasts.num_rows,
            forecast.window,
        )
        return forecast, "fallback" if forecast.fallback else "ok"

    def _publish(self, message: OutgoingMessage) -> None:
        assert self.publisher is not None  # noqa: S101 - called only with a publisher
        if self.spool is not None and len(self.spool):
            self.spool.append(message)  # behind the ones waiting: order kept
            return
        try:
            self.publisher.send(message)
        except BrokerUnavailableError:
            if self.spool is None:
                raise
            logger.warning("broker unavailable: forecast spooled to %s", self.spool.directory)
            self.spool.append(message)

    def predict(self, spec: FamilySpec, zone: str, issue_time: datetime) -> IssuedForecast:
        """The champion's forecast as known at ``issue_time``; ``NoChampionError`` or ``ForecastDataError`` without."""
        entry = self.registry.champion(spec.name, zone)
        state = self._states.setdefault((spec.name, zone), ModelState(spec.name, zone))
        state.tried_version = entry.version if entry else None
        if entry is None:
            raise NoChampionError(spec.name, zone)
        return predict_with(entry, self._predictor(entry), spec, zone, self.warehouse, issue_time)

    def _new_champions(self, spec: FamilySpec) -> list[str]:
        """Zones of the family whose champion is not the one their last attempt used."""
        zones = []
        for state in self._states.values():
            if state.family == spec.name:
                pointer = self.registry.champion_pointer(state.family, state.zone)
                if pointer is not None and pointer.version != state.tried_version:
                    zones.append(state.zone)
        return zones

    def snapshot(self) -> ForecastingStatus:
        """Per model: version, last issue, rows, failures, last error; when each family runs next."""
        return ForecastingStatus(
            models=tuple(state.status() for state in self._states.values()), next_runs=dict(self._next)
        )

    def _predictor(self, entry: RegistryEntry) -> TimeSeriesPredictor:
        """The champion's predictor, loaded once per version (loading is slow; a new champion is picked up)."""
        key = (entry.family, entry.zone)
        cached = self._predictors.get(key)
        if cached is not None and cached[0] == entry.version:
            predictor: TimeSeriesPredictor = cached[1]
            return predictor
        predictor = load_predictor(self.registry, entry)
        self._predictors[key] = (entry.version, predictor)
        return predictor
