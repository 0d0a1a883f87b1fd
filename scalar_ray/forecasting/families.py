"""Model families as configuration (``families.yaml``): what each family forecasts, from what, and how it trains.

One model is trained per family x zone. The file is validated when loaded: durations, quantiles, zones, schedules and
series templates; a mistake names the family and the field.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scalar_ray.core.areas import area_by_code, area_by_code_or_none
from scalar_ray.core.durations import fixed_duration
from scalar_ray.core.forecasts import quantile_column
from scalar_ray.providers.catalogue import Schedule, load_catalogue

__all__ = [
    "SEASONAL_BASELINE",
    "BacktestSpec",
    "CovariateRef",
    "FamilySpec",
    "InputChecks",
    "PromotionRule",
    "family_or_error",
    "input_areas",
    "input_datasets",
    "load_families",
]

FAMILIES_FILE = Path(__file__).with_name("families.yaml")
# The baseline every backtest compares against; always trained alongside the family's models.
SEASONAL_BASELINE = "SeasonalNaive"
# Model names that would download pretrained weights from a hub at run time: refused here, so nothing fails at 3 a.m.
_HUB_MODELS = ("Chronos", "Toto", "TimesFM", "Moirai")
# AutoGluon's per-series ("local") models fan out over joblib processes by default: a process pool per fit that costs
# more than the fit itself and ignores the task's CPU reservation. They get the family's CPUs as n_jobs instead.
_LOCAL_MODELS = frozenset(
    {
        "Naive",
        "SeasonalNaive",
        "Average",
        "SeasonalAverage",
        "Zero",
        "AutoETS",
        "AutoARIMA",
        "AutoCES",
        "ETS",
        "Theta",
        "DynamicOptimizedTheta",
        "NPTS",
        "ADIDA",
        "Croston",
        "IMAPA",
    }
)


class BacktestSpec(BaseModel):
    """Rolling-origin backtest over the most recent data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows: int = Field(default=3, ge=1, le=20)
    step: str | None = None


class PromotionRule(BaseModel):
    """When a challenger becomes champion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Skill against SeasonalNaive, 1 - WQL / WQL_naive, the challenger must reach (0 = at least as good).
    min_skill: float = 0.0
    # How much lower than the champion's WQL on the same windows the challenger's must be (0.02 = 2 % lower).
    min_improvement: float = Field(default=0.0, ge=0.0, lt=1.0)


class InputChecks(BaseModel):
    """When a model's inputs are not to be trusted (OpenSTEF's practice): before training and before every issue.

    A failed check does not stop the forecast: the family's baseline (SeasonalNaive) issues it instead, marked with
    the reason in the stored forecast and the API's answer.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # A target or covariate that has not changed for this long before the issue is flat-lining (a stuck meter or a
    # feed repeating its last value); at night solar is 0 for up to ~17 h here, so less than a day is too short.
    flatline: str = "P1D"
    # The target's newest actual later than its usual publication delay by more than this is stale.
    stale_after: str = "PT6H"
    # A known covariate (a forecast, a day-ahead price) whose newest vintage was issued longer ago than this is
    # stale: the day-ahead feeds issue once a day, weather-driven forecasts several times a day.
    forecast_stale_after: str = "P1DT6H"
    # The recent window, and the share of its target intervals that must be observed (not filled in).
    recent: str = "P2D"
    min_recent_share: float = Field(default=0.8, ge=0.0, le=1.0)


