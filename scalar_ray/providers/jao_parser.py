"""JAO answers (Publication Tool and Auction API) → canonical rows. Pure: no I/O.

Publication Tool datasets are wide: one row per hour with a ``border_<FROM>_<TO>`` column per direction; each
column becomes the series of area ``FROM>TO`` (JAO's ``DE`` is the DE-LU zone). Auction results are keyed by
product (``B01`` … ``B25`` from the market period's start), which stays right on 23- and 25-hour days where the
``productHour`` wall-clock labels do not. "No Data found" (HTTP 400) is an empty table.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from scalar_ray.core.observations import empty_observations
from scalar_ray.core.utc import parse_utc
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.providers.payloads import decode_json, payload_error, reading

__all__ = ["JAO_PUBLICATION_VARIABLES", "jao_area", "parse_jao"]

JAO_PUBLICATION_VARIABLES = {
    "maxExchanges": "max_exchange",
    "atc": "atc",
    "shadowAuctionATC": "shadow_auction_atc",
    "scheduledExchanges": "scheduled_exchange",
    "maxBorderFlow": "max_border_flow",
    "netPos": "net_position",
}
AUCTION_DATASET = "auctions"
_AREA_NAMES = {"DE": "DE-LU", "D1": "DK1", "D2": "DK2"}
_BORDER = re.compile(r"^border_(?P<source>[A-Za-z0-9]+)_(?P<target>[A-Za-z0-9]+)$")
_AUCTION_VALUES = {
    "auctionPrice": ("auction_price", "EUR/MWh"),
    "offeredCapacity": ("offered_capacity", "MW"),
    "requestedCapacity": ("requested_capacity", "MW"),
    "allocatedCapacity": ("allocated_capacity", "MW"),
}
_PRODUCT = re.compile(r"^B(?P<number>\d{2})")


def jao_area(name: str) -> str:
    """Series-id short name of a JAO zone (``DE`` → ``DE-LU``); other names are kept."""
    return _AREA_NAMES.get(name, name)


def parse_jao(payload: bytes, context: FetchContext) -> pa.Table:
    """Parse one JAO answer for ``context.dataset``: a Publication Tool dataset or ``auctions``."""
    document = decode_json(payload, context)
    if isinstance(document, dict) and "No Data found" in str(document.get("message", "")):
        return empty_observations()
    if context.dataset != AUCTION_DATASET and context.dataset not in JAO_PUBLICATION_VARIABLES:
        known = ", ".join(sorted([*JAO_PUBLICATION_VARIABLES, AUCTION_DATASET]))
        raise payload_error(context, f"unknown JAO dataset; known: {known}")
    if isinstance(document, dict) and document.get("rejected"):
        raise payload_error(context, f"JAO rejected the request: {document.get('messages')}")
    builder = ObservationBuilder(context)
    with reading(context):
        if context.dataset == AUCTION_DATASET:
            _auctions(document, builder)
        else:
            _publication(document, builder, JAO_PUBLICATION_VARIABLES[context.dataset])
    return builder.build()


def _publication(document: dict[str, Any], builder: ObservationBuilder, variable: str) -> None:
    rows = document["data"]
    stamps = sorted({parse_utc(row["dateTimeUtc"]) for row in rows})
    resolution = _resolution(stamps)
    issued_at = builder.context.fetched_at
    for row in rows:
        ts = parse_utc(row["dateTimeUtc"])
        for column, value in row.items():
            match = _BORDER.match(column)
            if match is None or value is None:
                continue
            area = f"{jao_area(match['source'])}>{jao_area(match['target'])}"
            builder.add_reading(area, variable, ts, value, issued_at, "MW", resolution)


def _auctions(document: list[dict[str, Any]], builder: ObservationBuilder) -> None:
    for auction in document:
        if auction.get("cancelled"):
            continue
        start = parse_utc(auction["marketPeriodStart"])
        issued_at = parse_utc(auction["lastDataUpdate"])
        horizon = str(auction.get("horizonName") or "Daily")
        suffix = "" if horizon == "Daily" else f"_{horizon.lower()}"
        for result in auction.get("results") or []:
            product = _PRODUCT.match(result["productIdentification"])
            if product is None:
                continue  # block products have no single hour
            ts = start + timedelta(hours=int(product["number"]) - 1)
            for field, (variable, unit) in _AUCTION_VALUES.items():
                value = result.get(field)
                if value is not None:
                    builder.add(
                        area=result["corridorCode"],
                        variable=variable + suffix,
                        ts=ts,
                        value=float(value),
                        issued_at=issued_at,
                        unit=unit,
                        resolution="PT60M",
                    )


def _resolution(stamps: list[datetime]) -> str:
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    minutes = int(min(gaps).total_seconds() // 60) if gaps else 60
    return f"PT{minutes}M"
