"""Accuracy metrics, the families file and the promotion rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scalar_ray.forecasting.families import SEASONAL_BASELINE, input_areas, input_datasets, load_families
from scalar_ray.forecasting.metrics import Scores, mase, mean_scores, pinball_loss, weighted_quantile_loss
from scalar_ray.forecasting.training import decide
from tests.unit.forecasting.builders import small_family


def test_pinball_loss_weighs_under_and_over_forecasts_by_the_quantile() -> None:
    actual = np.array([10.0])

    assert pinball_loss(actual, np.array([8.0]), 0.9) == pytest.approx(1.8)  # under: 0.9 x 2
    assert pinball_loss(actual, np.array([12.0]), 0.9) == pytest.approx(0.2)  # over: 0.1 x 2


def test_wql_is_zero_for_a_perfect_forecast_and_scaled_by_the_actuals() -> None:
    actual = np.array([100.0, 200.0])
    perfect = {0.1: actual, 0.5: actual, 0.9: actual}
    off_by_ten = {q: actual + 10 for q in (0.1, 0.5, 0.9)}

    assert weighted_quantile_loss(actual, perfect) == 0.0
    # 2 x mean over levels of (1 - q) x 10 x 2 points / 300 = 2 x 0.5 x 20 / 300
    assert weighted_quantile_loss(actual, off_by_ten) == pytest.approx(2 * 0.5 * 20 / 300)


def test_mase_scales_by_the_seasonal_naive_error_of_the_context() -> None:
    context = np.array([1.0, 2.0, 4.0, 8.0])  # season 2: seasonal differences 3 and 6, mean 4.5

    assert mase(np.array([2.0, 2.0]), np.array([3.0, 3.0]), context, season=2) == pytest.approx(1 / 4.5)
    assert mase(np.array([1.0]), np.array([1.0]), context, season=2) == 0.0
    assert mean_scores([Scores(1, 2, 3), Scores(3, 2, 1)]) == Scores(2, 2, 2, windows=2)


def test_every_family_is_valid_trains_locally_and_reads_catalogue_datasets() -> None:
    families = load_families()

    assert set(families) == {"nordic_imbalance", "baltic_imbalance", "dk_demand", "dk_dayahead"}
    assert families["baltic_imbalance"].zones == ("EE", "LV", "LT")
    for spec in families.values():
        assert SEASONAL_BASELINE in spec.model_settings
        assert not any(name.startswith(("Chronos", "Toto")) for name in spec.model_settings)
    assert {"entsoe/A85", "entsoe/A44", "entsoe/A11", "meteologica/demand_forecast"} <= set(
        input_datasets(families.values())
    )
    # Flows out of each zone come from the catalogue's borders.
    flows = families["nordic_imbalance"].past_covariates[-1]
    assert flows.series_ids("DK1") == [
        "entsoe/A11/DK1>DE-LU/physical_flow",
        "entsoe/A11/DK1>NL/physical_flow",
        "entsoe/A11/DK1>SE3/physical_flow",
    ]
    assert flows.series_ids("NO2") == []
    assert {"DK1>SE3", "EE>FI", "LV"} <= set(input_areas(families.values()))


def test_a_seasonal_period_given_as_a_duration_is_that_many_steps_of_the_resolution() -> None:
    weekly = {"SeasonalAverage": {"seasonal_period": "P7D"}, "SeasonalNaive": {"seasonal_period": 96}}

    settings = small_family(models=weekly).model_settings
    half_hourly = small_family(models=weekly, resolution="PT30M").model_settings

    assert settings["SeasonalAverage"] == {"seasonal_period": 672, "n_jobs": 1}
    assert half_hourly["SeasonalAverage"]["seasonal_period"] == 336
    assert settings["SeasonalNaive"]["seasonal_period"] == 96  # a number is already steps


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"models": {"Chronos2": {}}}, "downloads pretrained weights"),
        ({"quantiles": [0.5, 1.2]}, "quantiles must be distinct and between 0 and 1"),
        ({"zones": ["XX9"]}, "XX9"),
        ({"horizon": "P1M"}, "not a fixed duration"),
        ({"targets": ["entsoe/A65/load"]}, "must be provider/dataset/{zone}/variable"),
        ({"models": {"SeasonalAverage": {"seasonal_period": "PT20M"}}}, "PT20M is not whole PT15M steps"),
    ],
)
def test_a_bad_family_is_refused_with_the_reason(override: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        small_family(**override)


def test_a_bad_families_file_names_the_family(tmp_path: Path) -> None:
    path = tmp_path / "families.yaml"
    path.write_text(
        "families:\n  broken:\n    description: x\n    zones: [DK1]\n    targets: ['a/b/{zone}/c']\n", "utf-8"
    )

    with pytest.raises(ValueError, match=r"family 'broken' is invalid(.|\n)*horizon(.|\n)*schedule"):
        load_families(path)
    path.write_text("families: [unclosed", "utf-8")
    with pytest.raises(ValueError, match=r"families\.yaml is not valid YAML"):
        load_families(path)


def test_the_promotion_rule_never_promotes_a_worse_model() -> None:
    spec = small_family(promotion={"min_skill": 0.0, "min_improvement": 0.02})
    good, champion = Scores(0.10, 0.5, 1.0), Scores(0.12, 0.6, 1.2)

    assert decide(spec, good, None, 0.3, None)[0] is True
    assert decide(spec, good, champion, 0.3, "v1") == (True, "WQL 0.1000 beats champion v1 (0.1200)")
    assert decide(spec, Scores(0.119, 0.5, 1.0), champion, 0.3, "v1")[0] is False  # not 2 % better
    assert decide(spec, Scores(0.2, 1, 1), champion, 0.3, "v1")[0] is False
    promoted, reason = decide(spec, good, None, -0.1, None)
    assert not promoted
    assert "below the required" in reason
