"""The dataset catalogue: what the platform acquires, when, and in which windows (``catalogue.yaml``).

Loading validates every entry (provider, parser key, areas, ISO durations, cron expression, time zone) and fails
with the dataset's name, so a bad edit never reaches a running acquisition actor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scalar_ray.core.areas import area_by_code_or_none
from scalar_ray.core.durations import parse_duration
from scalar_ray.core.errors import ConfigurationError
from scalar_ray.core.utc import floor_to
from scalar_ray.core.window import Window
from scalar_ray.providers.elia_parser import ELIA_DATASETS
from scalar_ray.providers.energinet_parser import ENERGINET_DATASETS
from scalar_ray.providers.entsoe_parser import DOCUMENT_VARIABLES
from scalar_ray.providers.jao_parser import AUCTION_DATASET, JAO_PUBLICATION_VARIABLES
from scalar_ray.providers.nordpool_parser import NORDPOOL_DATASETS

__all__ = ["PROVIDERS", "Catalogue", "DatasetSpec", "Schedule", "load_catalogue"]

ProviderName = Literal["elia", "entsoe", "nordpool", "energinet", "meteologica", "volue", "jao"]
PROVIDERS: tuple[str, ...] = ("elia", "entsoe", "nordpool", "energinet", "meteologica", "volue", "jao")

# Which dataset keys each provider's parser understands (None: any, the catalogue's params say what to fetch).
_PARSER_KEYS: dict[str, set[str] | None] = {
    "entsoe": set(DOCUMENT_VARIABLES),
    "elia": set(ELIA_DATASETS),
    "nordpool": set(NORDPOOL_DATASETS),
    "energinet": set(ENERGINET_DATASETS),
    "jao": {*JAO_PUBLICATION_VARIABLES, AUCTION_DATASET},
    "meteologica": None,
    "volue": None,
}
# Areas that are not bidding zones: a whole system, a capacity-calculation region, a price index.
_PSEUDO_AREAS = {"DK", "CORE", "NORDIC", "SYSTEM"}
_CORRIDOR = re.compile(r"^[A-Z0-9]+-[A-Z0-9]+(?:-[A-Z0-9]+)?$")
_MARKET_DAY = ZoneInfo("Europe/Brussels")  # the SDAC business day (CET/CEST)


class Schedule(BaseModel):
    """When a dataset is fetched: a fixed interval, or a cron expression in the market's time zone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every: str | None = None
    cron: str | None = None
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _one_rule(self) -> Self:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' and 'cron'")
        if self.every is not None:
            parse_duration(self.every)
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise ValueError(f"'{self.cron}' is not a valid cron expression")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{self.timezone}'") from None
        return self

    def next_run(self, after: datetime) -> datetime:
        """The first run strictly after ``after`` (UTC in, UTC out)."""
        if self.cron is not None:
            local = after.astimezone(ZoneInfo(self.timezone))
            following: datetime = croniter(self.cron, local).get_next(datetime)
            return following.astimezone(UTC)
        step = _timedelta(self.every or "PT1H")
        # Intervals are aligned to the epoch, so every replica of an actor agrees on the run times.
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        periods = (after - epoch) // step + 1
        return epoch + step * periods


