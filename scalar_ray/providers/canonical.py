"""The canonical observation table every provider parser produces (see ARCHITECTURE.md, "Canonical data").

One row per (series, interval start, vintage): ``series_id`` is ``<provider>/<dataset>/<area>/<variable>``, ``ts``
the interval start in UTC, ``issued_at`` when the value became known (publication time for actuals, issue time for
forecasts and revisions). The series metadata travels in the same table so a consumer needs no lookup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa

__all__ = ["OBSERVATION_SCHEMA", "FetchContext", "ObservationBuilder", "Window", "empty_observations", "series_id"]

_TS = pa.timestamp("us", tz="UTC")

OBSERVATION_SCHEMA = pa.schema(
    [
        pa.field("series_id", pa.string(), nullable=False),
        pa.field("ts", _TS, nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("issued_at", _TS, nullable=False),
        pa.field("provider", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("area", pa.string(), nullable=False),
        pa.field("variable", pa.string(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),
        pa.field("resolution", pa.string(), nullable=False),
    ]
)


def series_id(provider: str, dataset: str, area: str, variable: str) -> str:
    """``entsoe/A44/DK1/price``."""
    return f"{provider}/{dataset}/{area}/{variable}"


@dataclass(frozen=True)
class Window:
    """A half-open UTC time window ``[start, end)``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end.isoformat()} is not after its start {self.start.isoformat()}")

    def __str__(self) -> str:
        return f"{_iso(self.start)}/{_iso(self.end)}"

    def split(self, step: timedelta) -> list[Window]:
        """Consecutive windows of at most ``step`` covering this one."""
        pieces, cursor = [], self.start
        while cursor < self.end:
            upper = min(cursor + step, self.end)
            pieces.append(Window(cursor, upper))
            cursor = upper
        return pieces


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


def deduplicate(table: pa.Table) -> pa.Table:
    """Sort by (series_id, ts, issued_at) and keep the last row of each key (payload order wins)."""
    if table.num_rows == 0:
        return table
    indexed = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
    keys = ["series_id", "ts", "issued_at"]
    last = indexed.group_by(keys, use_threads=False).aggregate([("_row", "max")])
    rows = indexed.take(last["_row_max"])
    return rows.drop_columns(["_row"]).sort_by([(k, "ascending") for k in keys])


def empty_observations() -> pa.Table:
    """A canonical table with no rows: what a "no data" answer parses to."""
    return OBSERVATION_SCHEMA.empty_table()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
