"""A per-series summary of a canonical table: what an operator wants to see after a fetch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

__all__ = ["SeriesSummary", "summarize"]


@dataclass(frozen=True)
class SeriesSummary:
    """One series of a fetch: how many rows, over which span, with which values."""

    series_id: str
    rows: int
    first: datetime
    last: datetime
    minimum: float
    mean: float
    maximum: float
    unit: str
    resolution: str
    latest_issue: datetime


def summarize(table: pa.Table) -> list[SeriesSummary]:
    """One summary per series, in series order."""
    if table.num_rows == 0:
        return []
    grouped = table.group_by(["series_id", "unit", "resolution"], use_threads=False).aggregate(
        [
            ("ts", "count"),
            ("ts", "min"),
            ("ts", "max"),
            ("value", "min"),
            ("value", "mean"),
            ("value", "max"),
            ("issued_at", "max"),
        ]
    )
    grouped = grouped.sort_by("series_id")
    return [
        SeriesSummary(
            row["series_id"],
            row["ts_count"],
            row["ts_min"],
            row["ts_max"],
            row["value_min"],
            row["value_mean"],
            row["value_max"],
            row["unit"],
            row["resolution"],
            row["issued_at_max"],
        )
        for row in grouped.to_pylist()
    ]
