"""Synthetic series written into the in-memory warehouse for the forecasting unit tests."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scalar_ray.core.window import Window
from scalar_ray.forecasting.families import FamilySpec
from scalar_ray.forecasting.registry import RegistryEntry
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse.base import InMemoryWarehouse

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)


def daily(ts: datetime, base: float = 100.0) -> float:
    """A daily shape: what a load or a price looks like to a model."""
    return base + 20 * math.sin(2 * math.pi * (ts.hour * 60 + ts.minute) / 1440)


def write_series(
    warehouse: InMemoryWarehouse,
    series: str,
    start: datetime,
    end: datetime,
    *,
    issued: Callable[[datetime], datetime],
    value: Callable[[datetime], float] = daily,
    unit: str = "MW",
) -> None:
    """One value per quarter-hour in [start, end), each stamped ``issued(ts)``."""
    provider, dataset, area, variable = series.split("/")
    builder = ObservationBuilder(FetchContext(provider, dataset, Window(start, end), NOW, area))
    ts = start
    while ts < end:
        builder.add(
            area=area, variable=variable, ts=ts, value=value(ts), issued_at=issued(ts), unit=unit, resolution="PT15M"
        )
        ts += STEP
    warehouse.write(builder.build())


def small_family(**overrides: object) -> FamilySpec:
    """A one-zone family over a load actual and a day-ahead load forecast."""
    document: dict[str, object] = {
        "name": "test_demand",
        "description": "test",
        "zones": ["DK1"],
        "targets": ["entsoe/A65/{zone}/load"],
        "known_covariates": ["entsoe/A65/{zone}/load_da", "meteologica/demand_forecast/{zone}/forecast?"],
        "past_covariates": ["entsoe/A75/{zone}/generation_wind_onshore?"],
        "horizon": "PT4H",
        "history": "P10D",
        "min_history": "P2D",
        "schedule": {"every": "PT1H"},
        "backtest": {"windows": 2},
    }
    document.update(overrides)
    return FamilySpec.model_validate(document)


def entry(version: str, zone: str = "DK1", family: str = "test_demand") -> RegistryEntry:
    return RegistryEntry(
        family=family,
        zone=zone,
        version=version,
        created_at=NOW,
        status="rejected",
        decision="first model",
        metrics={"wql": 0.1},
        baseline_metrics={"wql": 0.2},
        champion_metrics=None,
        data_window={"start": NOW - timedelta(days=30), "end": NOW, "train_end": NOW - timedelta(days=2)},
        rows=10,
        config={},
        code_version="0.1.0",
        known_covariates=[],
        past_covariates=[],
        quantiles=[0.5],
        horizon_steps=16,
        resolution="PT15M",
        training_s=1.0,
    )


def model_files(root: Path) -> Path:
    (root / "nested").mkdir(parents=True)
    (root / "predictor.pkl").write_bytes(b"model")
    (root / "nested" / "weights.bin").write_bytes(b"weights")
    return root
