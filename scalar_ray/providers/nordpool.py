"""Nord Pool client: the Data API (OAuth client credentials) and the public data portal, one delivery day a call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from scalar_ray.config.settings import ProviderSettings
from scalar_ray.core.errors import ProviderAuthError
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec
from scalar_ray.providers.client import ClientOptions, ProviderClient
from scalar_ray.providers.nordpool_parser import parse_nordpool
from scalar_ray.providers.parsing import FetchContext

__all__ = ["NordPoolClient", "delivery_days"]

_CET = ZoneInfo("Europe/Oslo")  # Nord Pool's delivery days are CET/CEST days
_NORDPOOL_NAMES = {"DE-LU": "GER", "SYSTEM": "SYS"}


def delivery_days(window: Window) -> list[date]:
    """The CET delivery days that overlap ``window``."""
    first = window.start.astimezone(_CET).date()
    last = (window.end - timedelta(microseconds=1)).astimezone(_CET).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


class NordPoolClient(ProviderClient):
    """Data API datasets carry a Bearer token; portal datasets (``portal: true``) need none."""

    provider = "nordpool"

    def __init__(self, settings: ProviderSettings, options: ClientOptions | None = None) -> None:
        super().__init__(settings, options)
        self.portal = self._http(settings.secondary_url or settings.base_url)
        self.oauth = self._oauth("marketdata_api")

    def fetch_payloads(self, spec: DatasetSpec, area: str, window: Window) -> Iterator[bytes]:
        """One answer per delivery day."""
        name = _NORDPOOL_NAMES.get(area, area)
        for day in delivery_days(window):
            if spec.params.get("portal"):
                params = {
                    "date": day.isoformat(),
                    "market": spec.params.get("market", "DayAhead"),
                    "currency": spec.params.get("currency", "EUR"),
                }
                if spec.key == "DayAheadPrices":
                    # The market's own time unit (15 minutes from 2025-10-01); 204 until the day is published.
                    params["deliveryArea"] = name
                else:
                    params |= {"indexNames": name, "resolutionInMinutes": spec.params.get("resolutionInMinutes", 60)}
                yield self.portal.request(
                    "GET", str(spec.params["path"]), params=params, dataset=spec.id, window=str(window)
                ).content
                continue
            params = {"date": day.isoformat(), "areas": name}
            params |= {key: str(spec.params[key]) for key in ("market", "currency") if key in spec.params}
            yield self._authorized_get(str(spec.params["path"]), params, spec.id, str(window))

    def _authorized_get(self, path: str, params: dict[str, str], dataset: str, window: str) -> bytes:
        try:
            return self.http.request(
                "GET", path, params=params, headers=self.oauth.headers(), dataset=dataset, window=window
            ).content
        except ProviderAuthError:
            if not self.oauth.configured:
                raise
            self.oauth.invalidate()  # the token was revoked or expired early: one fresh try
            return self.http.request(
                "GET", path, params=params, headers=self.oauth.headers(), dataset=dataset, window=window
            ).content

    def parse(self, payload: bytes, context: FetchContext) -> pa.Table:
        """Nord Pool JSON → canonical rows."""
        return parse_nordpool(payload, context)
