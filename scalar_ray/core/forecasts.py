"""The forecasts table: every issue of every model, with the model version that made it.

One row per (family, zone, target, issue time, interval): ``target`` is the series id the model forecasts (for
example ``entsoe/A65/DK1/load``), ``issued_at`` the issue time, ``ts`` the interval start (UTC), ``mean`` and one
column per quantile level. The quantile columns are fixed (the deciles and the 5 % and 95 % tails) so that both
warehouses keep one table for every family; a family fills the levels it forecasts and leaves the others null.
``fallback`` names the baseline that issued the forecast instead of the version's model when an input check failed
(null when the model issued it), and ``fallback_reason`` says which check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

import pyarrow as pa

from scalar_ray.core.observations import UTC_MICROSECONDS

__all__ = [
    "FORECAST_ADDED_COLUMNS",
    "FORECAST_KEY",
    "FORECAST_PROVIDER",
    "FORECAST_SCHEMA",
    "QUANTILE_LEVELS",
    "empty_forecasts",
    "forecast_rows",
    "quantile_column",
    "series_part",
]

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
        pa.field("fallback", pa.string()),
        pa.field("fallback_reason", pa.string()),
    ]
)

# Columns added to the forecasts table after its first release, with their SQL type: tables made before gain them
# when the warehouse opens (DuckDB) or first writes (StarRocks).
FORECAST_ADDED_COLUMNS = {"fallback": 64, "fallback_reason": 1024}

# A model issues once per issue time: a re-delivered or re-issued forecast replaces its rows, whatever version.
FORECAST_KEY = ("family", "zone", "target", "issued_at", "ts")


def empty_forecasts() -> pa.Table:
    """A forecasts table with no rows."""
    return FORECAST_SCHEMA.empty_table()


# The platform's own provider name: forecast messages say it, and their partition keys begin with it.
FORECAST_PROVIDER = "scalar"

# Releases before the forecasts table published forecasts as canonical series of that provider, one per target and
# quantile (``scalar/<family>/<zone>/<target variable>_q10|…|_mean``, the issue time as ``issued_at``). What follows
# reads that form only to convert it: old topics replayed, old DuckDB files migrated on open.
_PART = re.compile(r"^(?P<variable>.+)_(?P<part>mean|q(?P<level>\d{2}))$")


def series_part(variable: str) -> tuple[str, str]:
    """``load_q10`` → (``load``, ``q10``), ``load_mean`` → (``load``, ``mean``); ``ValueError`` for anything else."""
    match = _PART.match(variable)
    if match is None:
        raise ValueError(f"'{variable}' is not a forecast series (<target>_mean or <target>_qNN)")
    part = match["part"]
    if part != "mean":
        try:
            quantile_column(int(match["level"]) / 100)
        except ValueError as exc:
            raise ValueError(f"'{variable}': {exc}") from exc
    return match["variable"], part


def forecast_rows(series: pa.Table, model_version: str, targets: Mapping[tuple[str, str, str], str]) -> pa.Table:
    """A forecast's canonical series (``scalar/<family>/<zone>/<target>_<part>``) as forecasts-table rows.

    ``targets`` maps (family, zone, target variable) to the target's series id. ``ValueError`` naming the problem
    when a series is not a forecast's, its target is unknown, or an interval lacks its mean.
    """
    if not model_version:
        raise ValueError("the forecast names no model version")
    rows: dict[tuple[str, str, str, datetime, datetime], dict[str, object]] = {}
    columns = series.select(["series_id", "ts", "issued_at", "value"]).to_pydict()
    for series_id, ts, issued_at, value in zip(
        columns["series_id"], columns["ts"], columns["issued_at"], columns["value"], strict=True
    ):
        provider, family, zone, variable = series_id.split("/", 3)
        target_variable, part = series_part(variable)
        target = targets.get((family, zone, target_variable))
        if provider != FORECAST_PROVIDER or target is None:
            raise ValueError(f"{series_id} is not a forecast of a configured family, zone and target")
        row = rows.setdefault(
            (family, zone, target, issued_at, ts),
            {"family": family, "zone": zone, "model_version": model_version, "target": target},
        )
        row |= {"issued_at": issued_at, "ts": ts, part: value}
    if any("mean" not in row for row in rows.values()):
        raise ValueError("an interval of the forecast has no mean")
    return pa.Table.from_pylist(list(rows.values()), schema=FORECAST_SCHEMA)
