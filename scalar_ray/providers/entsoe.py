"""ENTSO-E Transparency Platform client: ``GET /api`` with the ``securityToken`` query parameter."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

import pyarrow as pa

from scalar_ray.core.areas import area_by_code
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec
from scalar_ray.providers.client import ProviderClient
from scalar_ray.providers.entsoe_parser import parse_entsoe
from scalar_ray.providers.parsing import FetchContext

__all__ = ["EntsoeClient"]

# Request parameters the catalogue may carry through unchanged.
_PASS_THROUGH = ("documentType", "processType", "businessType", "contract_MarketAgreement.Type", "psrType")


class EntsoeClient(ProviderClient):
    """One request per window; the catalogue's ``domain`` says which domain parameters name the area."""

    provider = "entsoe"

    def fetch_payloads(self, spec: DatasetSpec, area: str, window: Window) -> Iterable[bytes]:
        """The XML (or ZIP) answer for one window."""
        params = {key: str(spec.params[key]) for key in _PASS_THROUGH if key in spec.params}
        params |= _domain_params(str(spec.params.get("domain", "in_out")), area)
        params |= {
            "periodStart": window.start.astimezone(UTC).strftime("%Y%m%d%H%M"),
            "periodEnd": window.end.astimezone(UTC).strftime("%Y%m%d%H%M"),
        }
        if self.settings.token is not None:
            params["securityToken"] = self.settings.token.get_secret_value()
        response = self.http.request("GET", "", params=params, dataset=spec.id, window=str(window))
        return [response.content]

    def parse(self, payload: bytes, context: FetchContext) -> pa.Table:
        """ENTSO-E XML → canonical rows."""
        return parse_entsoe(payload, context)


def _domain_params(domain: str, area: str) -> dict[str, str]:
    if domain == "pair":
        source, target = area.split(">")
        return {"out_Domain": area_by_code(source).eic, "in_Domain": area_by_code(target).eic}
    eic = area_by_code(area).eic
    return {
        "in_out": {"in_Domain": eic, "out_Domain": eic},
        "outBiddingZone": {"outBiddingZone_Domain": eic},
        "inBiddingZone": {"in_Domain": eic},
        "controlArea": {"controlArea_Domain": eic},
    }[domain]
