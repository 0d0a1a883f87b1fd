"""The market-data routes over a real DuckDB file: formats, time zones, errors, keys (scalar_ray.serving.market_api)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from scalar_ray.core.arrow_ipc import from_ipc
from scalar_ray.core.window import Window
from scalar_ray.marketdata import MarketData
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.providers.parsing import FetchContext
from scalar_ray.serving.api import build_api
from scalar_ray.warehouse import DuckDBWarehouse
from tests.conftest import FIXTURES
from tests.unit.serving.fixtures import platform
from tests.unit.spine_helpers import forecast_issue

KEY = "market-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
PRICE = "jao/auctions/IF1-FR-GB/auction_price"
FORECAST_ISSUED = datetime(2026, 1, 14, 9, tzinfo=UTC)
FORECAST_DELIVERY = datetime(2026, 1, 15, 12, tzinfo=UTC)
LONG_DAY = {"start": "2025-10-26T00:00:00+02:00", "end": "2025-10-27T00:00:00+01:00"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    warehouse = DuckDBWarehouse(tmp_path / "market.duckdb")
    raw = (FIXTURES / "providers" / "jao" / "auctionapi_getauctions_IF1-FR-GB_dst_long_2025-10-26.json").read_bytes()
    asked = Window(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC))
    warehouse.write(parse_jao(raw, FetchContext("jao", "auctions", asked, datetime(2025, 10, 25, 10, tzinfo=UTC), "")))
    for day, version in ((0, "v1"), (1, "v2")):  # two daily issues of dk_dayahead/DK1, each for the next 8 quarters
        issued = FORECAST_ISSUED + timedelta(days=day)
        warehouse.write_forecasts(
            forecast_issue(issued, version, 50.0, family="dk_dayahead", start=FORECAST_DELIVERY, steps=8)
        )
    app = build_api(platform(tmp_path).backend, [SecretStr(KEY)], champion_poll_s=3600, market=MarketData(warehouse))
    with TestClient(app) as client:
        yield client
    warehouse.close()


def test_the_catalogue_is_searched_and_paged(api: TestClient) -> None:
    found = api.get("/v1/series", params={"provider": "jao", "q": "price"}, headers=AUTH).json()

    assert found["total"] == 1 and found["columns"]["series_id"] == [PRICE]
    assert found["columns"]["rows"] == [25] and found["columns"]["unit"] == ["EUR/MWh"]


def test_a_long_day_in_paris_time_as_json_with_both_two_oclocks(api: TestClient) -> None:
    answer = api.get("/v1/series/values", params={"id": PRICE, "tz": "Europe/Paris", **LONG_DAY}, headers=AUTH)

    body = answer.json()
    assert answer.status_code == 200 and body["rows"] == 25 and body["time_zone"] == "Europe/Paris"
    assert body["columns"]["ts"][2:4] == ["2025-10-26T02:00:00+02:00", "2025-10-26T02:00:00+01:00"]
    assert body["series"] == [{"id": PRICE, "resolution": "PT60M", "unit": "EUR/MWh", "aggregation": None}]


def test_daily_aggregation_states_its_counts_and_hours(api: TestClient) -> None:
    params = {"id": PRICE, "tz": "Europe/Paris", "frequency": "P1D", "hours": "offpeak", **LONG_DAY}
    body = api.get("/v1/series/values", params=params, headers=AUTH).json()

    assert body["columns"]["ts"] == ["2025-10-26T00:00:00+02:00"]  # a Sunday: every hour is off-peak
    assert (body["columns"]["count"], body["columns"]["expected"]) == ([25], [25])
    assert body["hours"]["name"] == "offpeak" and "outside peak" in body["hours"]["definition"]
    assert body["series"][0]["aggregation"] == "mean"


@pytest.mark.parametrize("fmt", ["csv", "arrow", "parquet"])
def test_the_same_answer_as_csv_arrow_and_parquet(api: TestClient, fmt: str) -> None:
    params = {"id": PRICE, "tz": "Europe/Paris", "format": fmt, **LONG_DAY}
    answer = api.get("/v1/series/values", params=params, headers=AUTH)

    assert answer.status_code == 200
    if fmt == "csv":
        lines = answer.text.strip().splitlines()
        assert lines[0] == '"series_id","ts","value","issued_at"' and len(lines) == 26
        assert "2025-10-26T02:00:00.000000+01:00" in lines[4]
        return
    table = from_ipc(answer.content) if fmt == "arrow" else pq.read_table(io.BytesIO(answer.content))
    assert table.num_rows == 25 and table.schema.field("ts").type == pa.timestamp("us", tz="Europe/Paris")
    assert json.loads(table.schema.metadata[b"scalar_ray"])["time_zone"] == "Europe/Paris"
    assert table["series_id"].to_pylist() == [PRICE] * 25
    if fmt == "arrow":  # the id repeated on every row travels once, as a dictionary
        assert table.schema.field("series_id").type == pa.dictionary(pa.int32(), pa.string())


def test_instances_and_absolute_of_the_real_issue(api: TestClient) -> None:
    issues = api.get("/v1/instances", params={"id": PRICE}, headers=AUTH).json()
    issued_at = issues["columns"]["issued_at"][0]
    one = api.get("/v1/instances/values", params={"id": PRICE, "issued_at": issued_at}, headers=AUTH).json()
    history = api.get(
        "/v1/instances/absolute", params={"id": PRICE, "delivery": "2025-10-26T01:00:00Z"}, headers=AUTH
    ).json()

    assert issues["columns"]["values"] == [25]
    assert one["rows"] == 25
    assert history["rows"] == 1 and history["columns"]["issued_at"] == [issued_at]


def test_wide_layout_names_a_column_per_series(api: TestClient) -> None:
    params = {"id": [PRICE, "jao/auctions/IF1-FR-GB/offered_capacity"], "layout": "wide", **LONG_DAY}
    body = api.get("/v1/series/values", params=params, headers=AUTH).json()

    assert list(body["columns"]) == ["ts", PRICE, "jao/auctions/IF1-FR-GB/offered_capacity"] and body["rows"] == 25


def test_errors_are_typed_and_in_the_error_shape(api: TestClient) -> None:
    cases = [
        ({"id": "jao/auctions/XX/price", **LONG_DAY}, 404, "unknown_series"),
        ({"id": PRICE, "frequency": "PT7M", **LONG_DAY}, 422, "invalid_request"),
        ({"id": PRICE, "tz": "Mars/Olympus", **LONG_DAY}, 422, "invalid_request"),
        ({"id": PRICE, "start": "2025-10-26T00:00:00", "end": "2025-10-27T00:00:00Z"}, 422, "invalid_request"),
        ({"id": PRICE, "start": LONG_DAY["end"], "end": LONG_DAY["start"]}, 422, "invalid_request"),
        # Two centuries by the minute: more buckets than one answer may hold.
        (
            {"id": PRICE, "frequency": "PT1M", "start": "2000-01-01T00:00:00Z", "end": "2199-01-01T00:00:00Z"},
            422,
            "invalid_request",
        ),
    ]
    for params, status, code in cases:
        answer = api.get("/v1/series/values", params=params, headers=AUTH)
        assert answer.status_code == status, (params, answer.text)
        assert answer.json()["error"]["code"] == code, (params, answer.text)
    assert api.get("/v1/series/values", params={"id": PRICE, **LONG_DAY}).status_code == 401
    assert (
        api.get("/v1/instances/staircase", params={"id": PRICE, "lead": "P0", **LONG_DAY}, headers=AUTH).status_code
        == 422
    )


def test_the_staircase_and_relative_views_answer_over_http(api: TestClient) -> None:
    staircase = api.get(
        "/v1/instances/staircase", params={"id": PRICE, "lead": "PT12H", "tz": "Europe/Paris", **LONG_DAY}, headers=AUTH
    ).json()
    relative = api.get(
        "/v1/instances/relative",
        params={"id": PRICE, "days_ahead": 1, "time_of_day": "12:00", "tz": "Europe/Paris", **LONG_DAY},
        headers=AUTH,
    ).json()

    # Issued 25 Oct 10:00 UTC: 12 h or more before every hour of the 26th, and before noon (Paris) the day before.
    assert staircase["rows"] == 25 and relative["rows"] == 25
    assert relative["columns"]["ts"][0] == "2025-10-26T00:00:00+02:00"


def test_the_forecast_staircase_keeps_versions_and_quantiles(api: TestClient) -> None:
    window = {"start": "2026-01-15T12:00:00Z", "end": "2026-01-15T14:00:00Z", "tz": "Europe/Copenhagen"}
    late = api.get("/v1/forecasts/dk_dayahead/DK1/staircase", params={**window, "lead": "PT1H"}, headers=AUTH).json()
    early = api.get("/v1/forecasts/dk_dayahead/DK1/staircase", params={**window, "lead": "PT12H"}, headers=AUTH).json()

    # The second issue (15 Jan 09:00 UTC) is 3 h before delivery: in the 1-hour staircase, not in the 12-hour one.
    assert set(late["columns"]["model_version"]) == {"v2"} and set(early["columns"]["model_version"]) == {"v1"}
    assert late["columns"]["ts"][0] == "2026-01-15T13:00:00+01:00" and late["columns"]["q90"][0] is not None
