"""JAO answers (Publication Tool and Auction API) → canonical rows. Pure: no I/O.

Publication Tool datasets are wide: one row per hour with a ``border_<FROM>_<TO>`` column per direction; each
column becomes the series of area ``FROM>TO`` (JAO's ``DE`` is the DE-LU zone). "No Data found" (HTTP 400) is an
empty table.

Auction results come unsorted, one per hourly product, named by the CET/CEST wall-clock hour it covers: ``B01``
``00:00-01:00`` … ``B24`` ``23:00-24:00``. The product number is not the hour's position on a DST day: the 23-hour
day (2026-03-29) has no ``B03``, and the 25-hour day (2025-10-26) repeats the hour as ``B03DST`` ``02:00-03:00*``
(the second, CET occurrence). So the products are put in wall-clock order, each starred label after its twin, and
the *i*-th is stamped ``marketPeriodStart + i h``; their count must be the market period's hours, or the auction is
refused (real answers from electricitymaps-contrib's captures, tests/fixtures/providers/jao/SOURCE.md).
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
from scalar_ray.providers.payloads import decode_json, payload_error, payload_parser, reading

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
# An hourly product: ``B01-------`` … ``B24-------``, and ``B03DST----`` on the long day; block products differ.
_HOURLY_PRODUCT = re.compile(r"^B\d{2}(DST)?-*$")
_HOUR_LABEL = re.compile(r"^(?P<hour>\d{2}:00-\d{2}:00)(?P<repeated>\*?)$")
_HOUR = timedelta(hours=1)


def jao_area(name: str) -> str:
    """Series-id short name of a JAO zone (``DE`` → ``DE-LU``); other names are kept."""
    return _AREA_NAMES.get(name, name)


@payload_parser
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
        hourly = _hourly_products(auction, builder.context)
        for position, result in enumerate(hourly):
            ts = start + position * _HOUR
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


def _hourly_products(auction: dict[str, Any], context: FetchContext) -> list[dict[str, Any]]:
    """The auction's hourly results in delivery order, checked against its market period (block products left out)."""
    hourly = [
        result
        for result in auction.get("results") or []
        if _HOURLY_PRODUCT.match(str(result.get("productIdentification", "")))
    ]
    if not hourly:
        return []
    name = auction.get("identification", "?")
    keyed = []
    for result in hourly:
        label = _HOUR_LABEL.match(str(result.get("productHour", "")))
        if label is None:
            raise payload_error(
                context, f"auction {name}: product hour {result.get('productHour')!r} is not HH:00-HH:00"
            )
        keyed.append(((label["hour"], label["repeated"] == "*"), result))
    keyed.sort(key=lambda pair: pair[0])
    labels = [key for key, _ in keyed]
    if len(set(labels)) != len(labels):
        raise payload_error(context, f"auction {name}: a product hour is given twice")
    period = parse_utc(auction["marketPeriodStop"]) - parse_utc(auction["marketPeriodStart"])
    if period != len(keyed) * _HOUR:
        raise payload_error(
            context, f"auction {name}: {len(keyed)} hourly products for a market period of {period / _HOUR:g} hours"
        )
    return [result for _, result in keyed]


def _resolution(stamps: list[datetime]) -> str:
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    minutes = int(min(gaps).total_seconds() // 60) if gaps else 60
    return f"PT{minutes}M"
