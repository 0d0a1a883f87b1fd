from __future__ import annotations

import json

import pytest

from scalar_ray.core.errors import PayloadError
from scalar_ray.providers.jao_parser import parse_jao
from tests.unit.providers.helpers import context, fixture_bytes, series, utc, value_at


def parse(name: str, dataset: str):  # type: ignore[no-untyped-def]
    return parse_jao(fixture_bytes("jao", name), context("jao", dataset))


def test_max_exchanges_every_border_column_is_a_directed_series() -> None:
    table = parse("publicationtool_core_maxExchanges.json", "maxExchanges")

    assert value_at(table, "jao/maxExchanges/AT>BE/max_exchange", utc(2026, 4, 20, 0)) == 4346.0
    assert value_at(table, "jao/maxExchanges/BE>AT/max_exchange", utc(2026, 4, 20, 0)) == 3296.0
    assert value_at(table, "jao/maxExchanges/AT>DE-LU/max_exchange", utc(2026, 4, 20, 0)) == 4934.0  # JAO's "DE"
    rows = json.loads(fixture_bytes("jao", "publicationtool_core_maxExchanges.json"))["data"]
    borders = sum(1 for row in rows for key, value in row.items() if key.startswith("border_") and value is not None)
    assert table.num_rows == borders


def test_atc_skips_nulls_and_reads_quarter_hours() -> None:
    table = parse("publicationtool_core_atc.json", "atc")

    assert value_at(table, "jao/atc/DE-LU>DK1/atc", utc(2026, 4, 20, 0)) == 3500.0
    assert series(table, "jao/atc/FR>IT/atc") == []  # all null in the payload
    assert {row["resolution"] for row in table.to_pylist()} == {"PT15M"}


@pytest.mark.parametrize(
    ("name", "dataset", "series_id", "value"),
    [
        pytest.param(
            "publicationtool_core_shadowAuctionATC.json",
            "shadowAuctionATC",
            "jao/shadowAuctionATC/AT>DE-LU/shadow_auction_atc",
            3831.0,
            id="shadow_auction_atc",
        ),
        pytest.param(
            "publicationtool_core_scheduledExchanges.json",
            "scheduledExchanges",
            "jao/scheduledExchanges/AT>HU/scheduled_exchange",
            1288.2,
            id="scheduled_exchanges",
        ),
    ],
)
def test_publication_tool_first_hour_values(name: str, dataset: str, series_id: str, value: float) -> None:
    table = parse(name, dataset)
    first = series(table, series_id)[0]

    assert first["value"] == value


def test_auction_results_by_product_number() -> None:
    table = parse("auctionapi_getauctions_IF1-FR-GB.json", "auctions")

    prices = series(table, "jao/auctions/IF1-FR-GB/auction_price")
    assert prices[0]["ts"] == utc(2026, 7, 27, 22) and prices[0]["value"] == 0.43  # B01 = 00:00-01:00 CEST
    assert value_at(table, "jao/auctions/IF1-FR-GB/offered_capacity", utc(2026, 7, 27, 22)) == 1868.0
    assert prices[0]["issued_at"] == utc(2026, 7, 27, 9, 26, 3, 670000)  # lastDataUpdate


def test_auctions_on_a_23_hour_day_map_products_from_the_period_start() -> None:
    day = {
        "identification": "x",
        "horizonName": "Daily",
        "cancelled": False,
        "corridorCode": "IF1-FR-GB",
        "lastDataUpdate": "2026-03-28T09:00:00+00:00",
        "marketPeriodStart": "2026-03-28T23:00:00.000+00:00",
        "results": [
            {"productIdentification": f"B{n:02d}-------", "auctionPrice": float(n), "corridorCode": "IF1-FR-GB"}
            for n in range(1, 24)
        ],
    }  # synthetic: the spring DST day has 23 products

    table = parse_jao(json.dumps([day]).encode(), context("jao", "auctions"))

    stamps = [row["ts"] for row in series(table, "jao/auctions/IF1-FR-GB/auction_price")]
    assert len(stamps) == 23 and stamps[0] == utc(2026, 3, 28, 23) and stamps[-1] == utc(2026, 3, 29, 21)


def test_no_data_found_is_an_empty_table() -> None:
    assert parse("auctionapi_getauctions_no_data_400.json", "auctions").num_rows == 0


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        pytest.param(
            b'{"data": [{"id": 1, "dateTimeUtc": "2026-04-20T00:00:00Z", "border_AT_BE": "4k"}]}',
            "non-numeric max_exchange value .4k.",
            id="non_numeric",
        ),
        pytest.param(b'{"data": [], "rejected": true, "messages": ["FromUtc too early"]}', "rejected", id="rejected"),
        pytest.param(b'{"data": [', "malformed JSON", id="truncated"),
    ],
)
def test_malformed_payloads_raise_a_typed_error(payload: bytes, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        parse_jao(payload, context("jao", "maxExchanges"))
