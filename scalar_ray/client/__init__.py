"""The market-data client: the platform's read API from Python, sync (``MarketDataClient``) and async.

Answers travel as Arrow IPC (typed, time zones kept) and come back as an ``Answer``: ``.table`` (Arrow),
``.to_pandas()`` with a tz-aware index (``layout="wide"`` pivots series to columns), ``.to_polars()``, and ``.meta``
(units, time zone, frequency, hour filter). Requests that fail for a moment (429, 502, 503, 504, a dropped
connection) are retried with exponential back-off and jitter, honouring ``Retry-After``; a 4xx is raised at once as
``ClientError`` with the API's error code. ``iter_series`` reads a long window piece by piece (``chunk``), so a
year of quarter-hours never has to sit in one answer.

    client = MarketDataClient("http://127.0.0.1:8000", api_key="…")
    prices = client.series(["energinet/DayAheadPrices/DK1/price"], start, end, tz="Europe/Copenhagen",
                           frequency="PT1H").to_pandas()
"""

from scalar_ray.client.answers import Answer
from scalar_ray.client.http import AsyncMarketDataClient, ClientError, MarketDataClient

__all__ = ["Answer", "AsyncMarketDataClient", "ClientError", "MarketDataClient"]
