"""Validation of a decoded window: what is accepted, and the reason given for each rejection."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest

from scalar_ray.core.window import Window
from scalar_ray.ingestion.validation import validate_envelope
from tests.unit.spine_helpers import HOUR, NOW, envelope, observations


def test_a_plausible_window_is_accepted_unchanged() -> None:
    table = observations([50.0, 51.5, -3.2, 4000.0])

    verdict = validate_envelope(envelope(table), NOW)

    assert verdict.accepted
    assert verdict.observations.equals(table)


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        pytest.param(observations([50.0, 9e9]), "EUR/MWh value(s) outside", id="price_out_of_range"),
        pytest.param(observations([1e7], unit="MW"), "MW value(s) outside", id="power_out_of_range"),
        pytest.param(
            observations([50.0], start=HOUR + timedelta(minutes=7)), "not on the PT15M grid", id="off_the_grid"
        ),
        pytest.param(
            observations([50.0], issued_at=NOW + timedelta(hours=3)), "lies in the future", id="future_vintage"
        ),
        pytest.param(observations([50.0], start=HOUR - timedelta(days=3)), "outside the window", id="outside_window"),
    ],
)
def test_a_suspect_window_is_rejected_whole_with_its_reason(table: pa.Table, reason: str) -> None:
    verdict = validate_envelope(envelope(table), NOW)

    assert not verdict.accepted
    assert any(reason in text for text in verdict.reasons), verdict.reasons


def test_hourly_grid_and_five_minute_grid_are_checked_on_their_own_step() -> None:
    five = observations([1.0, 2.0], resolution="PT5M", step=timedelta(minutes=5))
    hourly_off = observations([1.0], start=HOUR + timedelta(minutes=15), resolution="PT60M", step=timedelta(hours=1))

    assert validate_envelope(envelope(five), NOW).accepted
    assert "not on the PT60M grid" in validate_envelope(envelope(hourly_off), NOW).reasons[0]


def test_exact_duplicates_are_dropped_and_conflicting_duplicates_rejected() -> None:
    table = observations([50.0, 51.0])
    repeated = pa.concat_tables([table, table.slice(0, 1)])
    changed = table.slice(0, 1).set_column(2, table.schema.field("value"), pa.array([99.0]))
    conflicting = pa.concat_tables([table, changed])

    kept = validate_envelope(envelope(repeated), NOW)
    refused = validate_envelope(envelope(conflicting), NOW)

    assert kept.accepted
    assert kept.duplicates_dropped == 1
    assert kept.observations.num_rows == 2
    assert not refused.accepted
    assert "two different values" in refused.reasons[0]


def test_a_window_of_several_units_and_resolutions_checks_each_on_its_own_bounds_and_grid() -> None:
    price = observations([60_000.0])  # outside the EUR/MWh bounds, inside the MW ones
    load = observations([60_000.0], unit="MW", area="DK2")
    hourly_off = observations(
        [1.0], start=HOUR + timedelta(minutes=15), resolution="PT60M", step=timedelta(hours=1), area="SE3"
    )

    verdict = validate_envelope(envelope(pa.concat_tables([price, load, hourly_off])), NOW)

    assert not verdict.accepted
    assert any("1 EUR/MWh value(s) outside" in reason for reason in verdict.reasons), verdict.reasons
    assert not any(" MW value(s)" in reason for reason in verdict.reasons), verdict.reasons
    assert any("1 PT60M timestamp(s)" in reason for reason in verdict.reasons), verdict.reasons
    assert not any("PT15M" in reason for reason in verdict.reasons), verdict.reasons


def test_rows_claiming_another_provider_than_the_message_are_rejected() -> None:
    table = observations([50.0])
    index = table.schema.get_field_index("provider")
    other = table.set_column(index, table.schema.field(index), pa.array(["nordpool"]))

    verdict = validate_envelope(envelope(other), NOW)

    assert "rows claim provider 'nordpool'" in verdict.reasons[0]


def test_an_empty_window_is_accepted() -> None:
    verdict = validate_envelope(envelope(observations([])), NOW)

    assert verdict.accepted
    assert verdict.observations.num_rows == 0


def test_a_window_can_be_given_explicitly() -> None:
    table = observations([50.0])

    assert validate_envelope(envelope(table, Window(HOUR, HOUR + timedelta(minutes=15))), NOW).accepted
