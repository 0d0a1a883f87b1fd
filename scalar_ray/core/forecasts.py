"""The forecasts table: every issue of every model, with the model version that made it.

One row per (family, zone, target, issue time, interval): ``target`` is the series id the model forecasts (for
example ``entsoe/A65/DK1/load``), ``issued_at`` the issue time, ``ts`` the interval start (UTC), ``mean`` and one
column per quantile level. The quantile columns are fixed (the deciles and the 5 % and 95 % tails) so that both
warehouses keep one table for every family; a family fills the levels it forecasts and leaves the others null.
"""

from __future__ import annotations

import pyarrow as pa

from scalar_ray.core.observations import UTC_MICROSECONDS

__all__ = ["FORECAST_KEY", "FORECAST_SCHEMA", "QUANTILE_LEVELS", "empty_forecasts", "quantile_column"]

QUANTILE_LEVELS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
_SAME = 1e-9  # levels are written as decimals in the families' YAML: compare with a tolerance


def quantile_column(level: float) -> str:
    """0.1 → ``q10``, 0.05 → ``q05``; ``ValueError`` for a level the table has no column for."""
    if not any(abs(level - known) < _SAME for known in QUANTILE_LEVELS):
        raise ValueError(f"quantile {level} has no column; the forecasts table keeps {list(QUANTILE_LEVELS)}")
    return f"q{round(level * 100):02d}"


FORECAST_SCHEMA = pa.schema(
    [
        pa.field("family", pa.string(), nullable=False),
        pa.field("zone", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("target", pa.string(), nullable=False),
        pa.field("issued_at", UTC_MICROSECONDS, nullable=False),
        pa.field("ts", UTC_MICROSECONDS, nullable=False),
        pa.field("mean", pa.float64(), nullable=False),
        *(pa.field(quantile_column(level), pa.float64()) for level in QUANTILE_LEVELS),
    ]
)

# A model issues once per issue time: a re-delivered or re-issued forecast replaces its rows, whatever version.
FORECAST_KEY = ("family", "zone", "target", "issued_at", "ts")


def empty_forecasts() -> pa.Table:
    """A forecasts table with no rows."""
    return FORECAST_SCHEMA.empty_table()
