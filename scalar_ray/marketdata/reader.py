"""``MarketData``: the read model's one entry point over a warehouse (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import pyarrow as pa

from scalar_ray.core.window import Window
from scalar_ray.forecasting.strategy import Battery
from scalar_ray.marketdata import forecasts, instances
from scalar_ray.marketdata.catalogue import CataloguePage, CatalogueQuery, search_catalogue
from scalar_ray.marketdata.series import SeriesFrame, SeriesRequest, read_series, time_zone
from scalar_ray.marketdata.strategy_bids import StrategyBids, strategy_bids
from scalar_ray.warehouse.base import Warehouse

__all__ = ["MarketData"]


class MarketData:
    """Catalogue, series, instances, revisions and forecasts, read through the warehouse port."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def search(self, query: CatalogueQuery) -> CataloguePage:
        """A page of the catalogue."""
        return search_catalogue(self.warehouse, query)

    def series(self, request: SeriesRequest) -> SeriesFrame:
        """Values of one or more series (long; ``.wide()`` for a frame)."""
        return read_series(self.warehouse, request)

    def issues(self, series_ids: Sequence[str], issued: Window | None = None) -> pa.Table:
        """The issue times of the series."""
        return instances.issues(self.warehouse, series_ids, issued)

    def instance(self, series_id: str, issued_at: datetime, window: Window | None = None) -> pa.Table:
        """One issue's values."""
        return instances.instance(self.warehouse, series_id, issued_at, window)

    def relative(
        self, series_ids: Sequence[str], window: Window, days_ahead: int, time_of_day: time, zone: str
    ) -> pa.Table:
        """Per local day, the issue made ``days_ahead`` before, by ``time_of_day`` in ``zone``."""
        return instances.relative(self.warehouse, series_ids, window, days_ahead, time_of_day, time_zone(zone))

    def staircase(self, series_ids: Sequence[str], window: Window, lead: timedelta) -> pa.Table:
        """Per interval, the newest value issued at least ``lead`` before it."""
        return instances.staircase(self.warehouse, series_ids, window, lead)

    def absolute(self, series_id: str, delivery: datetime, issued: Window | None = None) -> pa.Table:
        """One interval's value across issues."""
        return instances.absolute(self.warehouse, series_id, delivery, issued)

    def revisions(self, series_ids: Sequence[str], window: Window, since: datetime, until: datetime) -> pa.Table:
        """What changed between two knowledge times."""
        return instances.revisions(self.warehouse, series_ids, window, since, until)

    def forecast_issues(self, family: str, zone: str, issued: Window) -> pa.Table:
        """A model's issues with their versions."""
        return forecasts.forecast_issues(self.warehouse, family, zone, issued)

    def forecast(
        self, family: str, zone: str, *, issued_at: datetime | None = None, as_of: datetime | None = None
    ) -> pa.Table:
        """One forecast issue with its model version and quantiles."""
        return forecasts.forecast_issue(self.warehouse, family, zone, issued_at=issued_at, as_of=as_of)

    def forecast_staircase(
        self, family: str, zone: str, window: Window, lead: timedelta, horizon: timedelta = timedelta(days=3)
    ) -> pa.Table:
        """Per target and interval, the newest forecast issued at least ``lead`` before it."""
        return forecasts.forecast_staircase(self.warehouse, family, zone, window, lead, horizon)

    def strategy_bids(self, zone: str, day: date, battery: Battery) -> StrategyBids:
        """The battery strategy's bids for a delivery day from the stored price forecast, against what cleared."""
        return strategy_bids(self.warehouse, zone, day, battery)
