from __future__ import annotations

import json

import pytest

from scalar_ray.core.errors import PayloadError
from scalar_ray.providers.elia_parser import parse_elia
from scalar_ray.providers.energinet_parser import parse_energinet
from tests.unit.providers.helpers import FETCHED_AT, context, fixture_bytes, series, utc, value_at


def energinet(name: str, dataset: str, area: str = ""):  # type: ignore[no-untyped-def]
    return parse_energinet(fixture_bytes("energinet", name), context("energinet", dataset, area=area))


def elia(name: str, dataset: str):  # type: ignore[no-untyped-def]
    return parse_elia(fixture_bytes("elia", name), context("elia", dataset))


def test_energinet_realtime_production_reads_the_utc_column() -> None:
    table = energinet("ElectricityProdex5MinRealtime_DK.json", "ElectricityProdex5MinRealtime")

    # Minutes5UTC 19:10 (Minutes5DK says 20:10, Danish winter time).
    at = utc(2025, 2, 21, 19, 10)
    assert value_at(table, "energinet/ElectricityProdex5MinRealtime/DK1/wind_offshore", at) == 1502.01001
    assert value_at(table, "energinet/ElectricityProdex5MinRealtime/DK2/exchange_bornholm_se4", at) == 9.59
    assert value_at(table, "energinet/ElectricityProdex5MinRealtime/DK1/exchange_gb", at) == -1455.079956
    assert {row["issued_at"] for row in table.to_pylist()} == {FETCHED_AT}  # no publication stamp: fetch time


def test_energinet_forecasts_keep_each_revision_as_its_own_vintage() -> None:
    table = energinet("Forecasts_5Min_DK.json", "Forecasts_5Min")

    rows = series(table, "energinet/Forecasts_5Min/DK1/forecast_offshore_wind_da")
    last = [row for row in rows if row["ts"] == utc(2025, 2, 21, 22, 55)]
    assert [(row["value"], row["issued_at"]) for row in last] == [(935.0, utc(2025, 2, 21, 21, 50, 38))]
    raw = json.loads(fixture_bytes("energinet", "Forecasts_5Min_DK.json"))["records"]
    assert table.num_rows == sum(
        1
        for r in raw
        for h in ("ForecastDayAhead", "Forecast5Hour", "Forecast1Hour", "ForecastCurrent")
        if r[h] is not None
    )


def test_energinet_legacy_graphql_prices_take_the_area_from_the_request() -> None:
    table = energinet("legacy_graphql_elspotprices_2022-03-25.json", "Elspotprices", area="DK1")

    assert value_at(table, "energinet/Elspotprices/DK1/price", utc(2022, 3, 25, 0)) == 242.0
    assert value_at(table, "energinet/Elspotprices/DK1/price", utc(2022, 3, 25, 1)) == 234.29
    assert table.num_rows == 24


def test_energinet_fifteen_minute_day_ahead_prices() -> None:
    payload = json.dumps(
        {
            "records": [
                {
                    "TimeUTC": "2025-10-01T22:00:00",
                    "TimeDK": "2025-10-02T00:00:00",
                    "PriceArea": "DK1",
                    "DayAheadPriceDKK": 745.9,
                    "DayAheadPriceEUR": 99.95,
                },
                {
                    "TimeUTC": "2025-10-01T22:15:00",
                    "TimeDK": "2025-10-02T00:15:00",
                    "PriceArea": "DK1",
                    "DayAheadPriceDKK": None,
                    "DayAheadPriceEUR": 98.5,
                },
            ]
        }
    ).encode()  # synthetic: no DayAheadPrices capture exists; field names from the dataset's documentation

    table = parse_energinet(payload, context("energinet", "DayAheadPrices"))

    assert value_at(table, "energinet/DayAheadPrices/DK1/price", utc(2025, 10, 1, 22, 15)) == 98.5
    assert len(series(table, "energinet/DayAheadPrices/DK1/price_dkk")) == 1  # the null is skipped, not zero


