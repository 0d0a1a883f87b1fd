"""Elia Open Data (Opendatasoft Explore v2.1) answers → canonical rows. Pure: no I/O.

``/records`` and ``/exports/json`` answers (``{"total_count", "results": [...]}`` or a bare list) carry ISO
timestamps with an offset. Each dataset names its value columns (and, for generation by fuel, a dimension column);
unknown numeric columns of a known dataset are ignored so an added column never breaks ingestion. Values are
revised in place (``qualitystatus`` NotValidated → Validated), so the fetch time is the vintage.
The legacy website CSV export (``ImbalanceNrvPrices``) is parsed too, for back-filling before ODS existed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from scalar_ray.core.utc import parse_utc
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.providers.payloads import payload_error, payload_parser

__all__ = ["ELIA_DATASETS", "EliaDataset", "parse_elia"]

_AREA = "BE"
_BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass(frozen=True)
class EliaDataset:
    """How one ODS dataset maps to series: value column → (variable, unit); an optional dimension column."""

    values: dict[str, tuple[str, str]]
    dimension: str | None = None
    prefix: str = ""
    resolution: str = "PT15M"


_IMBALANCE = {
    "systemimbalance": ("system_imbalance", "MW"),
    "ace": ("ace", "MW"),
    "alpha": ("alpha", "EUR/MWh"),
    "alpha_prime": ("alpha_prime", "EUR/MWh"),
    "marginalincrementalprice": ("marginal_incremental_price", "EUR/MWh"),
    "marginaldecrementalprice": ("marginal_decremental_price", "EUR/MWh"),
    "imbalanceprice": ("imbalance_price", "EUR/MWh"),
    "netregulationvolume": ("net_regulation_volume", "MW"),
    "positiveimbalanceprice": ("imbalance_price_pos", "EUR/MWh"),
    "negativeimbalanceprice": ("imbalance_price_neg", "EUR/MWh"),
}
_FORECASTS = {
    "measured": ("measured", "MW"),
    "mostrecentforecast": ("forecast_most_recent", "MW"),
    "dayahead11hforecast": ("forecast_da_11h", "MW"),
    "dayaheadforecast": ("forecast_da", "MW"),
    "weekaheadforecast": ("forecast_wa", "MW"),
    "mostrecentconfidence10": ("forecast_most_recent_p10", "MW"),
    "mostrecentconfidence90": ("forecast_most_recent_p90", "MW"),
    "monitoredcapacity": ("monitored_capacity", "MW"),
}
_LOAD = {
    "totalload": ("load", "MW"),
    "mostrecentforecast": ("load_forecast_most_recent", "MW"),
    "dayaheadforecast": ("load_forecast_da", "MW"),
    "weekaheadforecast": ("load_forecast_wa", "MW"),
    "measured": ("load", "MW"),
    "eliagridload": ("load_elia_grid", "MW"),
}

ELIA_DATASETS: dict[str, EliaDataset] = {
    "ods001": EliaDataset(_LOAD),
    "ods002": EliaDataset(_LOAD),
    "ods003": EliaDataset(_LOAD),
    "ods031": EliaDataset(_FORECASTS, prefix="wind_"),
    "ods086": EliaDataset(_FORECASTS, prefix="wind_"),
    "ods032": EliaDataset(_FORECASTS, prefix="solar_"),
    "ods087": EliaDataset(_FORECASTS, prefix="solar_"),
    "ods201": EliaDataset({"generatedpower": ("generation", "MW")}, dimension="fueltypeentsoe"),
    "ods047": EliaDataset(_IMBALANCE),
    "ods134": EliaDataset(_IMBALANCE),
    "ods161": EliaDataset(_IMBALANCE, resolution="PT1M"),
    "ods162": EliaDataset(_IMBALANCE),
    "ods169": EliaDataset(_IMBALANCE),
    "ods136": EliaDataset(_IMBALANCE, resolution="PT1M"),
    "ods147": EliaDataset(
        {"activatedvolume": ("activated_volume", "MW"), "price": ("activation_price", "EUR/MWh")}, dimension="product"
    ),
}

_LEGACY_CSV = "legacy_imbalance_nrv_prices"
# The old export's value columns in order (after title, validity, date and quarter).
_LEGACY_COLUMNS = (
    ("nrv", "MW"),
    ("system_imbalance", "MW"),
    ("alpha", "EUR/MWh"),
    ("marginal_incremental_price", "EUR/MWh"),
    ("marginal_decremental_price", "EUR/MWh"),
    ("strategic_reserve_price", "EUR/MWh"),
    ("si_ic", "MW"),
    ("imbalance_price_pos", "EUR/MWh"),
    ("imbalance_price_neg", "EUR/MWh"),
)


@payload_parser
def parse_elia(payload: bytes, context: FetchContext) -> pa.Table:
    """Parse one Elia answer for ``context.dataset`` (an ODS dataset id, or the legacy CSV export)."""
    builder = ObservationBuilder(context)
    try:
        if context.dataset == _LEGACY_CSV:
            _legacy_csv(payload.decode("utf-8-sig"), builder)
        else:
            spec = ELIA_DATASETS.get(context.dataset)
            if spec is None:
                raise payload_error(context, f"unknown Elia dataset; known: {', '.join(sorted(ELIA_DATASETS))}")
            _records(_results(payload, context), spec, builder)
    except (KeyError, TypeError, ValueError, AttributeError, UnicodeDecodeError) as exc:
        raise payload_error(context, f"unexpected payload shape: {type(exc).__name__}: {exc}") from exc
    return builder.build()


def _results(payload: bytes, context: FetchContext) -> list[dict[str, Any]]:
    try:
        document = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise payload_error(context, f"malformed JSON: {exc}") from exc
    if isinstance(document, list):  # /exports/json
        return document
    if "results" in document:
        return list(document["results"])
    if "records" in document:  # the deprecated v2.0 shape
        return [record["record"]["fields"] for record in document["records"]]
    raise ValueError("no 'results' in the answer")


def _records(records: list[dict[str, Any]], spec: EliaDataset, builder: ObservationBuilder) -> None:
    issued_at = builder.context.fetched_at
    for record in records:
        ts = parse_utc(record["datetime"])
        resolution = record.get("resolutioncode") or spec.resolution
        qualifier = f"_{_slug(str(record[spec.dimension]))}" if spec.dimension else ""
        for column, (variable, unit) in spec.values.items():
            value = record.get(column)
            if value is None:
                continue  # future rows have measured: null
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"non-numeric {column} value {value!r} at {record['datetime']}")
            builder.add(
                area=_AREA,
                variable=f"{spec.prefix}{variable}{qualifier}",
                ts=ts,
                value=float(value),
                issued_at=issued_at,
                unit=unit,
                resolution=resolution,
            )


def _legacy_csv(text: str, builder: ObservationBuilder) -> None:
    """The website export mixes ',' and ';' as separators; splitting on both yields the 13 columns."""
    lines = [line for line in text.splitlines() if line.strip()]
    seen: set[datetime] = set()
    for line in lines[1:]:
        fields = re.split(r"[,;]", line)
        day, quarter, values = fields[2], fields[3], fields[4:]
        if len(values) != len(_LEGACY_COLUMNS):
            raise ValueError(f"expected {len(_LEGACY_COLUMNS)} values for {day} {quarter}, found {len(values)}")
        local = datetime.strptime(f"{day} {quarter.split('->')[0].strip()}", "%d/%m/%Y %H:%M")
        # On the autumn DST day the 02:00-03:00 quarters appear twice: the second time is the later, CET hour.
        fold = 1 if local in seen else 0
        seen.add(local)
        ts = local.replace(tzinfo=_BRUSSELS, fold=fold).astimezone(ZoneInfo("UTC"))
        for (variable, unit), text_value in zip(_LEGACY_COLUMNS, values, strict=True):
            if text_value.strip():
                builder.add(
                    area=_AREA,
                    variable=variable,
                    ts=ts,
                    value=float(text_value),
                    issued_at=builder.context.fetched_at,
                    unit=unit,
                    resolution="PT15M",
                )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
