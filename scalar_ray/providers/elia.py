"""Elia Open Data client: the ODS ``/exports/json`` endpoint, which has no 100-row page limit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

import pyarrow as pa

from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec
from scalar_ray.providers.client import ProviderClient
from scalar_ray.providers.elia_parser import parse_elia
from scalar_ray.providers.parsing import FetchContext

__all__ = ["EliaClient"]


class EliaClient(ProviderClient):
    """One export per window, filtered with ODSQL on ``datetime`` (UTC)."""

    provider = "elia"

    def fetch_payloads(self, spec: DatasetSpec, area: str, window: Window) -> Iterable[bytes]:
        """The JSON export of one window."""
        start = window.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = window.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {
            "where": f"datetime >= date'{start}' AND datetime < date'{end}'",
            "order_by": "datetime",
            "timezone": "UTC",
        }
        response = self.http.request(
            "GET", f"catalog/datasets/{spec.key}/exports/json", params=params, dataset=spec.id, window=str(window)
        )
        return [response.content]

    def parse(self, payload: bytes, context: FetchContext) -> pa.Table:
        """ODS records → canonical rows."""
        return parse_elia(payload, context)
