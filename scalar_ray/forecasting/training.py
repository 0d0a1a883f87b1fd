"""Train, backtest and promote one family x zone model (what one Ray task of ``jobs/train.py`` runs).

1. Build the point-in-time frame as known now (``frames.build_frame``).
2. Hold out the most recent ``backtest.windows`` origins; fit AutoGluon-TimeSeries on the data before the first one
   (the family's models plus SeasonalNaive, AutoGluon's own validation window and ensemble inside that).
3. Rolling-origin backtest: at each origin, forecast the horizon from the data before it with the known covariates
   as they were known (``frames``), and score the result (WQL, MASE, pinball) — for the new model, for its
   SeasonalNaive and for the current champion on the very same windows.
4. Register the version (always, with its metrics and the decision) and promote it only if the rule holds: skill
   against SeasonalNaive at least ``min_skill`` and a WQL below the champion's by ``min_improvement``.

A failure of any kind becomes a ``ModelOutcome`` with the error; the caller goes on with the other models.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import psutil

import scalar_ray
from scalar_ray.core.errors import ForecastDataError, ModelRegistryError, ScalarError
from scalar_ray.core.utc import as_utc
from scalar_ray.forecasting.calibration import IntervalCalibration, WindowInterval, calibrate, interval_coverage
from scalar_ray.forecasting.families import SEASONAL_BASELINE, FamilySpec
from scalar_ray.forecasting.frames import ModelFrame, build_frame, to_autogluon
from scalar_ray.forecasting.input_checks import check_inputs, fallback_reason
from scalar_ray.forecasting.metrics import Scores, mase, mean_scores, pinball_loss, weighted_quantile_loss
from scalar_ray.forecasting.registry import ModelRegistry, RegistryEntry, new_version
from scalar_ray.warehouse.base import Warehouse

if TYPE_CHECKING:
    from autogluon.timeseries import TimeSeriesPredictor

__all__ = [
    "ModelOutcome",
    "backtest_origins",
    "code_version",
    "decide",
    "score_predictor",
    "thread_caps",
    "train_model",
]

logger = logging.getLogger(__name__)

# Libraries that size their thread pools from the machine, not from a Ray task's reservation.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "AG_CPU_COUNT")


def thread_caps(cpus: int) -> dict[str, str]:
    """Environment for a process that may use ``cpus`` cores (set before numpy, torch or AutoGluon start)."""
    return dict.fromkeys(_THREAD_VARIABLES, str(cpus))


@dataclass
class ModelOutcome:
    """What training one model gave: its version and decision, or the error."""

    family: str
    zone: str
    status: str  # "promoted", "rejected" or "failed"
    reason: str
    version: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    champion: dict[str, float] | None = None
    skill: float | None = None
    rows: int = 0
    training_s: float = 0.0
    peak_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)
    # AutoGluon's best model on the backtest, and the model the version serves (the baseline where that lost).
    fitted: dict[str, Any] = field(default_factory=dict)
    serving_model: str | None = None
    # The interval's backtest coverage and the conformal offsets issuing applies (IntervalCalibration.as_dict).
    calibration: dict[str, Any] | None = None
    # The input checks that failed before training (the baseline then serves); None when they passed.
    fallback: str | None = None

    @property
    def model_id(self) -> str:
        """``dk_demand/DK1``."""
        return f"{self.family}/{self.zone}"

    def as_dict(self) -> dict[str, Any]:
        """For the job's JSON summary."""
        return asdict(self)


