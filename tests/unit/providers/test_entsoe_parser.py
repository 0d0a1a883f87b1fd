from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalar_ray.core.errors import PayloadError, WindowTooLargeError
from scalar_ray.core.observations import OBSERVATION_SCHEMA
from scalar_ray.providers.entsoe_parser import parse_entsoe
from tests.unit.providers.helpers import Period, a44_document, context, fixture_bytes, series, utc, value_at


def parse(name: str, dataset: str):  # type: ignore[no-untyped-def]
    return parse_entsoe(fixture_bytes("entsoe", name), context("entsoe", dataset))


def test_day_ahead_prices_fr_hand_checked_values() -> None:
    table = parse("A44_dayahead_prices_FR.xml", "A44")

    assert table.schema == OBSERVATION_SCHEMA
    assert table.num_rows == 48
    rows = series(table, "entsoe/A44/FR/price")
    assert rows[0]["ts"] == utc(2023, 5, 6, 22) and rows[0]["value"] == 106.78
    assert rows[1]["value"] == 95.02 and rows[3]["value"] == 84.30
    assert rows[0]["issued_at"] == utc(2023, 5, 9, 11, 24, 10)  # createdDateTime: the publication time
    assert {row["unit"] for row in rows} == {"EUR/MWh"}
    assert rows[-1]["ts"] == utc(2023, 5, 8, 21)


def test_de_lu_keeps_both_classification_sequences_apart() -> None:
    table = parse("A44_dayahead_prices_DE-LU_2021_15min_and_60min_sequences.xml", "A44")

    hourly, quarter_hourly = series(table, "entsoe/A44/DE-LU/price"), series(table, "entsoe/A44/DE-LU/price_seq2")
    assert {row["resolution"] for row in hourly} == {"PT60M"}
    assert {row["resolution"] for row in quarter_hourly} == {"PT15M"}
    assert value_at(table, "entsoe/A44/DE-LU/price", utc(2020, 12, 31, 23)) == 50.87
    assert value_at(table, "entsoe/A44/DE-LU/price", utc(2021, 1, 1, 0)) == 48.19
    assert value_at(table, "entsoe/A44/DE-LU/price_seq2", utc(2020, 12, 31, 23)) == 75.83
    assert value_at(table, "entsoe/A44/DE-LU/price_seq2", utc(2020, 12, 31, 23, 15)) == 63.16
    assert len(hourly) == 48 and len(quarter_hourly) == 192  # two days each, curveType A03 filled out


def test_sparse_a03_curve_repeats_the_last_value_over_omitted_positions() -> None:
    table = parse("A84_activated_balancing_energy_prices_NL_PT15M.xml", "A84")

    up = series(table, "entsoe/A84/NL/activation_price_mixed_up")
    assert len(up) == 34  # 00:00-08:30 in quarter-hours, though only positions 1 and 25 are in the payload
    assert [row["value"] for row in up[:24]] == [11.252] * 24
    assert [row["value"] for row in up[24:]] == [27.5] * 10
    assert up[24]["ts"] == utc(2025, 5, 29, 6, 0)


def test_load_actual_and_forecast_are_different_series() -> None:
    actual = parse("A65_actual_load_DK1.xml", "A65")
    forecast = parse("A65_load_forecast_DK2.xml", "A65")

    assert value_at(actual, "entsoe/A65/DK1/load", utc(2023, 12, 28, 15)) == 3031.0
    assert {row["unit"] for row in actual.to_pylist()} == {"MW"}
    assert set(forecast["series_id"].to_pylist()) == {"entsoe/A65/DK2/load_da"}


