"""Simulator history for the forecasting tests: every input of the model families, fetched and validated the way a
backfill does, written straight into a warehouse (the job-level tests use the real backfill job instead)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scalar_ray.acquisition.backfill import fetch_item, plan_backfill
from scalar_ray.composition import acquisition_tasks
from scalar_ray.config import Settings
from scalar_ray.core.window import Window
from scalar_ray.forecasting.families import FamilySpec, input_areas, input_datasets
from scalar_ray.providers.clients import build_client
from scalar_ray.warehouse.base import Warehouse


def forecasting_environment(families: list[FamilySpec], zones: list[str] | None = None) -> dict[str, str]:
    """Acquisition narrowed to the families' inputs."""
    return {
        "SCALAR_ACQUISITION__DATASETS": ",".join(input_datasets(families)),
        "SCALAR_ACQUISITION__AREAS": ",".join(zones or input_areas(families)),
    }


def load_history(settings: Settings, warehouse: Warehouse, days: int, now: datetime | None = None) -> int:
    """Fetch ``days`` of history up to now (and what is already issued for the next two days); rows written."""
    now = now or datetime.now(UTC)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    window = Window(end - timedelta(days=days + 2), end)
    written = 0
    for provider in ("entsoe", "meteologica"):
        client = build_client(provider, settings)
        try:
            for item in plan_backfill(acquisition_tasks(settings, provider), window):
                outcome = fetch_item(client, item, now)
                if outcome.error is None and outcome.observations.num_rows:
                    written += warehouse.write(outcome.observations).rows
        finally:
            client.close()
    return written