def train_model(
    spec: FamilySpec,
    zone: str,
    warehouse: Warehouse,
    registry: ModelRegistry,
    *,
    issue_time: datetime | None = None,
    workdir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> ModelOutcome:
    """Train, backtest, register and maybe promote one model; never raises for a model's own problems."""
    started = time.monotonic()
    sampler = PeakMemory()  # this model's peak, also when the worker process trained others before it
    say = progress or (lambda message: logger.info("%s/%s: %s", spec.name, zone, message))
    issue_time = issue_time or datetime.now(UTC)
    try:
        frame = build_frame(warehouse, spec, zone, issue_time)
        say(f"frame {frame.rows} rows from {frame.first_ts:%Y-%m-%d %H:%M} to {frame.last_ts:%Y-%m-%d %H:%M}")
        with tempfile.TemporaryDirectory(prefix=f"train-{spec.name}-{zone}-", dir=workdir) as scratch:
            outcome = _train_on_frame(spec, frame, registry, Path(scratch), say)
    except (ScalarError, ValueError, RuntimeError, OSError, MemoryError) as exc:
        # Data problems name themselves; anything AutoGluon raises is reported with its type.
        reason = str(exc) if isinstance(exc, ForecastDataError) else f"{type(exc).__name__}: {exc}"
        say(f"failed: {reason}")
        outcome = ModelOutcome(spec.name, zone, "failed", reason)
    outcome.training_s = round(time.monotonic() - started, 1)
    outcome.peak_rss_mb = round(sampler.stop() / 2**20, 1)
    return outcome


class PeakMemory:
    """The process's largest resident set size between start and ``stop``, sampled every 0.2 s."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self._process = psutil.Process()
        self._peak = self._process.memory_info().rss
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval_s,), daemon=True, name="peak-memory")
        self._thread.start()

    def _sample(self, interval_s: float) -> None:
        while not self._done.wait(interval_s):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._done.set()
        self._thread.join()
        return max(self._peak, self._process.memory_info().rss)


def _train_on_frame(
    spec: FamilySpec, frame: ModelFrame, registry: ModelRegistry, scratch: Path, say: Callable[[str], None]
) -> ModelOutcome:
    from autogluon.timeseries import TimeSeriesPredictor  # noqa: PLC0415 - seconds to import; only where it trains

    origins = backtest_origins(frame, spec)
    train = frame.data[frame.data["timestamp"] < origins[0]]
    minimum = max(2 * spec.season_steps, 3 * spec.horizon_steps)
    per_item = int(train.groupby("item_id").size().min())
    if per_item < minimum:
        raise ForecastDataError(
            spec.name,
            frame.zone,
            f"too little history: {per_item} intervals before the backtest windows, needs {minimum} "
            f"({spec.backtest.windows} windows of {spec.horizon} need more data, or fewer windows)",
        )
    spec, fallback = _checked(spec, frame, say)
    started = time.monotonic()
    predictor = TimeSeriesPredictor(
        prediction_length=spec.horizon_steps,
        freq=pd.tseries.frequencies.to_offset(spec.step).freqstr,
        known_covariates_names=frame.known_names,
        quantile_levels=list(spec.quantiles),
        eval_metric="WQL",
        eval_metric_seasonal_period=spec.season_steps,
        path=str(scratch / "model"),
        verbosity=0,
    )
    predictor.fit(
        to_autogluon(train),
        hyperparameters=spec.model_settings,
        time_limit=spec.time_limit_s,
        enable_ensemble=len(spec.model_settings) > 1,
        # Several validation windows (models fitted once, not refitted per window): the ensemble weights and the
        # model choice then rest on more than one day, which may be a holiday or a calm one.
        num_val_windows=spec.validation_windows,
        refit_every_n_windows=None,
        random_seed=0,
    )
    fit_s = time.monotonic() - started
    models = list(predictor.model_names())
    if SEASONAL_BASELINE not in models:
        raise ForecastDataError(spec.name, frame.zone, f"the {SEASONAL_BASELINE} baseline did not train ({models})")
    say(f"fitted {', '.join(models)} in {fit_s:.0f} s; backtest over {len(origins)} origins")

    fitted_intervals: list[list[WindowInterval]] = []
    baseline_intervals: list[list[WindowInterval]] = []
    scores = score_predictor(predictor, frame, spec, origins, intervals=fitted_intervals)
    baseline = score_predictor(predictor, frame, spec, origins, model=SEASONAL_BASELINE, intervals=baseline_intervals)
    champion_entry = registry.champion(spec.name, frame.zone)
    champion_scores, notes, serving_model = None, list(frame.notes), None
    fitted = scores  # AutoGluon's own choice (usually the ensemble), reported even when the baseline serves
    if baseline.wql < scores.wql:
        # The fitted ensemble lost to its own baseline on the backtest: this version serves the baseline (skill 0),
        # which the promotion rule then weighs against the champion like any other model.
        notes.append(
            f"{predictor.model_best} (WQL {scores.wql:.4f}) did not beat {SEASONAL_BASELINE} ({baseline.wql:.4f}) "
            f"on the backtest; this version serves {SEASONAL_BASELINE}"
        )
        serving_model, scores = SEASONAL_BASELINE, baseline
    if fallback:
        notes.append(f"input checks failed: {fallback}; this version serves {SEASONAL_BASELINE}")
        serving_model, scores = SEASONAL_BASELINE, baseline
    if champion_entry is not None:
        try:
            champion_predictor = TimeSeriesPredictor.load(str(registry.model_dir(champion_entry)))
            champion_scores = score_predictor(
                champion_predictor,
                frame,
                spec,
                origins,
                model=champion_entry.serving_model,
                covariates=(champion_entry.known_covariates, champion_entry.past_covariates),
            )
        except (ModelRegistryError, OSError, ValueError, KeyError) as exc:
            notes.append(f"champion {champion_entry.version} could not be scored on these windows: {exc}")
    calibration = calibrate(
        baseline_intervals if serving_model == SEASONAL_BASELINE else fitted_intervals,
        min(spec.quantiles),
        max(spec.quantiles),
    )
    notes.append(_coverage_note(calibration))
    skill = 1 - scores.wql / baseline.wql if baseline.wql > 0 else 0.0
    promote, reason = decide(spec, scores, champion_scores, skill, champion_entry.version if champion_entry else None)
    if promote and serving_model is not None and champion_entry is not None:
        # A version whose own models lost to the baseline only fills an empty slot; it never replaces a champion.
        promote, reason = False, f"its models lost to {SEASONAL_BASELINE}; champion {champion_entry.version} stays"

    version = new_version()
    entry = RegistryEntry(
        family=spec.name,
        zone=frame.zone,
        version=version,
        created_at=datetime.now(UTC).replace(microsecond=0),
        status="rejected",
        decision=reason,
        metrics=scores.as_dict(),
        baseline_metrics=baseline.as_dict(),
        champion_metrics=champion_scores.as_dict() if champion_scores else None,
        data_window={
            "start": as_utc(frame.first_ts),
            "end": as_utc(frame.last_ts),
            "train_end": _aware(origins[0]),
            "issue_time": as_utc(frame.issue_time),
        },
        rows=frame.rows,
        config=spec.model_dump(mode="json"),
        code_version=code_version(),
        known_covariates=frame.known_names,
        past_covariates=frame.past_names,
        quantiles=list(spec.quantiles),
        horizon_steps=spec.horizon_steps,
        resolution=spec.resolution,
        training_s=round(fit_s, 1),
        notes=notes,
        models=models,
        serving_model=serving_model,
        fitted_metrics={"model": predictor.model_best, **fitted.as_dict()},
        calibration=calibration.as_dict(),
        fallback_reason=fallback,
    )
    registry.register(entry, scratch / "model")
    if promote:
        registry.promote(spec.name, frame.zone, version, reason)
    say(f"{'promoted' if promote else 'rejected'} {version}: {reason}")
    return ModelOutcome(
        spec.name,
        frame.zone,
        "promoted" if promote else "rejected",
        reason,
        version=version,
        metrics=scores.as_dict(),
        baseline=baseline.as_dict(),
        champion=champion_scores.as_dict() if champion_scores else None,
        skill=round(skill, 4),
        rows=frame.rows,
        notes=notes,
        fitted={"model": predictor.model_best, **fitted.as_dict()},
        serving_model=serving_model or predictor.model_best,
        calibration=calibration.as_dict(),
        fallback=fallback,
    )


def _checked(spec: FamilySpec, frame: ModelFrame, say: Callable[[str], None]) -> tuple[FamilySpec, str | None]:
    """The family to fit, and the failed input checks' reason (None when they passed).

    Inputs that fail a check are no ground to fit models on: then only the baseline is fitted, and it serves.
    """
    problems = check_inputs(frame, spec, frame.issue_time)
    if not problems:
        return spec, None
    reason = fallback_reason(problems)
    say(f"input checks failed, only {SEASONAL_BASELINE} is fitted: {reason}")
    return spec.with_models({SEASONAL_BASELINE: {}}), reason


def _coverage_note(calibration: IntervalCalibration) -> str:
    interval = f"{calibration.low_level:.0%}-{calibration.high_level:.0%} interval"
    before = f"the {interval} held {calibration.coverage_before:.1%} of the backtest's actuals"
    if not calibration.applied and calibration.estimated_after is not None:
        return (
            f"{before} (nominal {calibration.nominal:.0%}): not recalibrated, the conformal offsets would give "
            f"{calibration.estimated_after:.1%} (cross-validated over the windows), no closer"
        )
    if not calibration.applied:
        return f"{before} (nominal {calibration.nominal:.0%}): not recalibrated"
    return f"{before}; conformally recalibrated, {calibration.coverage_after:.1%} (cross-validated over the windows)"


def decide(
    spec: FamilySpec, scores: Scores, champion: Scores | None, skill: float, champion_version: str | None
) -> tuple[bool, str]:
    """The promotion rule: enough skill against SeasonalNaive, and better than the champion on the same windows."""
    rule = spec.promotion
    if skill < rule.min_skill:
        return False, f"skill {skill:+.3f} against {SEASONAL_BASELINE} is below the required {rule.min_skill:+.3f}"
    if champion is None:
        if champion_version is not None:
            return True, f"champion {champion_version} could not be scored; skill {skill:+.3f}"
        return True, f"first model; skill {skill:+.3f} against {SEASONAL_BASELINE}"
    needed = champion.wql * (1 - rule.min_improvement)
    if scores.wql < needed:
        return True, f"WQL {scores.wql:.4f} beats champion {champion_version} ({champion.wql:.4f})"
    return False, f"WQL {scores.wql:.4f} does not beat champion {champion_version} ({champion.wql:.4f})"


def backtest_origins(frame: ModelFrame, spec: FamilySpec) -> list[pd.Timestamp]:
    """Origins (first forecast interval) of the rolling windows, oldest first; the last ends at the end of the data."""
    timestamps = pd.DatetimeIndex(sorted(frame.data["timestamp"].unique()))
    step = pd.Timedelta(spec.backtest_step)
    last_origin = timestamps[-1] - pd.Timedelta(spec.step) * (spec.horizon_steps - 1)
    origins = [last_origin - step * k for k in range(spec.backtest.windows)]
    if origins[-1] <= timestamps[0]:
        raise ForecastDataError(spec.name, frame.zone, "too little history for the backtest windows")
    return sorted(origins)


def score_predictor(
    predictor: TimeSeriesPredictor,
    frame: ModelFrame,
    spec: FamilySpec,
    origins: list[pd.Timestamp],
    model: str | None = None,
    covariates: tuple[list[str], list[str]] | None = None,
    intervals: list[list[WindowInterval]] | None = None,
) -> Scores:
    """Forecast from each origin with the data known then; WQL, MASE, pinball and coverage over windows and items.

    ``covariates`` (known, past) are the ones the predictor was trained with; the frame's by default. ``intervals``
    collects each window's actuals and outer quantiles per target, for the calibration.
    """
    known, past = covariates or (frame.known_names, frame.past_names)
    missing = [name for name in (*known, *past) if name not in frame.data.columns]
    if missing:
        raise KeyError(f"the frame lacks covariates {missing} this model was trained with")
    window_scores = []
    horizon = pd.Timedelta(spec.step) * spec.horizon_steps
    for origin in origins:
        context = frame.data[frame.data["timestamp"] < origin]
        ahead = frame.data[(frame.data["timestamp"] >= origin) & (frame.data["timestamp"] < origin + horizon)]
        forecast = predictor.predict(
            to_autogluon(context[["item_id", "timestamp", "target", *known, *past]]),
            known_covariates=to_autogluon(ahead[["item_id", "timestamp", *known]]) if known else None,
            model=model,
        )
        window_scores.append(_score_window(forecast, context, ahead, spec, intervals))
    return mean_scores(window_scores)


def _score_window(
    forecast: Any,
    context: pd.DataFrame,
    ahead: pd.DataFrame,
    spec: FamilySpec,
    intervals: list[list[WindowInterval]] | None = None,
) -> Scores:
    """One window: WQL, pinball and coverage over all items together (as AutoGluon scores), MASE per item."""
    items: list[str] = []
    actuals: list[np.ndarray] = []
    predicted: dict[float, list[np.ndarray]] = {q: [] for q in spec.quantiles}
    scaled_errors = []
    for item, actual_rows in ahead.groupby("item_id"):
        item_forecast = forecast.loc[item]
        length = min(len(actual_rows), len(item_forecast))
        actual = actual_rows["target"].to_numpy()[:length]
        items.append(str(item))
        actuals.append(actual)
        for q in spec.quantiles:
            predicted[q].append(item_forecast[str(q)].to_numpy()[:length])
        median_column = "0.5" if "0.5" in item_forecast else "mean"
        history = context[context["item_id"] == item]["target"].to_numpy()
        scaled_errors.append(mase(actual, item_forecast[median_column].to_numpy()[:length], history, spec.season_steps))
    actual_all = np.concatenate(actuals)
    quantiles = {q: np.concatenate(values) for q, values in predicted.items()}
    low, high = min(spec.quantiles), max(spec.quantiles)
    if intervals is not None:
        intervals.append(
            [
                WindowInterval(item, actual, predicted[low][index], predicted[high][index])
                for index, (item, actual) in enumerate(zip(items, actuals, strict=True))
            ]
        )
    return Scores(
        wql=weighted_quantile_loss(actual_all, quantiles),
        mase=float(np.mean(scaled_errors)),
        pinball=float(np.mean([pinball_loss(actual_all, values, q) for q, values in quantiles.items()])),
        coverage=interval_coverage(actual_all, quantiles[low], quantiles[high]),
    )


def _aware(moment: pd.Timestamp) -> datetime:
    aware: datetime = moment.tz_localize(UTC).to_pydatetime() if moment.tzinfo is None else moment.to_pydatetime()
    return aware


def code_version() -> str:
    """The package version and, where the source is a git checkout, the commit (SCALAR_CODE_VERSION overrides)."""
    if os.environ.get("SCALAR_CODE_VERSION"):
        return os.environ["SCALAR_CODE_VERSION"]
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(scalar_ray.__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    return f"{scalar_ray.__version__}+{commit}" if commit else scalar_ray.__version__
