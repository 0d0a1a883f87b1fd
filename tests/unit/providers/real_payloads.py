"""The real payloads in tests/fixtures/providers: which parser, dataset and request area each one answers."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from scalar_ray.providers.elia_parser import parse_elia
from scalar_ray.providers.energinet_parser import parse_energinet
from scalar_ray.providers.entsoe_parser import parse_entsoe
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.providers.meteologica_parser import parse_meteologica
from scalar_ray.providers.nordpool_parser import parse_nordpool
from scalar_ray.providers.parsing import FetchContext
from scalar_ray.providers.volue_parser import parse_volue
from tests.conftest import FIXTURES

PARSERS: dict[str, Callable[[bytes, FetchContext], pa.Table]] = {
    "entsoe": parse_entsoe,
    "nordpool": parse_nordpool,
    "energinet": parse_energinet,
    "elia": parse_elia,
    "jao": parse_jao,
    "meteologica": parse_meteologica,
    "volue": parse_volue,
}
# file → (dataset, area from the request when the payload does not name it)
DATASETS: dict[str, dict[str, tuple[str, str]]] = {
    "nordpool": {
        "dataapi_v2_Auction_Capacities_ByAreas_GER.json": ("AuctionCapacities", ""),
        "dataapi_v2_Auction_Capacities_ByAreas_GER_missing.json": ("AuctionCapacities", ""),
        "dataapi_v2_Auction_Prices_ByAreas_SE_current.json": ("AuctionPrices", ""),
        "dataapi_v2_Auction_Prices_ByAreas_SE_next.json": ("AuctionPrices", ""),
        "dataapi_v2_Intraday_ContractStatistics_ByAreas_GER.json": ("IntradayStatistics", ""),
        "dataapi_v2_PowerSystem_Exchanges_ByAreas_FI_SE1.json": ("Exchanges", ""),
        "dataportal_AggregatePrices_FI_2025.json": ("AggregatePrices", ""),
        "dataportal_DayAheadPrices_SE3_2024-11-05.json": ("DayAheadPrices", ""),
        "dataportal_DayAheadPriceIndices_FI_15min.json": ("DayAheadPriceIndices", ""),
        "dataportal_DayAheadPriceIndices_FI_60min.json": ("DayAheadPriceIndices", ""),
        "dataportal_DayAheadPriceIndices_FI_not_yet_available.json": ("DayAheadPriceIndices", ""),
        "dataportal_DayAheadPriceIndices_SE1-4_60min.json": ("DayAheadPriceIndices", ""),
        "dataportal_DayAheadPriceIndices_SYSTEM_60min.json": ("DayAheadPriceIndices", ""),
    },
    "energinet": {
        "ElectricityProdex5MinRealtime_DK.json": ("ElectricityProdex5MinRealtime", ""),
        "Forecasts_5Min_DK.json": ("Forecasts_5Min", ""),
        "legacy_graphql_elspotprices_2022-03-25.json": ("Elspotprices", "DK1"),
    },
    "elia": {
        "ods201_records_generation_by_fuel.json": ("ods201", ""),
        "ods161_records_imbalance_PT1M_test_excerpt.json": ("ods161", ""),
        "legacy_ImbalanceNrvPrices_2022-04-03.csv": ("legacy_imbalance_nrv_prices", ""),
    },
    "jao": {
        "auctionapi_getauctions_IF1-FR-GB.json": ("auctions", ""),
        "auctionapi_getauctions_IF1-FR-GB_dst_long_2025-10-26.json": ("auctions", ""),
        "auctionapi_getauctions_IF1-FR-GB_dst_short_2026-03-29.json": ("auctions", ""),
        "auctionapi_getauctions_no_data_400.json": ("auctions", ""),
        "publicationtool_core_atc.json": ("atc", ""),
        "publicationtool_core_maxExchanges.json": ("maxExchanges", ""),
        "publicationtool_core_scheduledExchanges.json": ("scheduledExchanges", ""),
        "publicationtool_core_shadowAuctionATC.json": ("shadowAuctionATC", ""),
    },
    "meteologica": {"doc_excerpt_contents_data_response_content4226.json": ("wind_power_forecast", "US48")},
}
NO_DATA = {
    "ack_999_no_data_fixture.xml",
    "ack_B11_not_available_fixture.xml",
    "auctionapi_getauctions_no_data_400.json",
    "dataapi_v2_Auction_Capacities_ByAreas_GER_missing.json",
    "dataportal_DayAheadPriceIndices_FI_not_yet_available.json",
}
NOT_PAYLOADS = {"SOURCE.md", "doc_excerpt_login_latest_updates.json"}  # the latter: login/error shapes, tested below


def every_fixture() -> list[tuple[str, str]]:
    return sorted(
        (d.name, f.name)
        for d in (FIXTURES / "providers").iterdir()
        for f in d.iterdir()
        if f.name not in NOT_PAYLOADS and not f.name.startswith("dataportal_vcr_")
    )


def dataset_and_area(provider: str, name: str) -> tuple[str, str]:
    """The dataset a real payload answers and the area its request named (when the payload does not)."""
    if provider == "entsoe":
        return (name.split("_", maxsplit=1)[0] if name.startswith("A") else "A44"), ""
    assert name in DATASETS.get(provider, {}), f"map {provider}/{name} to its dataset in real_payloads.py"
    return DATASETS[provider][name]
