"""What a provider parser knows about its request, and the builder that turns its readings into canonical rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from scalar_ray.core.observations import OBSERVATION_SCHEMA, deduplicate, series_id
from scalar_ray.core.window import Window

__all__ = ["MAX_ROWS_PER_PAYLOAD", "FetchContext", "ObservationBuilder"]

# No real answer comes near this (a year of quarter-hours for a hundred series is 3.5 million): more is a hostile or
# broken payload, refused before it takes the worker's memory.
MAX_ROWS_PER_PAYLOAD = 5_000_000


@dataclass(frozen=True)
class FetchContext:
    """What a parser knows about the request its payload answers."""

    provider: str
    dataset: str
    window: Window
    fetched_at: datetime
    area: str = ""
    # For payloads that do not name what they measure (Volue curves, Meteologica contents): from the catalogue.
    variable: str = ""


@dataclass
class ObservationBuilder:
    """Collects rows column by column and builds the canonical table (sorted, one row per key)."""

    context: FetchContext
    _columns: dict[str, list[object]] = field(default_factory=lambda: {name: [] for name in OBSERVATION_SCHEMA.names})

    def add(
        self,
        *,
        area: str,
        variable: str,
        ts: datetime,
        value: float,
        issued_at: datetime,
        unit: str,
        resolution: str,
    ) -> None:
        """Add one observation; NaN and infinite values are not observations and are skipped."""
        if math.isnan(value) or math.isinf(value):
            return
        columns = self._columns
        if len(columns["ts"]) >= MAX_ROWS_PER_PAYLOAD:
            raise ValueError(f"more than {MAX_ROWS_PER_PAYLOAD:,} rows in one payload")
        columns["series_id"].append(series_id(self.context.provider, self.context.dataset, area, variable))
        columns["ts"].append(ts)
        columns["value"].append(value)
        columns["issued_at"].append(issued_at)
        columns["provider"].append(self.context.provider)
        columns["dataset"].append(self.context.dataset)
        columns["area"].append(area)
        columns["variable"].append(variable)
        columns["unit"].append(unit)
        columns["resolution"].append(resolution)

    def add_reading(
        self,
        area: str,
        variable: str,
        ts: datetime,
        value: object,
        issued_at: datetime,
        unit: str,
        resolution: str,
    ) -> None:
        """Add a value read from a payload: ``None`` is skipped (no reading), anything not a number is an error."""
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"non-numeric {variable} value {value!r} at {ts.isoformat()}")
        self.add(
            area=area,
            variable=variable,
            ts=ts,
            value=float(value),
            issued_at=issued_at,
            unit=unit,
            resolution=resolution,
        )

    def __len__(self) -> int:
        return len(self._columns["ts"])

    def build(self) -> pa.Table:
        """The canonical table, sorted by series, time and vintage; a repeated key keeps its last value."""
        table = pa.Table.from_pydict(self._columns, schema=OBSERVATION_SCHEMA)
        return deduplicate(table)
