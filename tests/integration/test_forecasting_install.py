"""The forecasting stack that `make setup` installs works offline: AutoGluon-TimeSeries trains models that need
no download from a model hub (the platform's default), and torch runs on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def quarter_hourly_series(item: str, days: int, seed: int) -> pd.DataFrame:
    timestamps = pd.date_range("2025-03-01", periods=days * 96, freq="15min")
    daily = np.sin(2 * np.pi * np.arange(len(timestamps)) / 96)
    noise = np.random.default_rng(seed).normal(0, 0.1, len(timestamps))
    return pd.DataFrame({"item_id": item, "timestamp": timestamps, "target": 100 + 20 * daily + noise})


def test_autogluon_trains_local_models_and_forecasts_quantiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # any attempt to reach a model hub fails loudly
    from autogluon.timeseries import TimeSeriesDataFrame, TimeSeriesPredictor

    data = TimeSeriesDataFrame.from_data_frame(
        pd.concat([quarter_hourly_series("DK1", 6, 1), quarter_hourly_series("DK2", 6, 2)])
    )
    predictor = TimeSeriesPredictor(
        prediction_length=8,
        freq="15min",
        path=str(tmp_path / "model"),
        quantile_levels=[0.1, 0.5, 0.9],
        verbosity=0,
    )

    predictor.fit(data, hyperparameters={"SeasonalNaive": {}, "RecursiveTabular": {}}, time_limit=120)
    forecast = predictor.predict(data)

    assert set(forecast.item_ids) == {"DK1", "DK2"}
    assert len(forecast) == 2 * 8
    assert {"mean", "0.1", "0.5", "0.9"} <= set(forecast.columns)
    assert (forecast["0.1"] <= forecast["0.9"]).all()
    assert set(predictor.model_names()) >= {"SeasonalNaive", "RecursiveTabular"}


def test_torch_runs_on_the_cpu() -> None:
    import torch

    weights = torch.ones(3, 3)

    assert torch.matmul(weights, torch.arange(3.0)).tolist() == [3.0, 3.0, 3.0]