class DatasetSpec(BaseModel):
    """One dataset of one provider."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: ProviderName
    id: str = Field(min_length=1)
    dataset: str = ""
    description: str = Field(min_length=1)
    areas: tuple[str, ...] = Field(min_length=1)
    resolution: str
    schedule: Schedule
    publication_delay: str
    lookback: str
    horizon: str
    max_window: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Self:
        for step in (self.resolution, self.max_window):
            parse_duration(step)
        for offset in (self.publication_delay, self.lookback, self.horizon):
            parse_duration(offset, allow_zero=True)
        keys = _PARSER_KEYS[self.provider]
        if keys is not None and self.key not in keys:
            raise ValueError(
                f"the {self.provider} parser has no dataset '{self.key}'; known: {', '.join(sorted(keys))}"
            )
        for area in self.areas:
            if not _known_area(area):
                raise ValueError(f"unknown area '{area}'")
        return self

    @field_validator("areas", mode="before")
    @classmethod
    def _areas_as_strings(cls, value: Any) -> Any:
        return tuple(str(area) for area in value) if isinstance(value, list | tuple) else value

    @property
    def key(self) -> str:
        """The dataset key the parser and the series ids use (``A65`` for both ``A65-actual`` and ``A65-forecast``)."""
        return self.dataset or self.id

    def fetch_window(self, now: datetime) -> Window:
        """The window a scheduled fetch asks for: from ``lookback`` before now to ``horizon`` after it, on the grid."""
        step = timedelta(days=1) if parse_duration(self.resolution).is_calendar else _timedelta(self.resolution)
        start = floor_to(now - _timedelta(self.lookback) - _timedelta(self.publication_delay), step)
        end = floor_to(now + _timedelta(self.horizon), step) + step
        return Window(start, end)

    def request_windows(self, window: Window) -> list[Window]:
        """``window`` split into pieces no longer than ``max_window``.

        A limit of a day or more is a calendar step, so a 23- or 25-hour local day stays one request instead of a
        day and an hour that ask for the same delivery day twice. Every zone of the catalogue changes its clocks at
        the same instant (the EU rule, 01:00 UTC), so the step is the same whichever of them it is taken in.
        """
        limit = parse_duration(self.max_window)
        if limit.clock_step() is not None:
            return window.split(limit.clock)
        pieces, cursor = [], window.start
        while cursor < window.end:
            upper = min(limit.add_to(cursor, zone=_MARKET_DAY), window.end)
            pieces.append(Window(cursor, upper))
            cursor = upper
        return pieces


class Catalogue:
    """All datasets, looked up by provider and id."""

    def __init__(self, datasets: list[DatasetSpec]) -> None:
        self.datasets = datasets
        self._by_key: dict[tuple[str, str], DatasetSpec] = {(d.provider, d.id): d for d in datasets}
        if len(self._by_key) != len(datasets):
            raise ConfigurationError("catalogue", "two datasets share a provider and id", "give each its own id")

    def __iter__(self) -> Iterator[DatasetSpec]:
        return iter(self.datasets)

    def for_provider(self, provider: str) -> list[DatasetSpec]:
        """The datasets of one provider, in catalogue order."""
        return [d for d in self.datasets if d.provider == provider]

    def get(self, provider: str, dataset_id: str) -> DatasetSpec:
        """One dataset; an unknown one is a ``KeyError`` naming the provider's datasets."""
        try:
            return self._by_key[(provider, dataset_id)]
        except KeyError:
            known = ", ".join(d.id for d in self.for_provider(provider))
            raise KeyError(f"no dataset '{dataset_id}' for {provider}; known: {known}") from None


@cache
def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and validate the catalogue (the packaged ``catalogue.yaml`` by default)."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else resources.files("scalar_ray.providers").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    )
    document = yaml.safe_load(text) or {}
    datasets = []
    for provider, entries in document.items():
        for entry in entries or []:
            try:
                datasets.append(DatasetSpec(provider=provider, **entry))
            except ValidationError as exc:
                name = f"{provider}/{entry.get('id', '?')}" if isinstance(entry, dict) else provider
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                raise ConfigurationError(f"catalogue {name}", problems, "correct catalogue.yaml") from exc
    return Catalogue(datasets)


def _known_area(area: str) -> bool:
    if area in _PSEUDO_AREAS or area_by_code_or_none(area) is not None:
        return True
    if ">" in area:
        return all(area_by_code_or_none(part) is not None for part in area.split(">"))
    return bool(_CORRIDOR.match(area))


def _timedelta(text: str) -> timedelta:
    """Window arithmetic only needs an upper bound: a calendar month or year at its longest."""
    return parse_duration(text, allow_zero=True).longest()
