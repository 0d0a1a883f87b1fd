from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from scalar_ray.core.errors import PayloadError
from scalar_ray.providers.nordpool_parser import parse_nordpool
from tests.unit.providers.helpers import context, fixture_bytes, series, utc, value_at


def parse(name: str, dataset: str):  # type: ignore[no-untyped-def]
    return parse_nordpool(fixture_bytes("nordpool", name), context("nordpool", dataset))


def test_portal_15_minute_index_with_its_vintage() -> None:
    table = parse("dataportal_DayAheadPriceIndices_FI_15min.json", "DayAheadPriceIndices")

    rows = series(table, "nordpool/DayAheadPriceIndices/FI/price")
    assert len(rows) == 96
    assert rows[0]["ts"] == utc(2025, 5, 6, 22) and rows[0]["value"] == 22.34
    assert rows[0]["resolution"] == "PT15M" and rows[0]["unit"] == "EUR/MWh"
    assert rows[0]["issued_at"] == utc(2025, 5, 6, 11, 22, 9, 220574)  # updatedAt (7 digits, cut to µs)


def test_portal_multi_area_hourly_index() -> None:
    table = parse("dataportal_DayAheadPriceIndices_SE1-4_60min.json", "DayAheadPriceIndices")

    assert value_at(table, "nordpool/DayAheadPriceIndices/SE3/price", utc(2025, 5, 6, 22)) == 56.85
    assert value_at(table, "nordpool/DayAheadPriceIndices/SE4/price", utc(2025, 5, 6, 23)) == 84.73
    assert table.num_rows == 4 * 24


def test_daily_aggregates_sit_on_the_areas_local_day() -> None:
    table = parse("dataportal_AggregatePrices_FI_2025.json", "AggregatePrices")

    # 2025-05-07 in Helsinki (EEST, UTC+3) starts at 21:00 UTC the day before.
    assert value_at(table, "nordpool/AggregatePrices/FI/price_daily_avg", utc(2025, 5, 6, 21)) == 73.21
    assert value_at(table, "nordpool/AggregatePrices/FI/price_daily_max", utc(2025, 5, 6, 21)) == 158.78
    assert {row["resolution"] for row in table.to_pylist()} == {"P1D"}


def test_data_api_auction_prices() -> None:
    table = parse("dataapi_v2_Auction_Prices_ByAreas_SE_current.json", "AuctionPrices")

    rows = series(table, "nordpool/AuctionPrices/SE4/price")
    assert len(rows) == 24
    assert (rows[0]["ts"], rows[0]["value"]) == (utc(2024, 7, 7, 22), 79.67)
    assert (rows[1]["ts"], rows[1]["value"]) == (utc(2024, 7, 7, 23), 74.81)
    assert rows[0]["issued_at"] == utc(2024, 7, 8, 7, 10, 29, 997923)


def test_capacities_per_connection_and_direction() -> None:
    table = parse("dataapi_v2_Auction_Capacities_ByAreas_GER.json", "AuctionCapacities")

    assert value_at(table, "nordpool/AuctionCapacities/NO2_NK>DE-LU/capacity", utc(2025, 5, 9, 22)) == 1444.0
    assert value_at(table, "nordpool/AuctionCapacities/DE-LU>NO2_NK/capacity", utc(2025, 5, 9, 22)) == 1100.0


def test_exchanges_become_directed_flows_and_a_net_position() -> None:
    table = parse("dataapi_v2_PowerSystem_Exchanges_ByAreas_FI_SE1.json", "Exchanges")

    assert value_at(table, "nordpool/Exchanges/FI>SE1/physical_flow", utc(2024, 12, 1, 23)) == 667.0
    assert value_at(table, "nordpool/Exchanges/SE1>FI/physical_flow", utc(2024, 12, 1, 23)) == 0.0
    assert value_at(table, "nordpool/Exchanges/FI/net_position", utc(2024, 12, 1, 23)) == -2935.0
    assert {row["resolution"] for row in series(table, "nordpool/Exchanges/FI/net_position")} == {"PT15M"}


def test_intraday_contract_statistics_keep_negative_prices_and_scope() -> None:
    table = parse("dataapi_v2_Intraday_ContractStatistics_ByAreas_GER.json", "IntradayStatistics")

    assert value_at(table, "nordpool/IntradayStatistics/DE-LU/intraday_vwap_qh", utc(2026, 5, 8, 22)) == 128.6
    assert value_at(table, "nordpool/IntradayStatistics/DE-LU/intraday_low_qh", utc(2026, 5, 8, 22)) == -45.99
    assert value_at(table, "nordpool/IntradayStatistics/DE-LU/intraday_volume_qh", utc(2026, 5, 8, 22)) == 3629.4
    raw = json.loads(fixture_bytes("nordpool", "dataapi_v2_Intraday_ContractStatistics_ByAreas_GER.json"))
    traded = sum(
        1 for c in raw[0]["contracts"] if c["averagePrice"] is not None and c["contractName"][:2] in ("QH", "HH", "PH")
    )
    assert traded == len(
        {
            (r["series_id"], r["ts"])
            for r in table.to_pylist()
            if "vwap" in r["series_id"] and "_1h" not in r["series_id"] and "_3h" not in r["series_id"]
        }
    )


