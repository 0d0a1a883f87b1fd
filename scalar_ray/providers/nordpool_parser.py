"""Nord Pool answers (Data API v2 and the public data portal) → canonical rows. Pure: no I/O.

Vintages: ``updatedAt`` is the issue time, so a republished day (higher ``version``) becomes a new vintage.
"No data yet" answers (portal ``version: 0`` with no entries, API ``status: Missing``, HTTP 204) are empty tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from scalar_ray.core.areas import area_by_code_or_none
from scalar_ray.core.observations import empty_observations
from scalar_ray.core.utc import local_day_window, parse_utc
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.providers.payloads import DatasetReader, parse_json_by_dataset, payload_error, payload_parser

__all__ = ["NORDPOOL_DATASETS", "nordpool_area", "parse_nordpool"]

# Nord Pool's own names for zones that have a different short name in series ids.
_AREA_NAMES = {"GER": "DE-LU", "SYS": "SYSTEM", "SYSTEM": "SYSTEM", "TEL": "DE-LU"}
_MINUTES_TO_RESOLUTION = {5: "PT5M", 15: "PT15M", 30: "PT30M", 60: "PT60M"}
_FINAL = "Final"  # the portal's areaStates value for an area whose auction result is published
_CONTRACT_RESOLUTION = {"QH": "PT15M", "HH": "PT30M", "PH": "PT60M"}
_INTRADAY_FIELDS = {
    "averagePrice": "intraday_vwap",
    "averagePriceLast1H": "intraday_vwap_1h",
    "averagePriceLast3H": "intraday_vwap_3h",
    "highPrice": "intraday_high",
    "lowPrice": "intraday_low",
    "closePrice": "intraday_close",
    "volume": "intraday_volume",
    "buyVolume": "intraday_buy_volume",
    "sellVolume": "intraday_sell_volume",
}


def nordpool_area(name: str) -> str:
    """Series-id short name of a Nord Pool area (``GER`` → ``DE-LU``); other names are kept."""
    return _AREA_NAMES.get(name, name)


@payload_parser
def parse_nordpool(payload: bytes, context: FetchContext) -> pa.Table:
    """Parse one Nord Pool answer for ``context.dataset`` (a key of ``NORDPOOL_DATASETS``)."""
    if not payload.strip():
        return empty_observations()  # HTTP 204: not published yet
    return parse_json_by_dataset(payload, context, NORDPOOL_DATASETS, "Nord Pool")


def _price_indices(document: Mapping[str, Any], builder: ObservationBuilder) -> None:
    """Portal ``DayAheadPriceIndices``: one price per area and delivery period."""
    resolution = _MINUTES_TO_RESOLUTION[int(document["resolutionInMinutes"])]
    issued_at = parse_utc(document["updatedAt"])
    unit = f"{document.get('currency', 'EUR')}/MWh"
    for entry in document.get("multiIndexEntries") or []:
        ts = parse_utc(entry["deliveryStart"])
        for area, value in entry["entryPerArea"].items():
            builder.add_reading(nordpool_area(area), "price", ts, value, issued_at, unit, resolution)


def _day_ahead_prices(document: Mapping[str, Any], builder: ObservationBuilder) -> None:
    """Portal ``DayAheadPrices``: one price per delivery area and market time unit (15 minutes from 2025-10-01).

    ``date`` is the CET delivery day for every area (a Finnish or Baltic day included), and each entry carries its
    own UTC ``deliveryStart``/``deliveryEnd``, so a 23- or 25-hour day needs no local arithmetic here. Only areas
    whose ``areaStates`` entry says ``Final`` are read: other states are not the auction's result yet, and the final
    answer comes later with a newer ``updatedAt`` (a new vintage).
    """
    issued_at = parse_utc(document["updatedAt"])
    unit = f"{document.get('currency', 'EUR')}/MWh"
    states = {area: str(entry.get("state")) for entry in document.get("areaStates") or [] for area in entry["areas"]}
    for entry in document.get("multiAreaEntries") or []:
        start, end = parse_utc(entry["deliveryStart"]), parse_utc(entry["deliveryEnd"])
        if end <= start:
            raise payload_error(
                builder.context, f"delivery period {entry['deliveryStart']} to {entry['deliveryEnd']} is empty"
            )
        resolution = _resolution(start, end)
        for area, value in entry["entryPerArea"].items():
            if states.get(area, _FINAL) == _FINAL:
                builder.add_reading(nordpool_area(area), "price", start, value, issued_at, unit, resolution)


def _aggregate_prices(document: Mapping[str, Any], builder: ObservationBuilder) -> None:
    """Portal ``AggregatePrices``: daily average, minimum and maximum per area, on the area's local day."""
    issued_at = parse_utc(document["updatedAt"])
    statistics = (
        ("averagePerArea", "price_daily_avg"),
        ("minPerArea", "price_daily_min"),
        ("maxPerArea", "price_daily_max"),
    )
    for entry in document.get("multiAreaDailyAggregates") or []:
        day = date.fromisoformat(entry["deliveryStart"])
        for key, variable in statistics:
            for area, value in (entry.get(key) or {}).items():
                known = area_by_code_or_none(nordpool_area(area))
                ts, _ = local_day_window(day, known.timezone if known else "Europe/Oslo")
                builder.add_reading(nordpool_area(area), variable, ts, value, issued_at, "EUR/MWh", "P1D")


