"""What a training run trains (families and zones, with its overrides) and the table it prints."""

from __future__ import annotations

import pytest

from scalar_ray.forecasting.calibration import IntervalCalibration
from scalar_ray.forecasting.families import load_families
from scalar_ray.forecasting.selection import adjusted, select, split_names, summary_table
from scalar_ray.forecasting.training import ModelOutcome


def test_a_run_trains_the_chosen_families_in_the_chosen_zones() -> None:
    families = load_families()

    pairs = select(families, ["dk_demand", "dk_dayahead"], ["DK1"])

    assert sorted((spec.name, zone) for spec, zone in pairs) == [("dk_dayahead", "DK1"), ("dk_demand", "DK1")]
    assert len(select(families, None, None)) == sum(len(spec.zones) for spec in families.values())


@pytest.mark.parametrize(
    ("names", "zones", "message"),
    [
        pytest.param(["dk_demnad"], None, "unknown family", id="misspelt_family"),
        pytest.param(["dk_demand"], ["SE3"], r"no selected family forecasts zone\(s\) \['SE3'\]", id="stray_zone"),
    ],
)
def test_an_unknown_family_or_zone_is_refused_by_name(names: list[str], zones: list[str] | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        select(load_families(), names, zones)


def test_overrides_change_only_what_they_name() -> None:
    spec = load_families()["dk_demand"]

    quick = adjusted(spec, ["SeasonalNaive", "Average"], 20, 2)

    assert set(quick.models) == {"SeasonalNaive", "Average"}
    assert (quick.time_limit_s, quick.backtest.windows) == (20, 2)
    assert adjusted(spec, None, None, None) is spec
    assert split_names(" DK1, ,DK2 ") == ["DK1", "DK2"] and split_names(None) is None


def test_the_summary_lists_every_model_with_its_decision() -> None:
    outcomes = [
        ModelOutcome("dk_demand", "DK2", "failed", "no data for entsoe/A65/DK2/load"),
        ModelOutcome("dk_demand", "DK1", "promoted", "first model", "v1", {"wql": 0.032, "mase": 1.2}, {"wql": 0.06}),
        ModelOutcome(
            "nordic_imbalance",
            "DK1",
            "rejected",
            "worse",
            "v2",
            calibration=IntervalCalibration(0.1, 0.9, 0.62, 0.79, applied=True, offsets={"price": 4.0}).as_dict(),
        ),
        ModelOutcome(
            "nordic_imbalance",
            "DK2",
            "rejected",
            "worse",
            "v3",
            calibration=IntervalCalibration(0.1, 0.9, 0.81, 0.81, applied=False).as_dict(),
        ),
    ]

    lines = summary_table(outcomes).splitlines()

    assert lines[0].split()[:4] == ["model", "status", "WQL", "naive"]
    assert lines[2].startswith("dk_demand/DK1") and "0.032" in lines[2] and "v1 first model" in lines[2]
    assert lines[3].startswith("dk_demand/DK2") and lines[3].endswith("no data for entsoe/A65/DK2/load")
    assert " 62 -> 79 " in lines[4]  # the interval's backtest coverage, before and after its calibration
    assert lines[5].split()[6:8] == ["-", "81"]  # not recalibrated: one figure