@pytest.mark.parametrize(
    ("name", "dataset", "expected_series", "rows"),
    [
        pytest.param(
            "A69_wind_solar_forecast_FI_dayahead.xml",
            "A69",
            {"entsoe/A69/FI/generation_forecast_solar_da", "entsoe/A69/FI/generation_forecast_wind_onshore_da"},
            576,
            id="wind_solar_day_ahead",
        ),
        pytest.param(
            "A75_actual_generation_per_type_SE4.xml",
            "A75",
            {
                f"entsoe/A75/SE4/generation_{kind}"
                for kind in ("gas", "hydro_reservoir", "other", "solar", "wind_onshore")
            },
            355,
            id="per_type",
        ),
        pytest.param("A11_physical_flows_DK1_GB.xml", "A11", {"entsoe/A11/DK1>GB/physical_flow"}, 44, id="flows"),
        pytest.param(
            "A09_scheduled_exchange_DK2_SE4.xml",
            "A09",
            # Four days of the total schedule (contract A05) and two of the daily one (A01), kept apart.
            {"entsoe/A09/DK2>SE4/scheduled_exchange", "entsoe/A09/DK2>SE4/scheduled_exchange_total"},
            144,
            id="scheduled_exchange",
        ),
        pytest.param("A61_capacity_dayahead_ES_FR.xml", "A61", {"entsoe/A61/FR>ES/capacity"}, 41, id="capacity"),
        pytest.param(
            "A71_generation_forecast_SE3.xml",
            "A71",
            {"entsoe/A71/SE3/generation_forecast_da"},
            72,
            id="generation_forecast",
        ),
        pytest.param(
            "A81_contracted_reserves_FCR_NL.xml",
            "A81",
            {"entsoe/A81/NL/reserve_generation_fcr_price", "entsoe/A81/NL/reserve_generation_fcr_quantity"},
            46,
            id="contracted_reserves",
        ),
    ],
)
def test_every_fixture_parses_to_its_series(name: str, dataset: str, expected_series: set[str], rows: int) -> None:
    table = parse(name, dataset)

    assert set(table["series_id"].to_pylist()) == expected_series
    assert table.num_rows == rows
    assert table["ts"].null_count == 0 and table["value"].null_count == 0


def test_daily_resolution_follows_local_midnight_across_dst() -> None:
    table = parse("A61_capacity_weekahead_DK1_DK2.xml", "A61")

    days = [row["ts"] for row in series(table, "entsoe/A61/DK2>DK1/capacity")]
    assert len(days) == 41
    assert days[0] == utc(2026, 2, 16, 23) and days[-1] == utc(2026, 3, 28, 23)
    assert all(later - earlier == timedelta(days=1) for earlier, later in itertools.pairwise(days))


@pytest.mark.parametrize("name", ["ack_999_no_data_fixture.xml", "ack_B11_not_available_fixture.xml"])
def test_no_data_acknowledgement_is_an_empty_table(name: str) -> None:
    table = parse(name, "A44")

    assert table.num_rows == 0
    assert table.schema == OBSERVATION_SCHEMA


