"""Canonical tables and envelopes for the spine's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from scalar_ray.broker.envelope import Envelope
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


def envelope(table: pa.Table, window: Window | None = None, fetch_id: str = "f1") -> Envelope:
    if window is None:
        window = Window(HOUR, HOUR + timedelta(days=1))
    return Envelope("entsoe", "A44", window, fetch_id, table)
