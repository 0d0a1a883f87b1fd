from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from scalar_ray.broker.envelope import Envelope, ForecastEnvelope, is_forecast_message
from scalar_ray.core.errors import PayloadError
from scalar_ray.core.window import Window
from scalar_ray.providers.entsoe_parser import parse_entsoe
from tests.unit.providers.helpers import WIDE, context, fixture_bytes
from tests.unit.spine_helpers import forecast_issue


@pytest.fixture
def envelope() -> Envelope:
    table = parse_entsoe(fixture_bytes("entsoe", "A44_dayahead_prices_FR.xml"), context("entsoe", "A44"))
    return Envelope("entsoe", "A44", WIDE, "fetch-42", table)


def test_round_trip_keeps_rows_and_provenance(envelope: Envelope) -> None:
    payload, properties = envelope.encode()

    decoded = Envelope.decode(payload, properties)

    assert decoded == Envelope("entsoe", "A44", WIDE, "fetch-42", decoded.observations)
    assert decoded.observations.equals(envelope.observations)
    assert properties["window_start"] == "2015-01-01T00:00:00Z"
    assert len(properties["content_sha256"]) == 64


def test_the_same_window_encodes_to_the_same_hash(envelope: Envelope) -> None:
    assert envelope.encode()[1]["content_sha256"] == envelope.encode()[1]["content_sha256"]


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        pytest.param(lambda p, props: (p[:-8], props), "content_sha256 does not match", id="truncated_payload"),
        pytest.param(lambda p, props: (p, {**props, "schema_version": "9"}), "schema_version 9", id="future_schema"),
        pytest.param(
            lambda p, props: (p, {k: v for k, v in props.items() if k != "fetch_id"}),
            "lacks propert",
            id="missing_property",
        ),
    ],
)
def test_a_bad_message_is_a_typed_error_naming_what_failed(envelope: Envelope, tamper, problem: str) -> None:  # type: ignore[no-untyped-def]
    payload, properties = tamper(*envelope.encode())

    with pytest.raises(PayloadError, match=problem) as caught:
        Envelope.decode(payload, properties)
    assert (caught.value.provider, caught.value.dataset) == ("entsoe", "A44")


ISSUE = datetime(2026, 10, 25, 1, 15, tzinfo=UTC)  # inside the long DST night


def forecast_message() -> ForecastEnvelope:
    window = Window(ISSUE, ISSUE + timedelta(hours=1))
    return ForecastEnvelope("dk_demand", "DK1", "v3", ISSUE, window, "forecast-1", forecast_issue(ISSUE, "v3", 10.0))


def test_a_forecast_message_round_trips_and_names_its_model_version_and_issue() -> None:
    payload, properties = forecast_message().encode()

    decoded = ForecastEnvelope.decode(payload, properties)

    assert decoded == dataclasses.replace(forecast_message(), forecasts=decoded.forecasts)
    assert decoded.forecasts.equals(forecast_message().forecasts)
    assert is_forecast_message(properties) and properties["model_version"] == "v3"
    assert (properties["dataset"], properties["area"], properties["issue_time"]) == (
        "dk_demand",
        "DK1",
        "2026-10-25T01:15:00Z",
    )


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        pytest.param(lambda p, props: (p[:-8], props), "content_sha256 does not match", id="truncated_payload"),
        pytest.param(
            lambda p, props: (p, {k: v for k, v in props.items() if k != "model_version"}),
            "lacks propert",
            id="missing_version",
        ),
        pytest.param(lambda p, props: (p, {**props, "issue_time": "yesterday"}), "bad issue_time", id="bad_time"),
    ],
)
def test_a_bad_forecast_message_is_a_typed_error_naming_what_failed(tamper, problem: str) -> None:  # type: ignore[no-untyped-def]
    payload, properties = tamper(*forecast_message().encode())

    with pytest.raises(PayloadError, match=problem):
        ForecastEnvelope.decode(payload, properties)


def test_an_observation_window_is_not_read_as_a_forecast(envelope: Envelope) -> None:
    payload, properties = envelope.encode()

    assert not is_forecast_message(properties)
    with pytest.raises(PayloadError, match="lacks propert"):
        ForecastEnvelope.decode(payload, properties)
