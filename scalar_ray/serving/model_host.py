"""Loading model versions and forecasting with them on request: the library side of the Serve model deployment.

A Serve replica keeps several loaded versions (Serve's multiplexing evicts the least recently used); this module
loads one version by its key and runs it. A version that fails to load is remembered for ``retry_after_s``, so the
requests for that model answer 503 at once instead of each retrying a slow load, and other models are untouched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scalar_ray.core.errors import ForecastDataError, ModelRegistryError
from scalar_ray.forecasting.families import FamilySpec
from scalar_ray.forecasting.issuing import PredictionMemo, load_predictor, predict_with
from scalar_ray.forecasting.registry import RegistryEntry
from scalar_ray.serving.errors import ModelUnavailableError, PredictionFailedError, UnknownModelError
from scalar_ray.serving.forecasts import Forecast, forecast_from_rows
from scalar_ray.serving.model_catalogue import ModelCatalogue, parse_model_key
from scalar_ray.warehouse.base import Warehouse

__all__ = ["LoadedModel", "ModelHost", "PredictionRequest"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictionRequest:
    """An on-demand forecast: which version, from the data known at which time, how many intervals."""

    family: str
    zone: str
    version: str
    issue_time: datetime
    steps: int | None = None


@dataclass(frozen=True)
class LoadedModel:
    """A version in memory."""

    spec: FamilySpec
    entry: RegistryEntry
    predictor: Any  # autogluon.timeseries.TimeSeriesPredictor
    loaded_in_s: float
    # One prediction at a time per predictor: the replica's request threads share it, and AutoGluon's are not safe.
    guard: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)


Loader = Callable[[RegistryEntry], Any]


@dataclass
class ModelHost:
    """Loads versions from the registry and forecasts with them."""

    catalogue: ModelCatalogue
    warehouse: Warehouse
    retry_after_s: int = 30
    loader: Loader | None = None  # default: AutoGluon's predictor from the registry
    clock: Callable[[], float] = time.monotonic
    memo: PredictionMemo = field(default_factory=PredictionMemo)
    _failed: dict[str, tuple[float, str]] = field(default_factory=dict)

    def load(self, key: str) -> LoadedModel:
        """The version a model key names; ``UnknownModelError``/``UnknownVersionError`` or ``ModelUnavailableError``."""
        try:
            family, zone, version = parse_model_key(key)
        except ValueError as exc:
            raise UnknownModelError(key, "", self.catalogue.model_ids()) from exc
        spec = self.catalogue.spec(family, zone)
        failed = self._failed.get(key)
        if failed is not None and self.clock() < failed[0]:
            raise ModelUnavailableError(f"{family}/{zone}", failed[1], max(1, round(failed[0] - self.clock())))
        entry = self.catalogue.entry(family, zone, version)
        started = self.clock()
        try:
            predictor = (self.loader or self._load_from_registry)(entry)
        except ModelRegistryError as exc:
            problem = f"version {version} failed to load: {exc}"
            self._failed[key] = (self.clock() + self.retry_after_s, problem)
            logger.error("model %s: %s", key, problem)
            raise ModelUnavailableError(f"{family}/{zone}", problem, self.retry_after_s) from exc
        self._failed.pop(key, None)
        loaded = LoadedModel(spec, entry, predictor, self.clock() - started)
        logger.info("model %s loaded in %.1f s", key, loaded.loaded_in_s)
        return loaded

    def predict(self, model: LoadedModel, request: PredictionRequest) -> Forecast:
        """The model's forecast from the data known at the request's issue time."""
        spec, entry = model.spec, model.entry
        try:
            issued = predict_with(
                entry, model.predictor, spec, request.zone, self.warehouse, request.issue_time, self.memo, model.guard
            )
        except ForecastDataError as exc:
            raise PredictionFailedError(str(exc), "the model needs its inputs up to the issue time") from exc
        forecast = forecast_from_rows(spec, request.zone, issued.forecasts, "model", issued.units)
        return forecast.head(request.steps)

    def _load_from_registry(self, entry: RegistryEntry) -> Any:
        return load_predictor(self.catalogue.registry, entry)
