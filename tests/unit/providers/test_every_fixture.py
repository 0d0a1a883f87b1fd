"""Every real payload in tests/fixtures/providers parses with its provider's parser (no fixture left out)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
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
from scalar_ray.providers.nordpool_parser import parse_nordpool
from tests.conftest import FIXTURES
from tests.unit.providers.helpers import FETCHED_AT, WIDE, context, fixture_bytes
from tests.unit.providers.real_payloads import NO_DATA, PARSERS, dataset_and_area, every_fixture


@pytest.mark.parametrize(("provider", "name"), every_fixture(), ids=lambda value: value)
def test_every_real_fixture_parses(provider: str, name: str) -> None:
    dataset, area = dataset_and_area(provider, name)
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
