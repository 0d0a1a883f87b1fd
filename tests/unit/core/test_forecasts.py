"""The forecasts table's schema, and a forecast's series (as it travels and is cached) turned into its rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from scalar_ray.core.forecasts import FORECAST_SCHEMA, forecast_rows, quantile_column, series_part

ISSUED = datetime(2026, 10, 25, 10, tzinfo=UTC)
TARGETS = {("dk_demand", "DK1", "load"): "entsoe/A65/DK1/load"}


def series(rows: list[tuple[str, int, float]]) -> pa.Table:
    return pa.table(
        {
            "series_id": [f"scalar/dk_demand/DK1/{variable}" for variable, _, _ in rows],
            "ts": [ISSUED + timedelta(minutes=15 * step) for _, step, _ in rows],
            "issued_at": [ISSUED] * len(rows),
            "value": [value for _, _, value in rows],
        }
    )


@pytest.mark.parametrize(
    ("level", "column"), [(0.1, "q10"), (0.05, "q05"), (0.5, "q50"), (0.95, "q95"), (0.30000000000000004, "q30")]
)
def test_each_level_has_its_column(level: float, column: str) -> None:
    assert quantile_column(level) == column


@pytest.mark.parametrize("level", [0.15, 0.99, 0.0])
def test_a_level_without_a_column_is_refused(level: float) -> None:
    with pytest.raises(ValueError, match="has no column"):
        quantile_column(level)


def test_series_names_split_into_target_and_part() -> None:
    assert series_part("imbalance_price_q90") == ("imbalance_price", "q90")
    assert series_part("load_mean") == ("load", "mean")
    for bad in ("load", "load_q15", "load_median"):
        with pytest.raises(ValueError, match=bad):
            series_part(bad)


def test_a_forecasts_series_become_one_row_per_interval_with_every_level() -> None:
    table = series([("load_mean", 0, 10.0), ("load_q10", 0, 8.0), ("load_q90", 0, 12.0), ("load_mean", 1, 11.0)])

    rows = forecast_rows(table, "v3", TARGETS)

    assert rows.schema == FORECAST_SCHEMA
    first, second = rows.to_pylist()
    assert (first["target"], first["model_version"], first["mean"], first["q10"], first["q90"]) == (
        "entsoe/A65/DK1/load",
        "v3",
        10.0,
        8.0,
        12.0,
    )
    assert first["q50"] is None and second["mean"] == 11.0 and second["q10"] is None


@pytest.mark.parametrize(
    ("table", "version", "message"),
    [
        pytest.param(series([("load_mean", 0, 1.0)]), "", "no model version", id="no_version"),
        pytest.param(series([("load_q10", 0, 1.0)]), "v1", "has no mean", id="no_mean"),
        pytest.param(series([("wind_mean", 0, 1.0)]), "v1", "configured family", id="unknown_target"),
        pytest.param(series([("load_average", 0, 1.0)]), "v1", "not a forecast series", id="not_a_forecast"),
    ],
)
def test_what_is_not_a_storable_forecast_is_refused_by_name(table: pa.Table, version: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        forecast_rows(table, version, TARGETS)
