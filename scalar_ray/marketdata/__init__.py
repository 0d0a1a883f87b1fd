"""The read model: market data out of the warehouse, for the API, the client, the CLI and the dashboards.

``MarketData`` is the one entry point; it holds a ``Warehouse`` (any adapter: the reads use only the port) and
answers catalogue searches, series reads (as of a moment, first or latest vintage, in a time zone and frequency),
instances, lead-time views, revisions and the platform's forecasts. Requests that cannot be answered as asked raise
``ReadRequestError`` naming the parameter.
"""

from scalar_ray.marketdata.calendar import HOURS, Frequency, HoursDefinition
from scalar_ray.marketdata.catalogue import CataloguePage, CatalogueQuery
from scalar_ray.marketdata.reader import MarketData
from scalar_ray.marketdata.series import SeriesFrame, SeriesInfo, SeriesRequest
from scalar_ray.marketdata.units import AGGREGATIONS, Aggregation

__all__ = [
    "AGGREGATIONS",
    "HOURS",
    "Aggregation",
    "CataloguePage",
    "CatalogueQuery",
    "Frequency",
    "HoursDefinition",
    "MarketData",
    "SeriesFrame",
    "SeriesInfo",
    "SeriesRequest",
]