def test_elia_generation_by_fuel_one_series_per_entsoe_fuel_type() -> None:
    table = elia("ods201_records_generation_by_fuel.json", "ods201")

    assert value_at(table, "elia/ods201/BE/generation_nuclear", utc(2024, 1, 1, 1, 45)) == 3947.71
    assert value_at(table, "elia/ods201/BE/generation_nuclear", utc(2024, 1, 1, 1, 0)) == 3948.0
    raw = json.loads(fixture_bytes("elia", "ods201_records_generation_by_fuel.json"))["results"]
    assert table.num_rows == sum(1 for r in raw if r["generatedpower"] is not None)


def test_elia_minute_imbalance_keeps_negative_prices() -> None:
    table = elia("ods161_records_imbalance_PT1M_test_excerpt.json", "ods161")

    assert value_at(table, "elia/ods161/BE/imbalance_price", utc(2025, 8, 17, 0, 36)) == -30.258
    assert value_at(table, "elia/ods161/BE/system_imbalance", utc(2025, 8, 17, 0, 0)) == 226.214
    assert {row["resolution"] for row in table.to_pylist()} == {"PT1M"}


def test_elia_legacy_csv_quarters_are_brussels_local_time() -> None:
    table = elia("legacy_ImbalanceNrvPrices_2022-04-03.csv", "legacy_imbalance_nrv_prices")

    # 03/04/2022 00:00 in Brussels (CEST, UTC+2) is 2022-04-02 22:00 UTC.
    assert value_at(table, "elia/legacy_imbalance_nrv_prices/BE/nrv", utc(2022, 4, 2, 22, 0)) == 111.512
    assert value_at(table, "elia/legacy_imbalance_nrv_prices/BE/system_imbalance", utc(2022, 4, 2, 22, 0)) == -192.258
    assert (
        value_at(table, "elia/legacy_imbalance_nrv_prices/BE/imbalance_price_pos", utc(2022, 4, 3, 21, 45)) == -103.85
    )
    assert len(series(table, "elia/legacy_imbalance_nrv_prices/BE/nrv")) == 96


def test_elia_legacy_csv_on_the_autumn_dst_day_has_100_quarters() -> None:
    header = "Title,Validity,execdate,strQuarter,NRV,SI,Alpha,MIP,MDP,SR,SI < -I C,POS,NEG"
    quarters = [f"{h:02d}:{m:02d} -> x" for h in range(24) for m in (0, 15, 30, 45)]
    quarters[12:12] = [f"02:{m:02d} -> x" for m in (0, 15, 30, 45)]  # 02:00-03:00 happens twice on 30/10/2022
    lines = [header] + [f"t,v,30/10/2022,{q};{i}.0,1,0,1,1;;;1,1" for i, q in enumerate(quarters)]

    table = parse_elia("\n".join(lines).encode(), context("elia", "legacy_imbalance_nrv_prices"))

    rows = series(table, "elia/legacy_imbalance_nrv_prices/BE/nrv")
    assert len(rows) == 100 and len({row["ts"] for row in rows}) == 100
    assert rows[0]["ts"] == utc(2022, 10, 29, 22) and rows[-1]["ts"] == utc(2022, 10, 30, 22, 45)


@pytest.mark.parametrize(
    ("parse", "dataset", "payload", "problem"),
    [
        pytest.param(
            parse_energinet,
            "Forecasts_5Min",
            b'{"records": [{"Minutes5UTC": "2025-02-21T22:55:00"',
            "malformed JSON",
            id="energinet_truncated",
        ),
        pytest.param(
            parse_energinet,
            "ElectricityProdex5MinRealtime",
            b'{"records": [{"Minutes5UTC": "x", "PriceArea": "DK1"}]}',
            "unexpected payload shape",
            id="energinet_bad_timestamp",
        ),
        pytest.param(
            parse_elia,
            "ods161",
            b'{"results": [{"datetime": "2025-08-17T00:00:00+00:00", "ace": "n/a"}]}',
            "non-numeric ace",
            id="elia_non_numeric",
        ),
        pytest.param(parse_elia, "ods999", b'{"results": []}', "unknown Elia dataset", id="elia_unknown_dataset"),
    ],
)
def test_malformed_payloads_raise_a_typed_error(parse, dataset: str, payload: bytes, problem: str) -> None:  # type: ignore[no-untyped-def]
    provider = "energinet" if parse is parse_energinet else "elia"
    with pytest.raises(PayloadError, match=problem) as caught:
        parse(payload, context(provider, dataset))
    assert (caught.value.provider, caught.value.dataset) == (provider, dataset)
