"""Every real payload in tests/fixtures/providers parses with its provider's parser (no fixture left out)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pyarrow as pa
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from scalar_ray.config import load_settings
from scalar_ray.core.areas import AREAS
from scalar_ray.core.observations import OBSERVATION_SCHEMA
from scalar_ray.core.utc import local_day_window
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.client import ClientOptions
from scalar_ray.providers.clients import build_client
from scalar_ray.providers.elia_parser import parse_elia
from scalar_ray.providers.energinet_parser import parse_energinet
from scalar_ray.providers.entsoe_parser import parse_entsoe
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.providers.meteologica_parser import parse_meteologica
from scalar_ray.providers.nordpool_parser import parse_nordpool
from scalar_ray.providers.parsing import FetchContext
from tests.conftest import FIXTURES
from tests.unit.providers.helpers import FETCHED_AT, WIDE, context, fixture_bytes

PARSERS: dict[str, Callable[[bytes, FetchContext], pa.Table]] = {
    "entsoe": parse_entsoe,
    "nordpool": parse_nordpool,
    "energinet": parse_energinet,
    "elia": parse_elia,
    "jao": parse_jao,
    "meteologica": parse_meteologica,
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


@pytest.mark.parametrize(("provider", "name"), every_fixture(), ids=lambda value: value)
def test_every_real_fixture_parses(provider: str, name: str) -> None:
    if provider == "entsoe":
        dataset, area = (name.split("_", maxsplit=1)[0] if name.startswith("A") else "A44"), ""
    else:
        assert name in DATASETS.get(provider, {}), f"map {provider}/{name} to its dataset in this test"
        dataset, area = DATASETS[provider][name]
    raised = None
    try:
        table = PARSERS[provider](fixture_bytes(provider, name), context(provider, dataset, area=area))
    except Exception as exc:
        raised = exc
    if name == "ack_999_offset_exceeded_fixture.xml":
        assert type(raised).__name__ == "WindowTooLargeError"
        return
    assert raised is None, f"{provider}/{name}: {raised}"
    assert table.schema == OBSERVATION_SCHEMA
    assert (table.num_rows == 0) == (name in NO_DATA)


@pytest.mark.parametrize(
    "cassette", sorted(p.name for p in (FIXTURES / "providers/nordpool").glob("dataportal_vcr_*.yaml"))
)
def test_every_recorded_nordpool_portal_interaction_parses(cassette: str) -> None:
    interactions = yaml.safe_load(fixture_bytes("nordpool", cassette))["interactions"]
    for interaction in interactions:
        dataset = urlsplit(interaction["request"]["uri"]).path.rsplit("/", 1)[-1]
        body = interaction["response"]["body"]["string"].encode()

        table = parse_nordpool(body, context("nordpool", dataset))

        entries = json.loads(body).get("multiIndexEntries") or json.loads(body).get("multiAreaDailyAggregates") or []
        assert (table.num_rows == 0) == (not entries)


def test_meteologica_documented_token_renewal() -> None:
    shapes = json.loads(fixture_bytes("meteologica", "doc_excerpt_login_latest_updates.json"))
    login_ok = shapes["POST /api/v1/login -> 200 (success)"] | {"token": "jwt-1"}
    bad_token = shapes["GET (bad token) -> 400"]
    data = json.loads(fixture_bytes("meteologica", "doc_excerpt_contents_data_response_content4226.json"))
    logins: list[str] = []
    data_calls = {"count": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/login"):
            logins.append("login")
            return httpx.Response(200, json=login_ok | {"token": f"jwt-{len(logins)}"})
        if request.url.path.endswith("/contents"):
            return httpx.Response(
                200, json=[{"id": 4226, "name": "Denmark DK1 wind power generation forecast Meteologica"}]
            )
        data_calls["count"] += 1
        if request.url.params["token"] == "jwt-1":
            return httpx.Response(400, json=bad_token)  # the first token has expired
        return httpx.Response(200, json=data)

    client = build_client(
        "meteologica",
        load_settings({}),
        ClientOptions(transport=httpx.MockTransport(handler), sleep=lambda _: None, clock=lambda: FETCHED_AT),
    )
    spec = load_catalogue().get("meteologica", "wind_power_forecast")
    window = Window(FETCHED_AT - timedelta(hours=1), FETCHED_AT + timedelta(days=1))

    client.fetch_payloads(spec, "DK1", window).__next__()

    assert logins == ["login", "login"]  # one renewal after "Error. Invalid token", not a loop
    assert data_calls["count"] == 2


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    zone=st.sampled_from(sorted({area.timezone for area in AREAS})),
)
def test_local_days_tile_utc_time_and_last_23_24_or_25_hours(day: date, zone: str) -> None:
    start, end = local_day_window(day, zone)
    next_start, _ = local_day_window(day + timedelta(days=1), zone)

    assert end == next_start
    assert end - start in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))


def test_window_default_is_wide_enough_for_every_fixture() -> None:
    assert WIDE.start.year <= 2020 and WIDE.end.year >= 2030
