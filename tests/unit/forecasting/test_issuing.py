"""AutoGluon's prediction frame as forecasts-table rows, and the message that carries them (pure)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from scalar_ray.broker.envelope import ForecastEnvelope
from scalar_ray.core.errors import ForecastDataError
from scalar_ray.core.forecasts import FORECAST_SCHEMA
from scalar_ray.core.window import Window
from scalar_ray.forecasting.issuing import IssuedForecast, forecast_envelope, forecast_table
from tests.unit.forecasting.builders import NOW, small_family


def predictions(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    """AutoGluon's shape: (item_id, timestamp) index, naive UTC timestamps, ``mean`` and one column per level."""
    index = pd.MultiIndex.from_product(
        [["load"], pd.date_range("2026-10-25 00:00", periods=len(rows), freq="15min")], names=["item_id", "timestamp"]
    )
    return pd.DataFrame(rows, index=index, columns=["mean", "0.1", "0.5", "0.9"])


def test_predictions_become_one_row_per_interval_with_the_version_and_the_targets_series() -> None:
    spec = small_family()
    frame = predictions([(100.0, 90.0, 100.0, 110.0), (101.0, 91.0, 101.0, 111.0)])

    table = forecast_table(spec, "DK1", "v9", frame, NOW)

    assert table.schema.equals(FORECAST_SCHEMA)
    rows = table.to_pylist()
    assert [(r["family"], r["zone"], r["model_version"], r["target"]) for r in rows] == [
        ("test_demand", "DK1", "v9", "entsoe/A65/DK1/load")
    ] * 2
    assert [r["ts"] for r in rows] == [NOW.replace(2026, 10, 25, 0, 0), NOW.replace(2026, 10, 25, 0, 15)]
    assert rows[0]["ts"].tzinfo is not None and rows[0]["ts"].utcoffset() == timedelta(0)
    assert {r["issued_at"] for r in rows} == {NOW}
    assert (rows[1]["mean"], rows[1]["q10"], rows[1]["q50"], rows[1]["q90"]) == (101.0, 91.0, 101.0, 111.0)
    assert rows[0]["q05"] is None and rows[0]["q95"] is None  # levels the family does not forecast stay empty


def test_crossing_quantiles_are_put_in_order() -> None:
    table = forecast_table(small_family(), "DK1", "v9", predictions([(100.0, 120.0, 100.0, 80.0)]), NOW)

    row = table.to_pylist()[0]
    assert (row["q10"], row["q50"], row["q90"]) == (80.0, 100.0, 120.0)


def test_an_issue_travels_as_a_forecast_message_keyed_by_model() -> None:
    spec = small_family()
    rows = forecast_table(spec, "DK1", "v9", predictions([(1.0, 0.0, 1.0, 2.0)]), NOW)
    window = Window(NOW, NOW + timedelta(hours=4))
    issued = IssuedForecast(spec.name, "DK1", "v9", NOW, window, rows, {"load": "MW"})

    message = forecast_envelope(issued, "persistent://scalar/insights/forecasts")

    decoded = ForecastEnvelope.decode(message.payload, message.properties)
    assert (decoded.family, decoded.zone, decoded.model_version, decoded.issue_time) == (
        "test_demand",
        "DK1",
        "v9",
        NOW,
    )
    assert decoded.forecasts.equals(rows)
    assert message.key == "scalar/test_demand/DK1"


def test_an_item_the_family_does_not_forecast_is_an_error() -> None:
    frame = predictions([(1.0, 0.0, 1.0, 2.0)]).rename(index={"load": "price"}, level=0)

    with pytest.raises(ForecastDataError, match="price, which is not a target"):
        forecast_table(small_family(), "DK1", "v9", frame, NOW)
