"""Energinet Energi Data Service answers → canonical rows. Pure: no I/O.

Records carry naive timestamps in pairs (``*UTC`` and ``*DK`` Danish local time); only the UTC column is read, so
DST needs no guessing. Vintages: forecast rows carry their own issue time (``TimestampUTC``), so each revision is a
new vintage; other datasets have no publication stamp and take the fetch time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from scalar_ray.core.utc import parse_utc
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.providers.payloads import DatasetReader, parse_json_by_dataset, payload_parser

__all__ = ["ENERGINET_DATASETS", "parse_energinet"]

_PRODUCTION_COLUMNS = {
    "ProductionLt100MW": "production_lt100mw",
    "ProductionGe100MW": "production_ge100mw",
    "OffshoreWindPower": "wind_offshore",
    "OnshoreWindPower": "wind_onshore",
    "SolarPower": "solar",
    "ExchangeGreatBelt": "exchange_great_belt",
    "ExchangeGermany": "exchange_de",
    "ExchangeNetherlands": "exchange_nl",
    "ExchangeGreatBritain": "exchange_gb",
    "ExchangeNorway": "exchange_no",
    "ExchangeSweden": "exchange_se",
    "BornholmSE4": "exchange_bornholm_se4",
}
_FORECAST_HORIZONS = {
    "ForecastDayAhead": "da",
    "Forecast5Hour": "5h",
    "Forecast1Hour": "1h",
    "ForecastCurrent": "current",
}


@payload_parser
def parse_energinet(payload: bytes, context: FetchContext) -> pa.Table:
    """Parse one Energi Data Service answer for ``context.dataset`` (a key of ``ENERGINET_DATASETS``)."""
    return parse_json_by_dataset(payload, context, ENERGINET_DATASETS, "Energinet")


def _production_5min(document: Mapping[str, Any], builder: ObservationBuilder) -> None:
    """``ElectricityProdex5MinRealtime``: production by type and exchange per price area, every 5 minutes."""
    issued_at = builder.context.fetched_at
    for record in document["records"]:
        ts = parse_utc(record["Minutes5UTC"])
        for column, variable in _PRODUCTION_COLUMNS.items():
            builder.add_reading(record["PriceArea"], variable, ts, record.get(column), issued_at, "MW", "PT5M")


def _forecasts_5min(document: Mapping[str, Any], builder: ObservationBuilder) -> None:
    """``Forecasts_5Min``: wind and solar forecasts at four horizons, each row stamped with its issue time."""
    for record in document["records"]:
        ts = parse_utc(record["Minutes5UTC"])
        issued_at = parse_utc(record["TimestampUTC"])
        kind = _slug(record["ForecastType"])
        for column, horizon in _FORECAST_HORIZONS.items():
            builder.add_reading(
                record["PriceArea"],
                f"forecast_{kind}_{horizon}",
                ts,
                record.get(column),
                issued_at,
                "MW",
                "PT5M",
            )


def _day_ahead_prices(document: Mapping[str, Any], builder: ObservationBuilder) -> None:
    """``DayAheadPrices`` (15-minute, from 2025-10-01): EUR and DKK prices per price area."""
    issued_at = builder.context.fetched_at
    for record in document["records"]:
        ts = parse_utc(record["TimeUTC"])
        builder.add_reading(
            record["PriceArea"], "price", ts, record.get("DayAheadPriceEUR"), issued_at, "EUR/MWh", "PT15M"
        )
        builder.add_reading(
            record["PriceArea"], "price_dkk", ts, record.get("DayAheadPriceDKK"), issued_at, "DKK/MWh", "PT15M"
        )


def _elspot_prices(document: Mapping[str, Any], builder: ObservationBuilder) -> None:
    """``Elspotprices`` (hourly, up to 2025-09-30), REST records or the legacy GraphQL ``data.elspotprices``."""
    issued_at = builder.context.fetched_at
    records = document["records"] if "records" in document else document["data"]["elspotprices"]
    for record in records:
        area = record.get("PriceArea") or builder.context.area
        if not area:
            raise ValueError("a record names no PriceArea and the request named no area")
        ts = parse_utc(record["HourUTC"])
        builder.add_reading(area, "price", ts, record.get("SpotPriceEUR"), issued_at, "EUR/MWh", "PT60M")
        builder.add_reading(area, "price_dkk", ts, record.get("SpotPriceDKK"), issued_at, "DKK/MWh", "PT60M")


def _power_system_right_now(document: Mapping[str, Any], builder: ObservationBuilder) -> None:
    """``PowerSystemRightNow``: the whole Danish system minute by minute; every numeric column is a series."""
    issued_at = builder.context.fetched_at
    for record in document["records"]:
        ts = parse_utc(record["Minutes1UTC"])
        for column, value in record.items():
            if column.endswith(("UTC", "DK")) or isinstance(value, str) or value is None:
                continue
            builder.add_reading("DK", _slug(column), ts, value, issued_at, "MW", "PT1M")


ENERGINET_DATASETS: dict[str, DatasetReader] = {
    "ElectricityProdex5MinRealtime": _production_5min,
    "Forecasts_5Min": _forecasts_5min,
    "DayAheadPrices": _day_ahead_prices,
    "Elspotprices": _elspot_prices,
    "PowerSystemRightNow": _power_system_right_now,
}


@functools.lru_cache(maxsize=1024)  # a few dozen column names, met once per record (216,000 rows in a month)
def _slug(text: str) -> str:
    """``Offshore Wind`` → ``offshore_wind``; ``CO2Emission`` → ``co2_emission``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")
