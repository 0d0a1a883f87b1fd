from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalar_ray.core.errors import PayloadError
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.simulator.feeds import Feeds
from scalar_ray.simulator.market import SyntheticMarket
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


def auction_prices(name: str) -> list[tuple[datetime, float]]:
    table = parse(name, "auctions")
    return [(row["ts"], row["value"]) for row in series(table, "jao/auctions/IF1-FR-GB/auction_price")]


def test_the_short_dst_day_has_23_hours_stamped_from_the_period_start_and_no_b03() -> None:
    # A real answer for 2026-03-29 (CET → CEST) and the two days after: products come unsorted, and the short day's
    # list goes B01, B02, B04 … B24 (JAO names a product by its wall-clock hour; 02:00-03:00 does not exist).
    prices = auction_prices("auctionapi_getauctions_IF1-FR-GB_dst_short_2026-03-29.json")

    short_day = [(ts, value) for ts, value in prices if utc(2026, 3, 28, 23) <= ts < utc(2026, 3, 29, 22)]
    assert len(short_day) == 23
    assert [ts for ts, _ in short_day] == [utc(2026, 3, 28, 23) + timedelta(hours=i) for i in range(23)]
    assert short_day[1] == (utc(2026, 3, 29, 0), 9.46)  # B02 01:00-02:00 CET
    assert short_day[2] == (utc(2026, 3, 29, 1), 32.0)  # B04 03:00-04:00 CEST, right after B02
    assert short_day[-1] == (utc(2026, 3, 29, 21), 0.2)  # B24 23:00-24:00 CEST
    # The next days have 24 hours each and follow on without a gap or an overlap: 23 + 24 + 24 in all.
    assert [ts for ts, _ in prices] == [utc(2026, 3, 28, 23) + timedelta(hours=i) for i in range(71)]
    assert dict(prices)[utc(2026, 3, 29, 22)] == 0.56  # B01 of 2026-03-30, 00:00-01:00 CEST


def test_the_long_dst_day_has_25_hours_with_the_starred_hour_after_its_twin() -> None:
    # A real answer for 2025-10-26 (CEST → CET): B03 "02:00-03:00" and B03DST "02:00-03:00*".
    prices = auction_prices("auctionapi_getauctions_IF1-FR-GB_dst_long_2025-10-26.json")

    assert [ts for ts, _ in prices] == [utc(2025, 10, 25, 22) + timedelta(hours=i) for i in range(25)]
    by_hour = dict(prices)
    assert by_hour[utc(2025, 10, 26, 1)] == 0.03  # B03DST, the second 02:00 (CET)
    assert by_hour[utc(2025, 10, 26, 2)] == 0.03  # B04 03:00-04:00 CET
    assert by_hour[utc(2025, 10, 26, 10)] == 13.21  # B12 11:00-12:00 CET = 10:00 UTC
    assert by_hour[utc(2025, 10, 26, 22)] == 2.11  # B24 23:00-24:00 CET
    offered = series(parse("auctionapi_getauctions_IF1-FR-GB_dst_long_2025-10-26.json", "auctions"), OFFERED)
    assert {row["value"] for row in offered} == {556.0}  # no hour folded onto its twin (that would show 1112)


OFFERED = "jao/auctions/IF1-FR-GB/offered_capacity"


@pytest.mark.parametrize(
    "name",
    [
        "auctionapi_getauctions_IF1-FR-GB_dst_long_2025-10-26.json",
        "auctionapi_getauctions_IF1-FR-GB_dst_short_2026-03-29.json",
    ],
)
@given(order=st.randoms(use_true_random=False))
def test_the_order_of_the_products_in_the_answer_does_not_change_the_table(name: str, order: random.Random) -> None:
    auctions = json.loads(fixture_bytes("jao", name))
    for auction in auctions:
        order.shuffle(auction["results"])
    order.shuffle(auctions)

    shuffled = parse_jao(json.dumps(auctions).encode(), context("jao", "auctions"))

    assert sorted(shuffled.to_pylist(), key=repr) == sorted(parse(name, "auctions").to_pylist(), key=repr)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param(
            lambda results: results.pop(5), "24 hourly products for a market period of 25 hours", id="one_short"
        ),
        pytest.param(
            lambda results: results.append(
                {**results[0], "productIdentification": "B25-------", "productHour": "24:00-25:00"}
            ),
            "26 hourly products for a market period of 25 hours",
            id="one_too_many",
        ),
        pytest.param(
            lambda results: results[0].update(productHour="02:00-03:00"), "a product hour is given twice", id="twice"
        ),
        pytest.param(
            lambda results: results[0].update(productHour="2 am"), "product hour '2 am' is not HH:00-HH:00", id="label"
        ),
    ],
)
def test_an_auction_whose_products_do_not_fill_its_market_period_is_refused(
    change: Callable[[list[dict[str, object]]], object], problem: str
) -> None:
    (auction,) = json.loads(fixture_bytes("jao", "auctionapi_getauctions_IF1-FR-GB_dst_long_2025-10-26.json"))
    results = sorted(auction["results"], key=lambda result: result["productHour"])
    change(results)
    auction["results"] = results

    with pytest.raises(PayloadError, match=f"IF1-FR-GB-D-DAILY--251026-01: {re.escape(problem)}"):
        parse_jao(json.dumps([auction]).encode(), context("jao", "auctions"))


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


@pytest.mark.parametrize(
    ("day", "first", "hours"),
    [
        pytest.param("2026-03-29", utc(2026, 3, 28, 23), 23, id="short_day"),
        pytest.param("2026-10-25", utc(2026, 10, 24, 22), 25, id="long_day"),
        pytest.param("2026-07-28", utc(2026, 7, 27, 22), 24, id="summer_day"),
    ],
)
def test_the_simulator_names_products_as_jao_does_and_the_parser_reads_them_back(
    day: str, first: datetime, hours: int
) -> None:
    feeds = Feeds(SyntheticMarket(), now=lambda: utc(2027, 1, 1))

    status, auctions = feeds.jao_auctions({"corridor": "IF1-FR-GB", "fromdate": day, "todate": day})

    assert status == 200
    labels = {result["productIdentification"]: result["productHour"] for result in auctions[0]["results"]}
    assert ("B03-------" in labels) == (hours != 23)  # the short day has no 02:00-03:00
    assert (labels.get("B03DST----") == "02:00-03:00*") == (hours == 25)
    table = parse_jao(json.dumps(auctions).encode(), context("jao", "auctions"))
    stamps = [row["ts"] for row in series(table, "jao/auctions/IF1-FR-GB/auction_price")]
    assert stamps == [first + timedelta(hours=i) for i in range(hours)]