class CovariateRef(BaseModel):
    """A covariate series template; optional ones are left out for zones that do not have them."""

    model_config = ConfigDict(frozen=True)

    template: str
    optional: bool = False

    def series_id(self, zone: str) -> str:
        """The template filled for a zone."""
        return self.template.format(zone=zone)

    def series_ids(self, zone: str) -> list[str]:
        """The series for a zone; an area with ``*`` is matched against the catalogue's areas for the dataset.

        ``entsoe/A11/{zone}>*/physical_flow`` is every cross-border flow out of the zone.
        """
        provider, dataset, area, variable = self.series_id(zone).split("/")
        if "*" not in area:
            return [self.series_id(zone)]
        areas = {
            candidate
            for spec in load_catalogue()
            if spec.provider == provider and spec.key == dataset
            for candidate in spec.areas
            if fnmatch.fnmatchcase(candidate, area)
        }
        return [f"{provider}/{dataset}/{candidate}/{variable}" for candidate in sorted(areas)]


class FamilySpec(BaseModel):
    """One model family."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    zones: tuple[str, ...] = Field(min_length=1)
    targets: tuple[str, ...] = Field(min_length=1)
    known_covariates: tuple[CovariateRef, ...] = ()
    past_covariates: tuple[CovariateRef, ...] = ()
    resolution: str = "PT15M"
    horizon: str
    covariate_lead: str | None = None
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    history: str = "P28D"
    # Less history than this and the models are not fitted: the baseline serves (an input check), named as such.
    min_history: str = "P3D"
    # Fraction of the training grid a target may miss (filled by interpolation) before training refuses.
    max_missing: float = Field(default=0.2, ge=0.0, lt=1.0)
    time_limit_s: int = Field(default=60, ge=5)
    # AutoGluon's own validation windows inside the training data (model choice and ensemble weights).
    validation_windows: int = Field(default=3, ge=1, le=10)
    cpus: int = Field(default=1, ge=1)
    models: dict[str, Any] = Field(default_factory=lambda: {SEASONAL_BASELINE: {}})
    backtest: BacktestSpec = BacktestSpec()
    promotion: PromotionRule = PromotionRule()
    checks: InputChecks = InputChecks()
    schedule: Schedule

    @field_validator("known_covariates", "past_covariates", mode="before")
    @classmethod
    def _covariates(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        refs = []
        for item in value:
            text = str(item)
            refs.append({"template": text.rstrip("?"), "optional": text.endswith("?")})
        return refs

    @model_validator(mode="after")
    def _check(self) -> Self:
        for text in (
            self.resolution,
            self.horizon,
            self.history,
            self.min_history,
            self.backtest.step,
            self.covariate_lead,
            self.checks.flatline,
            self.checks.stale_after,
            self.checks.recent,
        ):
            if text is not None:
                fixed_duration(text)
        if self.horizon_steps < 1:
            raise ValueError(f"horizon {self.horizon} is shorter than the resolution {self.resolution}")
        if (
            not self.quantiles
            or any(not 0 < q < 1 for q in self.quantiles)
            or len(set(self.quantiles)) != len(self.quantiles)
        ):
            raise ValueError(f"quantiles must be distinct and between 0 and 1, got {list(self.quantiles)}")
        for level in self.quantiles:
            quantile_column(level)  # the forecasts table has a column for it (ValueError names the levels it has)
        unknown = [zone for zone in self.zones if area_by_code_or_none(zone) is None]
        if unknown:
            raise ValueError(f"unknown zone(s) {unknown}")
        for template in (*self.targets, *(ref.template for ref in self.covariates)):
            if "{zone}" not in template or len(template.split("/")) != len(("provider", "dataset", "zone", "variable")):
                raise ValueError(f"series template '{template}' must be provider/dataset/{{zone}}/variable")
        for name, options in self.models.items():
            if any(name.startswith(prefix) for prefix in _HUB_MODELS):
                raise ValueError(f"model {name} downloads pretrained weights from a hub; choose a local model")
            period = options.get("seasonal_period") if isinstance(options, dict) else None
            if isinstance(period, str):
                steps, rest = divmod(fixed_duration(period), self.step)
                if rest or not steps:
                    raise ValueError(f"model {name}: seasonal_period {period} is not whole {self.resolution} steps")
        return self

    @property
    def covariates(self) -> tuple[CovariateRef, ...]:
        """Known, then past covariates."""
        return (*self.known_covariates, *self.past_covariates)

    @property
    def step(self) -> timedelta:
        """The resolution as a time step."""
        return fixed_duration(self.resolution)

    @property
    def horizon_steps(self) -> int:
        """Prediction length in steps."""
        return fixed_duration(self.horizon) // fixed_duration(self.resolution)

    @property
    def season_steps(self) -> int:
        """One day in steps: the seasonal period of the baseline and of MASE."""
        return max(timedelta(days=1) // self.step, 1)

    @property
    def lead(self) -> timedelta:
        """How long before an interval a known covariate must have been issued to be used in training."""
        return fixed_duration(self.covariate_lead or self.horizon)

    @property
    def backtest_step(self) -> timedelta:
        """Distance between backtest origins."""
        return fixed_duration(self.backtest.step or self.horizon)

    @property
    def model_settings(self) -> dict[str, Any]:
        """AutoGluon hyperparameters with the baseline always included and local models held to the family's CPUs.

        A ``seasonal_period`` may be a duration (``P7D``: the weekly cycle), turned into steps of the family's
        resolution, so one configuration means the same season at 15 and at 30 minutes.
        """
        settings = copy.deepcopy(self.models)
        settings.setdefault(SEASONAL_BASELINE, {})
        for name, options in settings.items():
            if not isinstance(options, dict):
                continue
            if name in _LOCAL_MODELS:
                options.setdefault("n_jobs", self.cpus)
            if isinstance(options.get("seasonal_period"), str):
                options["seasonal_period"] = fixed_duration(options["seasonal_period"]) // self.step
        return settings

    def target_ids(self, zone: str) -> list[str]:
        """The zone's target series."""
        return [template.format(zone=zone) for template in self.targets]

    def country(self, zone: str) -> str:
        """The zone's country (for holidays)."""
        return area_by_code(zone).country

    def with_models(self, models: dict[str, Any]) -> FamilySpec:
        """The same family with other AutoGluon models (``scalar-ray train --models``)."""
        return self.model_copy(update={"models": models})


