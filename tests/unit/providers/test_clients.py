"""Client behaviour against scripted answers (httpx MockTransport): auth flows, window splitting, secrets."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from scalar_ray.config import load_settings
from scalar_ray.core.errors import ProviderAuthError
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.client import ClientOptions
from scalar_ray.providers.clients import build_client
from scalar_ray.providers.http import RetryPolicy
from tests.unit.providers.helpers import fixture_bytes

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def options(handler) -> ClientOptions:  # type: ignore[no-untyped-def]
    return ClientOptions(
        transport=httpx.MockTransport(handler),
        sleep=lambda _: None,
        clock=lambda: NOW,
        policy=RetryPolicy(attempts=2, backoff_initial_s=0),
    )


def test_entsoe_sends_its_token_as_a_query_parameter_and_never_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=fixture_bytes("entsoe", "A44_dayahead_prices_FR.xml"))

    settings = load_settings(
        {
            "SCALAR_PROVIDERS__ENTSOE__BASE_URL": "https://web-api.tp.entsoe.eu/api",
            "SCALAR_PROVIDERS__ENTSOE__TOKEN": "entsoe-secret-token",
        }
    )
    caplog.set_level(logging.DEBUG)
    client = build_client("entsoe", settings, options(handler))

    table = client.fetch(
        load_catalogue().get("entsoe", "A44"),
        "FR",
        Window(datetime(2023, 5, 6, 22, tzinfo=UTC), datetime(2023, 5, 8, 22, tzinfo=UTC)),
    )

    assert table.num_rows == 48
    params = seen[0].url.params
    assert params["securityToken"] == "entsoe-secret-token"
    assert (params["in_Domain"], params["periodStart"]) == ("10YFR-RTE------C", "202305062200")
    assert "entsoe-secret-token" not in caplog.text


def test_entsoe_halves_a_window_the_platform_calls_too_large() -> None:
    windows: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        start, end = request.url.params["periodStart"], request.url.params["periodEnd"]
        windows.append((start, end))
        if end > "202305072200" and start < "202305072200":  # more than a day: "too many instances"
            return httpx.Response(200, content=fixture_bytes("entsoe", "ack_999_offset_exceeded_fixture.xml"))
        return httpx.Response(200, content=fixture_bytes("entsoe", "ack_999_no_data_fixture.xml"))

    client = build_client("entsoe", load_settings({}), options(handler))
    client.fetch(
        load_catalogue().get("entsoe", "A44"),
        "FR",
        Window(datetime(2023, 5, 6, 22, tzinfo=UTC), datetime(2023, 5, 8, 22, tzinfo=UTC)),
    )

    assert windows == [
        ("202305062200", "202305082200"),
        ("202305062200", "202305072200"),
        ("202305072200", "202305082200"),
    ]


def test_nordpool_fetches_a_token_once_and_renews_it_when_refused() -> None:
    tokens: list[str] = []
    calls = {"data": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/connect/token"):
            assert request.headers["Authorization"].startswith("Basic ")
            assert b"grant_type=client_credentials" in request.content
            tokens.append(f"token-{len(tokens)}")
            return httpx.Response(200, json={"access_token": tokens[-1], "expires_in": 3600})
        calls["data"] += 1
        if calls["data"] == 2:  # the second day's call: the token was revoked
            return httpx.Response(401, text="expired")
        assert request.headers["Authorization"] == f"Bearer {tokens[-1]}"
        return httpx.Response(
            200, content=fixture_bytes("nordpool", "dataapi_v2_Auction_Prices_ByAreas_SE_current.json")
        )

    settings = load_settings(
        {
            "SCALAR_PROVIDERS__NORDPOOL__BASE_URL": "https://data-api.nordpoolgroup.com/api/v2",
            "SCALAR_PROVIDERS__NORDPOOL__AUTH_URL": "https://sts.nordpoolgroup.com/connect/token",
            "SCALAR_PROVIDERS__NORDPOOL__CLIENT_ID": "client",
            "SCALAR_PROVIDERS__NORDPOOL__CLIENT_SECRET": "secret",
        }
    )
    client = build_client("nordpool", settings, options(handler))

    client.fetch(
        load_catalogue().get("nordpool", "AuctionPrices"),
        "SE4",
        Window(datetime(2024, 7, 7, 22, tzinfo=UTC), datetime(2024, 7, 9, 22, tzinfo=UTC)),
    )

    assert tokens == ["token-0", "token-1"]
    assert calls["data"] == 3  # day one, day two refused, day two again with the new token


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>Sign in</html>"),
        httpx.Response(200, json=["access_token"]),
        httpx.Response(200, json={"access_token": "t", "expires_in": "soon"}),
    ],
    ids=["html_page", "json_list", "bad_lifetime"],
)
def test_a_token_endpoint_that_answers_no_token_is_an_auth_error(answer: httpx.Response) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/connect/token")
        return answer

    settings = load_settings(
        {
            "SCALAR_PROVIDERS__NORDPOOL__AUTH_URL": "https://sts.nordpoolgroup.com/connect/token",
            "SCALAR_PROVIDERS__NORDPOOL__CLIENT_ID": "client",
            "SCALAR_PROVIDERS__NORDPOOL__CLIENT_SECRET": "secret",
        }
    )
    client = build_client("nordpool", settings, options(handler))

    with pytest.raises(ProviderAuthError, match="answered no access_token"):  # it was a JSONDecodeError
        client.fetch(load_catalogue().get("nordpool", "AuctionPrices"), "SE4", Window(NOW, NOW + timedelta(days=1)))


def test_meteologica_failed_login_answering_200_is_an_auth_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/login")
        assert json.loads(request.content) == {"user": "me", "password": "wrong"}
        return httpx.Response(200, json={"message": "Invalid user or password"})

    settings = load_settings(
        {"SCALAR_PROVIDERS__METEOLOGICA__CLIENT_ID": "me", "SCALAR_PROVIDERS__METEOLOGICA__CLIENT_SECRET": "wrong"}
    )
    client = build_client("meteologica", settings, options(handler))

    with pytest.raises(ProviderAuthError, match="login refused: Invalid user or password"):
        client.fetch(
            load_catalogue().get("meteologica", "wind_power_forecast"),
            "DK1",
            Window(datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC)),
        )


def test_energinet_pages_until_the_total_is_read() -> None:
    records = json.loads(fixture_bytes("energinet", "ElectricityProdex5MinRealtime_DK.json"))["records"]
    offsets: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        offsets.append(offset)
        assert json.loads(request.url.params["filter"]) == {"PriceArea": ["DK1"]}
        return httpx.Response(200, json={"total": len(records), "records": records[offset : offset + limit]})

    client = build_client("energinet", load_settings({}), options(handler))
    client.page_size = 30  # type: ignore[attr-defined]

    table = client.fetch(
        load_catalogue().get("energinet", "ElectricityProdex5MinRealtime"),
        "DK1",
        Window(datetime(2025, 2, 21, tzinfo=UTC), datetime(2025, 2, 22, tzinfo=UTC)),
    )

    assert offsets == [0, 30, 60, 90]
    assert table.num_rows == 1000  # every record of every page


def test_nordpool_portal_day_ahead_prices_asks_per_cet_day_by_delivery_area_and_takes_204_as_not_yet() -> None:
    asked: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/DayAheadPrices"
        assert "Authorization" not in request.headers  # the portal is public
        asked.append(dict(request.url.params))
        if request.url.params["date"] == "2024-11-06":
            return httpx.Response(204)  # the next day is not published yet
        return httpx.Response(200, content=fixture_bytes("nordpool", "dataportal_DayAheadPrices_SE3_2024-11-05.json"))

    settings = load_settings(
        {"SCALAR_PROVIDERS__NORDPOOL__SECONDARY_URL": "https://dataportal-api.nordpoolgroup.com/api"}
    )
    client = build_client("nordpool", settings, options(handler))

    table = client.fetch(
        load_catalogue().get("nordpool", "DayAheadPrices"),
        "SE3",
        Window(datetime(2024, 11, 4, 23, tzinfo=UTC), datetime(2024, 11, 6, 23, tzinfo=UTC)),
    )

    assert asked == [
        {"date": day, "market": "DayAhead", "currency": "EUR", "deliveryArea": "SE3"}
        for day in ("2024-11-05", "2024-11-06")
    ]
    assert table.num_rows == 24