def test_too_many_instances_asks_for_a_smaller_window() -> None:
    with pytest.raises(WindowTooLargeError, match="exceeds the allowed maximum"):
        parse("ack_999_offset_exceeded_fixture.xml", "A44")


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        pytest.param(fixture_bytes("entsoe", "A44_dayahead_prices_FR.xml")[:900], "malformed XML", id="truncated"),
        pytest.param(b"<html><body>Bad Gateway</body></html>", "unexpected document 'html'", id="html_error_page"),
        pytest.param(
            fixture_bytes("entsoe", "A44_dayahead_prices_FR.xml").replace(b">95.02<", b">n/a<"),
            "non-numeric",
            id="non_numeric_value",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "malformed XML",
            id="external_entity_refused",
        ),
    ],
)
def test_malformed_payload_names_provider_dataset_and_window(payload: bytes, problem: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_entsoe(payload, context("entsoe", "A44"))

    assert problem in str(caught.value)
    assert (caught.value.provider, caught.value.dataset) == ("entsoe", "A44")
    assert caught.value.window == "2015-01-01T00:00Z/2031-01-01T00:00Z"


def price_document(start: str, end: str, resolution: str, points: dict[int, float], curve: str = "A01") -> bytes:
    """A minimal A44 document of one Period (synthetic: the real ones' shape, for days no capture covers)."""
    return a44_document(Period(start, end, resolution, points), curve=curve)


@pytest.mark.parametrize(
    ("start", "end", "resolution", "count"),
    [
        pytest.param("2025-10-25T22:00Z", "2025-10-26T23:00Z", "PT60M", 25, id="dst_fall_back_day_hourly"),
        pytest.param("2025-10-25T22:00Z", "2025-10-26T23:00Z", "PT15M", 100, id="dst_fall_back_day_quarter_hours"),
        pytest.param("2026-03-28T23:00Z", "2026-03-29T22:00Z", "PT60M", 23, id="dst_spring_forward_day_hourly"),
        pytest.param("2026-03-28T23:00Z", "2026-03-29T22:00Z", "PT15M", 92, id="dst_spring_forward_quarter_hours"),
    ],
)
def test_dst_days_have_every_interval_once(start: str, end: str, resolution: str, count: int) -> None:
    table = parse_entsoe(
        price_document(start, end, resolution, {i: float(i) for i in range(1, count + 1)}), context("entsoe", "A44")
    )

    stamps = table["ts"].to_pylist()
    assert len(stamps) == len(set(stamps)) == count
    step = timedelta(minutes=15 if resolution == "PT15M" else 60)
    assert all(b - a == step for a, b in itertools.pairwise(stamps))


@given(
    resolution=st.sampled_from(["PT15M", "PT30M", "PT60M"]),
    count=st.integers(min_value=1, max_value=100),
    present=st.sets(st.integers(min_value=1, max_value=100), min_size=1),
)
def test_a03_fill_yields_every_position_from_the_first_present(resolution: str, count: int, present: set[int]) -> None:
    minutes = {"PT15M": 15, "PT30M": 30, "PT60M": 60}[resolution]
    start = utc(2025, 1, 1)
    end = start + timedelta(minutes=minutes * count)
    positions = {p: float(p) for p in present if p <= count} or {1: 1.0}
    document = price_document(
        start.strftime("%Y-%m-%dT%H:%MZ"), end.strftime("%Y-%m-%dT%H:%MZ"), resolution, positions, curve="A03"
    )

    rows = parse_entsoe(document, context("entsoe", "A44")).to_pylist()

    first = min(positions)
    assert len(rows) == count - first + 1
    for row in rows:
        position = int((row["ts"] - start) / timedelta(minutes=minutes)) + 1
        assert row["value"] == max(p for p in positions if p <= position)  # the last value given at or before it


def test_imbalance_prices_keep_both_categories_of_a_position() -> None:
    # Synthetic (no real A85 capture is public): dual pricing gives two points per position, one per category.
    points = "".join(
        f"<Point><position>{p}</position><imbalance_Price.amount>{v}</imbalance_Price.amount>"
        f"<imbalance_Price.category>{c}</imbalance_Price.category></Point>"
        for p, c, v in ((1, "A04", 80.0), (1, "A05", 95.5), (2, "A04", 81.0), (2, "A05", 97.0))
    )
    document = f"""<?xml version="1.0" encoding="UTF-8"?>
<Balancing_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-6:balancingdocument:4:4">
<type>A85</type><createdDateTime>2025-11-02T10:00:00Z</createdDateTime>
<area_Domain.mRID codingScheme="A01">10YDK-1--------W</area_Domain.mRID>
<TimeSeries><curveType>A01</curveType><Period><timeInterval><start>2025-11-02T08:00Z</start>
<end>2025-11-02T08:30Z</end></timeInterval><resolution>PT15M</resolution>{points}</Period></TimeSeries>
</Balancing_MarketDocument>""".encode()

    table = parse_entsoe(document, context("entsoe", "A85"))

    assert value_at(table, "entsoe/A85/DK1/imbalance_price_long", utc(2025, 11, 2, 8, 15)) == 81.0
    assert value_at(table, "entsoe/A85/DK1/imbalance_price_short", utc(2025, 11, 2, 8, 15)) == 97.0
    assert table.num_rows == 4