@cache
def _load(path: Path) -> dict[str, FamilySpec]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name} is not valid YAML: {exc}") from exc
    defaults = document.get("defaults") or {}
    families = {}
    for name, body in (document.get("families") or {}).items():
        merged = {**copy.deepcopy(defaults), **(body or {}), "name": name}
        try:
            families[name] = FamilySpec.model_validate(merged)
        except ValidationError as exc:
            raise ValueError(f"{path.name}: family '{name}' is invalid: {exc}") from exc
    return families


def load_families(path: Path | None = None) -> dict[str, FamilySpec]:
    """Every family by name, validated."""
    return dict(_load(path or FAMILIES_FILE))


def family_or_error(name: str, path: Path | None = None) -> FamilySpec:
    """A family by name, or a ``ValueError`` listing the known ones."""
    families = load_families(path)
    if name not in families:
        raise ValueError(f"unknown model family '{name}'; known: {', '.join(sorted(families))}")
    return families[name]


def input_datasets(families: Iterable[FamilySpec]) -> list[str]:
    """The catalogue datasets (``provider/id``) the families read: what acquisition must fetch for them."""
    wanted = {
        tuple(template.split("/")[:2])
        for spec in families
        for template in (*spec.targets, *(ref.template for ref in spec.covariates))
    }
    return sorted(
        f"{dataset.provider}/{dataset.id}" for dataset in load_catalogue() if (dataset.provider, dataset.key) in wanted
    )


def input_areas(families: Iterable[FamilySpec]) -> list[str]:
    """Every area the families read: their zones and, for flows, the zones' borders (``DK1>DE-LU``)."""
    areas = set()
    for spec in families:
        for zone in spec.zones:
            areas.add(zone)
            for ref in spec.covariates:
                areas.update(series.split("/")[2] for series in ref.series_ids(zone))
    return sorted(areas)
