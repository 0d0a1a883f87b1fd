"""A served platform in memory: stored forecast issues in the warehouse and the cache, a registry with a champion,
and a fake model deployment."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from scalar_ray.cache.base import InMemoryCache
from scalar_ray.core.forecasts import FORECAST_SCHEMA, quantile_column
from scalar_ray.core.window import Window
from scalar_ray.forecasting.families import FamilySpec
from scalar_ray.forecasting.registry import ModelRegistry, RegistryEntry
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.serving.errors import ModelUnavailableError
from scalar_ray.serving.forecasts import Forecast, StoredForecasts, forecast_from_rows
from scalar_ray.serving.model_catalogue import ModelCatalogue, model_key
from scalar_ray.serving.model_host import PredictionRequest
from scalar_ray.serving.service import ForecastBackend
from scalar_ray.warehouse.base import InMemoryWarehouse
from tests.unit.forecasting.builders import NOW, STEP, small_family
from tests.unit.forecasting.builders import entry as registry_entry

FIRST_ISSUE = NOW - timedelta(hours=3)
SECOND_ISSUE = NOW - timedelta(hours=1)


def issue_rows(spec: FamilySpec, zone: str, issue_time: datetime, base: float, version: str = "v1") -> pa.Table:
    """One issue as the forecasting actor publishes it: forecasts-table rows, every target over the horizon."""
    rows = []
    for target in spec.target_ids(zone):
        for step in range(spec.horizon_steps):
            value = base + step
            quantiles = zip(spec.quantiles, (-5.0, 0.0, 5.0), strict=True)
            rows.append(
                {
                    "family": spec.name,
                    "zone": zone,
                    "model_version": version,
                    "target": target,
                    "issued_at": issue_time,
                    "ts": issue_time + step * STEP,
                    "mean": value,
                    **{quantile_column(level): value + offset for level, offset in quantiles},
                }
            )
    return pa.Table.from_pylist(rows, schema=FORECAST_SCHEMA)


def store_issue(warehouse: InMemoryWarehouse, spec: FamilySpec, zone: str, rows: pa.Table) -> None:
    """What ingestion does with a forecast message: its rows into the forecasts table (the target's unit is known)."""
    warehouse.write_forecasts(rows)
    for target in spec.target_ids(zone):
        provider, dataset, area, variable = target.split("/")
        builder = ObservationBuilder(FetchContext(provider, dataset, Window(NOW, NOW + STEP), NOW, area))
        builder.add(area=area, variable=variable, ts=NOW, value=1.0, issued_at=NOW, unit="MW", resolution="PT15M")
        warehouse.write(builder.build())


def entry(spec: FamilySpec, version: str, zone: str = "DK1", wql: float = 0.1) -> RegistryEntry:
    return dataclasses.replace(
        registry_entry(version, zone, spec.name),
        metrics={"wql": wql, "mase": 0.5},
        baseline_metrics={"wql": 0.2, "mase": 1.0},
        quantiles=list(spec.quantiles),
        horizon_steps=spec.horizon_steps,
        resolution=spec.resolution,
    )


@dataclass
class FakeModels:
    """The model deployment: forecasts ``base = 500`` from the version asked for; versions can be made to fail."""

    spec: FamilySpec
    broken: set[str] = field(default_factory=set)
    warmed: list[str] = field(default_factory=list)
    requests: list[PredictionRequest] = field(default_factory=list)

    async def predict(self, request: PredictionRequest) -> Forecast:
        key = model_key(request.family, request.zone, request.version)
        self._check(key)
        self.requests.append(request)
        rows = issue_rows(self.spec, request.zone, request.issue_time, 500.0, request.version or "v1")
        forecast = forecast_from_rows(self.spec, request.zone, rows, "model", {"load": "MW"})
        return forecast.head(request.steps)

    async def warm(self, key: str) -> None:
        self._check(key)
        self.warmed.append(key)

    def _check(self, key: str) -> None:
        if key in self.broken:
            raise ModelUnavailableError(key.split("@", maxsplit=1)[0], "version failed to load: truncated pickle", 30)


@dataclass
class Platform:
    spec: FamilySpec
    warehouse: InMemoryWarehouse
    cache: InMemoryCache
    registry: ModelRegistry
    models: FakeModels
    backend: ForecastBackend


def platform(tmp_path: Path, *, cached: bool = True) -> Platform:
    spec = small_family(zones=["DK1", "DK2"])
    warehouse, cache = InMemoryWarehouse(), InMemoryCache()
    for issue_time, base in ((FIRST_ISSUE, 100.0), (SECOND_ISSUE, 200.0)):
        rows = issue_rows(spec, "DK1", issue_time, base)
        store_issue(warehouse, spec, "DK1", rows)
        if cached:
            cache.update_forecasts(rows)
    registry = ModelRegistry(str(tmp_path / "registry"), tmp_path / "cache")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "predictor.pkl").write_bytes(b"model")
    registry.register(entry(spec, "v1"), model_dir)
    registry.promote(spec.name, "DK1", "v1", "first model")
    catalogue = ModelCatalogue.of([spec], registry, None)
    models = FakeModels(spec)
    stored = StoredForecasts(warehouse, cache)
    backend = ForecastBackend(catalogue, stored, models, clock=lambda: NOW)
    return Platform(spec, warehouse, cache, registry, models, backend)


def promote(p: Platform, version: str) -> None:
    model_dir = Path(str(p.registry.url)) / ".." / f"model-{version}"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "predictor.pkl").write_bytes(b"model")
    p.registry.register(entry(p.spec, version, wql=0.05), model_dir)
    p.registry.promote(p.spec.name, "DK1", version, "better")
