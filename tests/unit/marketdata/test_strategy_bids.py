"""The battery strategy's bids from the stored price forecast, cleared at the auction prices, on the long DST day
(scalar_ray.marketdata.strategy_bids), on the fake and a real DuckDB file."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from scalar_ray.core.errors import ReadRequestError
from scalar_ray.core.forecasts import FORECAST_SCHEMA
from scalar_ray.core.window import Window
from scalar_ray.forecasting.strategy import Battery
from scalar_ray.marketdata.strategy_bids import strategy_bids
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse import DuckDBWarehouse, InMemoryWarehouse, Warehouse

LONG_DAY = date(2025, 10, 26)  # Copenhagen: 25 hours, 100 quarter-hours
DAY_START = datetime(2025, 10, 25, 22, tzinfo=UTC)
BEFORE_GATE = datetime(2025, 10, 25, 9, tzinfo=UTC)  # the gate: 12:00 CEST on the 25th = 10:00 UTC
AFTER_GATE = datetime(2025, 10, 25, 11, tzinfo=UTC)
PRICE = "entsoe/A44/DK1/price"
BATTERY = Battery(power_mw=10, energy_mwh=20, efficiency=0.9)


def shape(hour: int) -> float:
    """Cheap at night, dear in the evening: a day worth cycling a battery."""
    return 30.0 if hour < 6 else 120.0 if 17 <= hour < 21 else 60.0


def issue(issued_at: datetime, offset: float) -> pa.Table:
    rows = []
    for step in range(100):
        ts = DAY_START + timedelta(minutes=15 * step)
        level = shape(step // 4) + offset
        rows.append(
            {
                "family": "dk_dayahead", "zone": "DK1", "model_version": f"v-{issued_at:%H}", "target": PRICE,
                "issued_at": issued_at, "ts": ts, "mean": level, "q10": level - 10, "q50": level, "q90": level + 10,
            }
        )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=FORECAST_SCHEMA)


def hourly_prices(hours: int) -> pa.Table:
    """The auction's hourly prices for the first ``hours`` hours of the day."""
    asked = Window(DAY_START, DAY_START + timedelta(hours=25))
    builder = ObservationBuilder(FetchContext("entsoe", "A44", asked, DAY_START, "DK1"))
    for hour in range(hours):
        builder.add(
            area="DK1", variable="price", ts=DAY_START + timedelta(hours=hour), value=shape(hour) + 3,
            issued_at=DAY_START - timedelta(hours=10), unit="EUR/MWh", resolution="PT60M",
        )  # fmt: skip
    return builder.build()


