"""Volue Insight client: OAuth client credentials, curves found by name, instances (issued forecasts) with data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from scalar_ray.config.settings import ProviderSettings
from scalar_ray.core.errors import PayloadError
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec
from scalar_ray.providers.client import ClientOptions, ProviderClient
from scalar_ray.providers.parsing import FetchContext
from scalar_ray.providers.volue_parser import parse_volue

__all__ = ["VolueClient"]


class VolueClient(ProviderClient):
    """Every instance issued for the window (up to ``lookback_issues`` before it), with its data in the window."""

    provider = "volue"
    lookback_issues = timedelta(days=2)

    def __init__(self, settings: ProviderSettings, options: ClientOptions | None = None) -> None:
        super().__init__(settings, options)
        self.oauth = self._oauth("")
        self._curve_ids: dict[str, int] = {}

    def fetch_payloads(self, spec: DatasetSpec, area: str, window: Window) -> Iterable[bytes]:
        """The instances (a JSON list) issued around the window."""
        curve = str(spec.params["curve"]).format(area=area.lower())
        curve_id = self._curve_id(curve, spec, window)
        params = {
            "issue_date_from": _iso(window.start - self.lookback_issues),
            "issue_date_to": _iso(window.end),
            "with_data": "true",
            "data_from": _iso(window.start),
            "data_to": _iso(window.end),
        }
        response = self.http.request(
            "GET",
            f"api/instances/{curve_id}",
            params=params,
            headers=self.oauth.headers(),
            dataset=spec.id,
            window=str(window),
        )
        return [response.content]

    def parse(self, payload: bytes, context: FetchContext) -> pa.Table:
        """Volue JSON → canonical rows."""
        return parse_volue(payload, context)

    def _curve_id(self, name: str, spec: DatasetSpec, window: Window) -> int:
        if name not in self._curve_ids:
            response = self.http.request(
                "GET",
                "api/curves/get",
                params={"name": name},
                headers=self.oauth.headers(),
                dataset=spec.id,
                window=str(window),
            )
            body = response.json() if response.content else {}
            if "id" not in body:
                raise PayloadError(self.provider, spec.id, str(window), f"no curve named '{name}'")
            self._curve_ids[name] = int(body["id"])
        return self._curve_ids[name]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