def _auction_prices(document: Iterable[Mapping[str, Any]], builder: ObservationBuilder) -> None:
    """Data API ``Auction/Prices/ByAreas``: one list entry per area."""
    for area_entry in _available(document):
        area = nordpool_area(area_entry["deliveryArea"])
        issued_at = parse_utc(area_entry["updatedAt"])
        unit = area_entry.get("unit") or "EUR/MWh"
        for price in area_entry.get("prices") or []:
            start, end = parse_utc(price["deliveryStart"]), parse_utc(price["deliveryEnd"])
            builder.add_reading(area, "price", start, price["price"], issued_at, unit, _resolution(start, end))


def _auction_capacities(document: Iterable[Mapping[str, Any]], builder: ObservationBuilder) -> None:
    """Data API ``Auction/Capacities/ByAreas``: per-connection import and export capacity, and the totals."""
    for area_entry in _available(document):
        area = nordpool_area(area_entry["deliveryArea"])
        issued_at = parse_utc(area_entry["updatedAt"])
        for period in area_entry.get("capacities") or []:
            start, end = parse_utc(period["deliveryStart"]), parse_utc(period["deliveryEnd"])
            resolution = _resolution(start, end)
            for connection in period.get("importsByConnection") or []:
                other = nordpool_area(connection["area"])
                builder.add_reading(
                    f"{other}>{area}", "capacity", start, connection["capacity"], issued_at, "MW", resolution
                )
            for connection in period.get("exportsByConnection") or []:
                other = nordpool_area(connection["area"])
                builder.add_reading(
                    f"{area}>{other}", "capacity", start, connection["capacity"], issued_at, "MW", resolution
                )
            builder.add_reading(
                area, "capacity_import_total", start, period.get("totalImport"), issued_at, "MW", resolution
            )
            builder.add_reading(
                area, "capacity_export_total", start, period.get("totalExport"), issued_at, "MW", resolution
            )


def _exchanges(document: Iterable[Mapping[str, Any]], builder: ObservationBuilder) -> None:
    """Data API ``PowerSystem/Exchanges/ByAreas``: flows per connection (from>to) and the area's net position."""
    for area_entry in _available(document):
        area = nordpool_area(area_entry["deliveryArea"])
        issued_at = parse_utc(area_entry["updatedAt"])
        for period in area_entry.get("exchanges") or []:
            start, end = parse_utc(period["deliveryStart"]), parse_utc(period["deliveryEnd"])
            resolution = _resolution(start, end)
            for connection in period.get("byConnections") or []:
                other = nordpool_area(connection["area"])
                builder.add_reading(
                    f"{area}>{other}",
                    "physical_flow",
                    start,
                    connection.get("export"),
                    issued_at,
                    "MW",
                    resolution,
                )
                builder.add_reading(
                    f"{other}>{area}",
                    "physical_flow",
                    start,
                    connection.get("import"),
                    issued_at,
                    "MW",
                    resolution,
                )
            builder.add_reading(
                area, "net_position", start, period.get("totalNetPosition"), issued_at, "MW", resolution
            )


def _intraday_statistics(document: Iterable[Mapping[str, Any]], builder: ObservationBuilder) -> None:
    """Data API ``Intraday/ContractStatistics/ByAreas``: per-contract prices and volumes (traded ones only)."""
    for area_entry in _available(document):
        area = nordpool_area(area_entry["deliveryArea"])
        issued_at = parse_utc(area_entry["updatedAt"])
        price_unit, volume_unit = area_entry.get("priceUnit", "EUR/MWh"), area_entry.get("volumeUnit", "MW")
        for contract in area_entry.get("contracts") or []:
            product = contract["contractName"][:2]
            resolution = _CONTRACT_RESOLUTION.get(product)
            if resolution is None:
                continue  # block and custom products are not interval series
            # Quarter-hour, half-hour and hour products start at the same moments, and a local contract and a
            # cross-border (XBID) one can cover the same period: each is its own series.
            scope = f"_{product.lower()}" + ("_local" if contract.get("isLocalContract") else "")
            ts = parse_utc(contract["deliveryStart"])
            for field, variable in _INTRADAY_FIELDS.items():
                unit = volume_unit if "olume" in field else price_unit
                builder.add_reading(area, f"{variable}{scope}", ts, contract.get(field), issued_at, unit, resolution)


NORDPOOL_DATASETS: dict[str, DatasetReader] = {
    "DayAheadPrices": _day_ahead_prices,
    "DayAheadPriceIndices": _price_indices,
    "AggregatePrices": _aggregate_prices,
    "AuctionPrices": _auction_prices,
    "AuctionCapacities": _auction_capacities,
    "Exchanges": _exchanges,
    "IntradayStatistics": _intraday_statistics,
}


def _available(document: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    return (entry for entry in document if entry.get("status") != "Missing")


def _resolution(start: datetime, end: datetime) -> str:
    minutes = int((end - start).total_seconds() // 60)
    return _MINUTES_TO_RESOLUTION.get(minutes, f"PT{minutes}M")