@pytest.fixture(params=["memory", "duckdb"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    adapter: Warehouse = InMemoryWarehouse() if request.param == "memory" else DuckDBWarehouse(tmp_path / "w.duckdb")
    adapter.write_forecasts(issue(BEFORE_GATE, 0.0))
    adapter.write_forecasts(issue(AFTER_GATE, 500.0))  # issued after the gate: the strategy could not have used it
    yield adapter
    adapter.close()


def test_bids_come_from_the_issue_made_by_the_gate_over_the_100_quarter_hours(warehouse: Warehouse) -> None:
    bids = strategy_bids(warehouse, "DK1", LONG_DAY, BATTERY)
    table = bids.table.to_pylist()

    assert bids.gate == datetime(2025, 10, 25, 10, tzinfo=UTC)
    assert bids.issued_at == BEFORE_GATE and bids.model_version == "v-09"
    assert len(table) == 100 and table[0]["ts"] == DAY_START
    assert all(row["q_median"] < 200 for row in table)  # nothing of the later issue (+500)
    buys = [row for row in table if row["bid_mw"] and row["bid_mw"] > 0]
    sells = [row for row in table if row["bid_mw"] and row["bid_mw"] < 0]
    assert buys and sells  # it charges in the cheap night and sells in the evening peak
    assert max(row["q_median"] for row in buys) < min(row["q_median"] for row in sells)
    assert bids.settled is None and all(row["cleared_mw"] is None for row in table)  # no auction prices yet


def test_with_the_auction_prices_the_bids_clear_and_the_day_settles(warehouse: Warehouse) -> None:
    warehouse.write(hourly_prices(25))
    bids = strategy_bids(warehouse, "DK1", LONG_DAY, BATTERY)
    table = bids.table.to_pylist()
    assert bids.settled is not None

    for row in table:  # each hourly price covers its four quarter-hours
        hour = int((row["ts"] - DAY_START) / timedelta(hours=1))
        assert row["cleared_price"] == shape(hour) + 3
        if row["bid_mw"] is None:
            assert row["cleared_mw"] == 0
        elif row["bid_mw"] > 0:  # a buy clears below its limit price
            assert row["cleared_mw"] == (row["bid_mw"] if row["cleared_price"] < row["limit_price"] else 0)
        else:  # a sell clears at or above its floor
            assert row["cleared_mw"] == (row["bid_mw"] if row["cleared_price"] >= row["limit_price"] else 0)
        assert abs(row["delivered_mw"]) <= BATTERY.power_mw
    dayahead = -sum(row["cleared_mw"] * row["cleared_price"] for row in table) * 0.25
    assert bids.settled.dayahead_eur == pytest.approx(dayahead)
    assert bids.settled.pnl_eur > 0  # the forecast's shape was right: buying low and selling high paid


def test_a_day_with_some_prices_missing_is_not_settled(warehouse: Warehouse) -> None:
    warehouse.write(hourly_prices(12))
    bids = strategy_bids(warehouse, "DK1", LONG_DAY, BATTERY)
    assert bids.settled is None
    prices = bids.table["cleared_price"].to_pylist()
    assert prices[:48] == [shape(step // 4) + 3 for step in range(48)]
    assert not any(math.isnan(price) for price in prices if price is not None)


@pytest.mark.parametrize(
    ("zone", "day", "parameter"),
    [("XX9", LONG_DAY, "zone"), ("DK1", date(2025, 11, 26), "day"), ("DK2", LONG_DAY, "day")],
)
def test_no_issue_by_the_gate_or_an_unknown_zone_is_a_typed_error(
    warehouse: Warehouse, zone: str, day: date, parameter: str
) -> None:
    with pytest.raises(ReadRequestError) as raised:
        strategy_bids(warehouse, zone, day, BATTERY)
    assert raised.value.parameter == parameter


def test_the_route_answers_the_bids_in_local_time_with_the_settlement(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from scalar_ray.marketdata import MarketData
    from scalar_ray.serving.api import build_api
    from tests.unit.serving.fixtures import platform

    stored = InMemoryWarehouse()
    stored.write_forecasts(issue(BEFORE_GATE, 0.0))
    stored.write(hourly_prices(25))
    app = build_api(platform(tmp_path).backend, [SecretStr("k" * 24)], champion_poll_s=3600, market=MarketData(stored))
    auth = {"Authorization": f"Bearer {'k' * 24}"}
    with TestClient(app) as client:
        answer = client.get(
            "/v1/strategy/DK1/bids", params={"day": "2025-10-26", "tz": "Europe/Copenhagen"}, headers=auth
        )
        body = answer.json()
        assert answer.status_code == 200, body
        assert len(body["columns"]["ts"]) == 100
        assert body["columns"]["ts"][0] == "2025-10-26T00:00:00+02:00"
        assert body["columns"]["ts"][-1] == "2025-10-26T23:45:00+01:00"
        assert body["model_version"] == "v-09" and body["settlement"]["pnl_eur"] > 0

        missing = client.get("/v1/strategy/DK1/bids", params={"day": "2025-12-01"}, headers=auth)
        assert missing.status_code == 422 and "day" in missing.json()["error"]["hint"]
        tiny = client.get(
            "/v1/strategy/DK1/bids", params={"day": "2025-10-26", "power_mw": 100, "energy_mwh": 1}, headers=auth
        )
        assert tiny.status_code == 422 and tiny.json()["error"]["code"] == "invalid_request"
        assert client.get("/v1/strategy/DK1/bids", params={"day": "2025-10-26"}).status_code == 401
