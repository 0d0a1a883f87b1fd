"""Energinet Energi Data Service client: ``GET /dataset/{name}`` with limit/offset paging."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec
from scalar_ray.providers.client import ProviderClient
from scalar_ray.providers.energinet_parser import parse_energinet
from scalar_ray.providers.parsing import FetchContext

__all__ = ["EnerginetClient"]

_COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_TIME_COLUMNS = {
    "ElectricityProdex5MinRealtime": "Minutes5UTC",
    "Forecasts_5Min": "Minutes5UTC",
    "DayAheadPrices": "TimeUTC",
    "Elspotprices": "HourUTC",
    "PowerSystemRightNow": "Minutes1UTC",
}


class EnerginetClient(ProviderClient):
    """Pages of ``page_size`` records until ``total`` is read."""

    provider = "energinet"
    page_size = 10_000

    def fetch_payloads(self, spec: DatasetSpec, area: str, window: Window) -> Iterator[bytes]:
        """Every page of the window's records."""
        # start/end are Danish local time; an hour of margin on each side covers DST ambiguity, and
        # ProviderClient.fetch trims the rows to the window by their UTC column.
        start = (window.start - timedelta(hours=1)).astimezone(_COPENHAGEN).strftime("%Y-%m-%dT%H:%M")
        end = (window.end + timedelta(hours=1)).astimezone(_COPENHAGEN).strftime("%Y-%m-%dT%H:%M")
        params: dict[str, str | int] = {
            "start": start,
            "end": end,
            "limit": self.page_size,
            "sort": f"{_TIME_COLUMNS.get(spec.key, 'Minutes5UTC')} ASC",
        }
        if area != "DK":
            params["filter"] = json.dumps({"PriceArea": [area]})
        offset = 0
        while True:
            response = self.http.request(
                "GET", f"dataset/{spec.key}", params={**params, "offset": offset}, dataset=spec.id, window=str(window)
            )
            yield response.content
            page = response.json()
            offset += len(page.get("records", []))
            if not page.get("records") or offset >= int(page.get("total", 0)):
                return

    def parse(self, payload: bytes, context: FetchContext) -> pa.Table:
        """Energi Data Service records → canonical rows."""
        return parse_energinet(payload, context)
