"""The canonical observation table (see docs/architecture.md, "Canonical data").

One row per (series, interval start, vintage): ``series_id`` is ``<provider>/<dataset>/<area>/<variable>``, ``ts``
the interval start in UTC, ``issued_at`` when the value became known (publication time for actuals, issue time for
forecasts and revisions). The series metadata travels in the same table so a consumer needs no lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "KEY",
    "OBSERVATION_SCHEMA",
    "deduplicate",
    "empty_observations",
    "keys_strictly_increasing",
    "series_id",
    "unique_keys",
]

UTC_MICROSECONDS = pa.timestamp("us", tz="UTC")

OBSERVATION_SCHEMA = pa.schema(
    [
        pa.field("series_id", pa.string(), nullable=False),
        pa.field("ts", UTC_MICROSECONDS, nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("issued_at", UTC_MICROSECONDS, nullable=False),
        pa.field("provider", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("area", pa.string(), nullable=False),
        pa.field("variable", pa.string(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),
        pa.field("resolution", pa.string(), nullable=False),
    ]
)

# The primary key: a re-delivery or a revision is an upsert on it, never a duplicate.
KEY = ("series_id", "ts", "issued_at")


def series_id(provider: str, dataset: str, area: str, variable: str) -> str:
    """``entsoe/A44/DK1/price``."""
    return f"{provider}/{dataset}/{area}/{variable}"


def unique_keys(table: pa.Table, keep: Literal["first", "last"] = "last", key: Sequence[str] = KEY) -> pa.Table:
    """One row per key: the first or the last of each in table order, the kept rows in their table order.

    ``key`` is the observations' by default; the forecasts table passes its own (``core.forecasts.FORECAST_KEY``).
    """
    if table.num_rows == 0:
        return table
    # Row numbers from numpy: building them from a Python range costs a quarter of the group-by itself.
    numbered = table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    chosen = numbered.group_by(list(key), use_threads=False).aggregate([("_row", "min" if keep == "first" else "max")])
    if chosen.num_rows == table.num_rows:
        return table
    rows = chosen[f"_row_{'min' if keep == 'first' else 'max'}"]
    return table.take(rows.take(pc.sort_indices(rows)))


def keys_strictly_increasing(table: pa.Table) -> bool:
    """Whether each row's key (``KEY``) is greater than the one before: then no key repeats.

    Parsers emit their windows sorted by key (``ObservationBuilder.build``), so this comparison of neighbours, a few
    vectorised passes, settles most windows without hashing their keys (a group-by costs several times more).
    """
    rows = table.num_rows
    if rows <= 1:
        return True
    earlier, later = table.slice(0, rows - 1), table.slice(1)
    series_before, series_same = (
        pc.less(earlier["series_id"], later["series_id"]),
        pc.equal(earlier["series_id"], later["series_id"]),
    )
    ts_before, ts_same = pc.less(earlier["ts"], later["ts"]), pc.equal(earlier["ts"], later["ts"])
    issued_before = pc.less(earlier["issued_at"], later["issued_at"])
    increasing = pc.or_(series_before, pc.and_(series_same, pc.or_(ts_before, pc.and_(ts_same, issued_before))))
    return bool(pc.all(increasing).as_py())


def deduplicate(table: pa.Table) -> pa.Table:
    """One row per key (a repeated key keeps its last value: payload order wins), sorted by key."""
    return unique_keys(table, "last").sort_by([(name, "ascending") for name in KEY])


def empty_observations() -> pa.Table:
    """A canonical table with no rows: what a "no data" answer parses to."""
    return OBSERVATION_SCHEMA.empty_table()