@pytest.mark.parametrize(
    ("name", "dataset"),
    [
        pytest.param(
            "dataportal_DayAheadPriceIndices_FI_not_yet_available.json", "DayAheadPriceIndices", id="portal_version_0"
        ),
        pytest.param(
            "dataapi_v2_Auction_Capacities_ByAreas_GER_missing.json", "AuctionCapacities", id="api_status_missing"
        ),
    ],
)
def test_not_yet_published_is_an_empty_table(name: str, dataset: str) -> None:
    assert parse(name, dataset).num_rows == 0


def test_http_204_empty_body_is_an_empty_table() -> None:
    assert parse_nordpool(b"", context("nordpool", "AuctionPrices")).num_rows == 0


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        pytest.param(
            fixture_bytes("nordpool", "dataapi_v2_Auction_Prices_ByAreas_SE_current.json")[:500],
            "malformed JSON",
            id="truncated",
        ),
        pytest.param(b'{"unexpected": true}', "unexpected payload shape", id="wrong_schema"),
        pytest.param(
            fixture_bytes("nordpool", "dataapi_v2_Auction_Prices_ByAreas_SE_current.json").replace(
                b'"price": 79.67', b'"price": "79,67"'
            ),
            "non-numeric price",
            id="non_numeric",
        ),
    ],
)
def test_malformed_payloads_raise_a_typed_error(payload: bytes, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem) as caught:
        parse_nordpool(payload, context("nordpool", "AuctionPrices"))
    assert caught.value.provider == "nordpool"


def test_portal_day_ahead_prices_of_a_real_day_with_updated_at_as_the_vintage() -> None:
    table = parse("dataportal_DayAheadPrices_SE3_2024-11-05.json", "DayAheadPrices")

    rows = series(table, "nordpool/DayAheadPrices/SE3/price")
    assert [row["ts"] for row in rows] == [utc(2024, 11, 4, 23) + timedelta(hours=i) for i in range(24)]
    assert rows[0]["value"] == 21.54 and rows[6]["value"] == 85.59 and rows[-1]["value"] == 24.84
    assert {row["resolution"] for row in rows} == {"PT60M"} and rows[0]["unit"] == "EUR/MWh"
    assert {row["issued_at"] for row in rows} == {utc(2024, 11, 4, 12, 15, 3, 883240)}  # updatedAt


def day_ahead_prices(day: str, first: datetime, count: int, states: list[dict[str, object]] | None = None) -> bytes:
    """A ``DayAheadPrices`` answer in the portal's documented shape (pynordpool, Home Assistant's fixtures) for a
    CET day of 15-minute products: no real capture of a DST day or of a non-final state is public, so built here."""
    entries = [
        {
            "deliveryStart": (first + timedelta(minutes=15 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "deliveryEnd": (first + timedelta(minutes=15 * (i + 1))).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entryPerArea": {"SE3": round(40 + i / 4, 2), "FI": round(50 + i / 4, 2)},
        }
        for i in range(count)
    ]
    document = {
        "deliveryDateCET": day,
        "version": 2,
        "updatedAt": f"{day}T10:55:12.1234567Z",
        "deliveryAreas": ["SE3", "FI"],
        "market": "DayAhead",
        "multiAreaEntries": entries,
        "blockPriceAggregates": [],
        "currency": "EUR",
        "exchangeRate": 1,
        "areaStates": states if states is not None else [{"state": "Final", "areas": ["SE3", "FI"]}],
        "areaAverages": [],
    }
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("day", "first", "quarters"),
    [
        pytest.param("2026-03-29", utc(2026, 3, 28, 23), 92, id="short_day"),
        pytest.param("2025-10-26", utc(2025, 10, 25, 22), 100, id="long_day"),
        pytest.param("2025-10-01", utc(2025, 9, 30, 22), 96, id="first_15_minute_day"),
    ],
)
def test_portal_day_ahead_prices_keep_every_quarter_hour_of_a_cet_day_for_every_area(
    day: str, first: datetime, quarters: int
) -> None:
    table = parse_nordpool(day_ahead_prices(day, first, quarters), context("nordpool", "DayAheadPrices"))

    expected = [first + timedelta(minutes=15 * i) for i in range(quarters)]
    for area in ("SE3", "FI"):  # Finland's day is the CET day too, 01:00 to 01:00 in Helsinki
        rows = series(table, f"nordpool/DayAheadPrices/{area}/price")
        assert [row["ts"] for row in rows] == expected
        assert {row["resolution"] for row in rows} == {"PT15M"}


def test_portal_day_ahead_prices_read_only_the_areas_whose_result_is_final() -> None:
    states = [{"state": "Final", "areas": ["SE3"]}, {"state": "Preliminary", "areas": ["FI"]}]
    payload = day_ahead_prices("2026-05-06", utc(2026, 5, 5, 22), 96, states)

    table = parse_nordpool(payload, context("nordpool", "DayAheadPrices"))

    assert len(series(table, "nordpool/DayAheadPrices/SE3/price")) == 96
    assert series(table, "nordpool/DayAheadPrices/FI/price") == []


def test_portal_day_ahead_prices_refuse_an_empty_delivery_period() -> None:
    document = json.loads(day_ahead_prices("2026-05-06", utc(2026, 5, 5, 22), 2))
    document["multiAreaEntries"][1]["deliveryEnd"] = document["multiAreaEntries"][1]["deliveryStart"]

    with pytest.raises(PayloadError, match=r"delivery period \S+ to \S+ is empty"):
        parse_nordpool(json.dumps(document).encode(), context("nordpool", "DayAheadPrices"))
