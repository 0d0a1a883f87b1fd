"""Canonical tables and envelopes for the spine's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from scalar_ray.broker.envelope import Envelope
from scalar_ray.core.forecasts import FORECAST_SCHEMA
from scalar_ray.core.window import Window
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOUR = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def observations(
    values: list[float],
    start: datetime = HOUR,
    *,
    unit: str = "EUR/MWh",
    resolution: str = "PT15M",
    step: timedelta = timedelta(minutes=15),
    issued_at: datetime = NOW - timedelta(hours=1),
    area: str = "DK1",
) -> pa.Table:
    window = Window(start, start + step * max(1, len(values)))
    builder = ObservationBuilder(FetchContext("entsoe", "A44", window, NOW, area))
    for index, value in enumerate(values):
        builder.add(
            area=area,
            variable="price",
            ts=start + step * index,
            value=value,
            issued_at=issued_at,
            unit=unit,
            resolution=resolution,
        )
    return builder.build()


FORECAST_TARGETS = ("entsoe/A65/DK1/load", "energinet/Forecasts_5Min/DK1/wind")


def forecast_issue(
    issued_at: datetime,
    version: str,
    level: float,
    *,
    start: datetime = HOUR,
    family: str = "dk_demand",
    zone: str = "DK1",
    steps: int = 3,
    targets: tuple[str, ...] = FORECAST_TARGETS,
) -> pa.Table:
    """Forecasts-table rows of one issue over ``steps`` quarter-hours: mean ``level`` + step, q10/q50/q90 around it."""
    rows = [
        {
            "family": family,
            "zone": zone,
            "model_version": version,
            "target": target,
            "issued_at": issued_at,
            "ts": start + timedelta(minutes=15 * step),
            "mean": level + step,
            "q10": level + step - 10,
            "q50": level + step,
            "q90": level + step + 10,
        }
        for target in targets
        for step in range(steps)
    ]
    return pa.Table.from_pylist(rows, schema=FORECAST_SCHEMA)


def envelope(table: pa.Table, window: Window | None = None, fetch_id: str = "f1") -> Envelope:
    if window is None:
        window = Window(HOUR, HOUR + timedelta(days=1))
    return Envelope("entsoe", "A44", window, fetch_id, table)
