from __future__ import annotations

import json
from datetime import timedelta

import pytest

from scalar_ray.core.errors import PayloadError
from scalar_ray.core.window import Window
from scalar_ray.providers.meteologica_parser import parse_meteologica
from scalar_ray.providers.volue_parser import parse_volue
from tests.unit.providers.helpers import FETCHED_AT, context, fixture_bytes, series, utc, value_at


def meteologica_context(area: str = "US48"):  # type: ignore[no-untyped-def]
    return context("meteologica", "wind_power_forecast", area=area)


def test_meteologica_documented_row_uses_its_explicit_utc_offset() -> None:
    payload = fixture_bytes("meteologica", "doc_excerpt_contents_data_response_content4226.json")

    table = parse_meteologica(payload, meteologica_context())

    at = utc(2025, 2, 1, 0)  # 2025-01-31 18:00 at UTC-0600
    assert value_at(table, "meteologica/wind_power_forecast/US48/forecast", at) == 52906.0
    assert value_at(table, "meteologica/wind_power_forecast/US48/forecast_p10", at) == 45018.0
    assert value_at(table, "meteologica/wind_power_forecast/US48/forecast_p90", at) == 60794.0
    row = series(table, "meteologica/wind_power_forecast/US48/forecast")[0]
    assert row["issued_at"] == utc(2025, 2, 1, 0, 22, 34) and row["resolution"] == "PT60M" and row["unit"] == "MW"


def test_meteologica_repeated_wall_clock_hour_on_the_autumn_dst_day_stays_two_hours() -> None:
    def row(local: str, offset: str, value: str) -> dict[str, str]:
        end_hour = int(local[11:13]) + 1
        return {
            "From yyyy-mm-dd hh:mm": local,
            "To yyyy-mm-dd hh:mm": f"{local[:11]}{end_hour:02d}:00",
            "UTC offset from (UTC+/-hhmm)": offset,
            "UTC offset to (UTC+/-hhmm)": offset,
            "forecast": value,
            "ENS01": value,
        }

    payload = json.dumps(
        {
            "issue_date": "2025-10-25 06:00:00 UTC",
            "unit": "MW",
            "data": [row("2025-10-26 02:00", "UTC+0200", "100"), row("2025-10-26 02:00", "UTC+0100", "110")],
        }
    ).encode()

    table = parse_meteologica(payload, meteologica_context(area="DK1"))

    assert value_at(table, "meteologica/wind_power_forecast/DK1/forecast", utc(2025, 10, 26, 0)) == 100.0
    assert value_at(table, "meteologica/wind_power_forecast/DK1/forecast", utc(2025, 10, 26, 1)) == 110.0
    assert len(series(table, "meteologica/wind_power_forecast/DK1/forecast_ens01")) == 2


def test_meteologica_rows_outside_the_request_window_are_left_out_and_a_bad_local_time_is_an_error() -> None:
    rows = [
        {
            "From yyyy-mm-dd hh:mm": f"2025-01-31 {hour:02d}:00",
            "To yyyy-mm-dd hh:mm": f"2025-01-31 {hour + 1:02d}:00",
            "UTC offset from (UTC+/-hhmm)": "UTC-0600",
            "UTC offset to (UTC+/-hhmm)": "UTC-0600",
            "forecast": str(100 + hour),
        }
        for hour in (17, 18, 19)
    ]
    payload = json.dumps({"issue_date": "2025-01-31 12:00:00 UTC", "data": rows}).encode()
    at = utc(2025, 2, 1, 0)  # 18:00 at UTC-0600

    table = parse_meteologica(
        payload, context("meteologica", "wind_power_forecast", Window(at, at + timedelta(hours=1)), area="US48")
    )
    everything = parse_meteologica(payload, meteologica_context())

    assert table["ts"].to_pylist() == [at] and table["value"].to_pylist() == [118.0]
    assert everything.num_rows == 3
    bad = payload.replace(b"2025-01-31 18:00", b"31/01/2025 18:00", 1)
    with pytest.raises(PayloadError, match="not a local time"):
        parse_meteologica(bad, meteologica_context())


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        pytest.param(
            b'{"message": "Error. Invalid token"}', "Meteologica answered: Error. Invalid token", id="bad_token"
        ),
        pytest.param(
            json.dumps(
                {
                    "issue_date": "2025-02-01 00:22:34 UTC",
                    "data": [
                        {
                            "From yyyy-mm-dd hh:mm": "2025-01-31 18:00",
                            "To yyyy-mm-dd hh:mm": "2025-01-31 19:00",
                            "UTC offset from (UTC+/-hhmm)": "UTC-0600",
                            "UTC offset to (UTC+/-hhmm)": "UTC-0600",
                            "forecast": "fifty",
                        }
                    ],
                }
            ).encode(),
            "non-numeric forecast",
            id="non_numeric",
        ),
        pytest.param(b'{"issue_date": "yesterday", "data": []}', "unexpected payload shape", id="bad_issue_date"),
    ],
)
def test_meteologica_malformed_payloads(payload: bytes, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        parse_meteologica(payload, meteologica_context())


def volue_context():  # type: ignore[no-untyped-def]
    return context("volue", "de_wind_ec00", area="DE-LU", variable="wind_forecast")


def test_volue_series_shape_from_the_official_client() -> None:
    # The documented series shape (volueinsight/wapi-python unit tests): epoch-ms points.
    payload = json.dumps(
        {
            "id": 5,
            "frequency": "H",
            "points": [[1_700_000_000_000, 10.0], [1_700_003_600_000, None], [1_700_007_200_000, 12.5]],
        }
    ).encode()

    table = parse_volue(payload, volue_context())

    rows = series(table, "volue/de_wind_ec00/DE-LU/wind_forecast")
    assert [(row["ts"], row["value"]) for row in rows] == [
        (utc(2023, 11, 14, 22, 13, 20), 10.0),
        (utc(2023, 11, 15, 0, 13, 20), 12.5),
    ]
    assert rows[0]["issued_at"] == FETCHED_AT and rows[0]["resolution"] == "PT60M"


def test_volue_instances_carry_their_issue_date_and_tags() -> None:
    payload = json.dumps(
        [
            {
                "id": 7,
                "frequency": "MIN15",
                "issue_date": "2025-10-01T00:00:00+00:00",
                "tag": "Avg",
                "points": [[1_759_276_800_000, 1.0]],
            },
            {
                "id": 7,
                "frequency": "MIN15",
                "issue_date": "2025-10-01T00:00:00+00:00",
                "tag": "01",
                "points": [[1_759_276_800_000, 2.0]],
            },
        ]
    ).encode()

    table = parse_volue(payload, volue_context())

    assert value_at(table, "volue/de_wind_ec00/DE-LU/wind_forecast_avg", utc(2025, 10, 1)) == 1.0
    assert value_at(table, "volue/de_wind_ec00/DE-LU/wind_forecast_01", utc(2025, 10, 1)) == 2.0
    assert {row["issued_at"] for row in table.to_pylist()} == {utc(2025, 10, 1)}


def test_volue_204_is_empty_and_bad_shapes_are_typed_errors() -> None:
    assert parse_volue(b"", volue_context()).num_rows == 0
    with pytest.raises(PayloadError, match="unknown frequency 'FORTNIGHT'"):
        parse_volue(b'{"frequency": "FORTNIGHT", "points": []}', volue_context())
    with pytest.raises(PayloadError, match="non-numeric"):
        parse_volue(b'{"frequency": "H", "points": [[0, "x"]]}', volue_context())
