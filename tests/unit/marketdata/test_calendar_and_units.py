"""Local buckets across DST and what aggregation does to units (scalar_ray.marketdata.calendar, .units)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from scalar_ray.core.errors import ReadRequestError
from scalar_ray.core.window import Window
from scalar_ray.marketdata.calendar import HOURS, Frequency, bucket_edges, bucket_index, in_hours
from scalar_ray.marketdata.units import aggregated, default_aggregation

CPH = ZoneInfo("Europe/Copenhagen")
OCTOBER = Window(datetime(2025, 10, 24, 22, tzinfo=UTC), datetime(2025, 10, 27, 23, tzinfo=UTC))  # 25 to 27 Oct local


def hours_between(edges: list[datetime]) -> list[float]:
    return [(b - a) / timedelta(hours=1) for a, b in itertools.pairwise(edges)]


def test_local_days_are_24_25_and_24_hours_around_the_october_change() -> None:
    edges = bucket_edges(OCTOBER, Frequency.parse("P1D"), CPH)

    assert [edge.astimezone(CPH).isoformat() for edge in edges] == [
        "2025-10-25T00:00:00+02:00",
        "2025-10-26T00:00:00+02:00",
        "2025-10-27T00:00:00+01:00",
        "2025-10-28T00:00:00+01:00",
    ]
    assert hours_between(edges) == [24, 25, 24]


@pytest.mark.parametrize(
    ("frequency", "moment", "first_local"),
    [
        ("P1W", datetime(2026, 3, 29, 12, tzinfo=UTC), "2026-03-23T00:00:00+01:00"),  # the Monday before
        ("P1M", datetime(2026, 3, 29, 12, tzinfo=UTC), "2026-03-01T00:00:00+01:00"),
        ("P3M", datetime(2026, 5, 10, tzinfo=UTC), "2026-04-01T00:00:00+02:00"),
        ("P1Y", datetime(2026, 7, 1, tzinfo=UTC), "2026-01-01T00:00:00+01:00"),
        ("PT15M", datetime(2026, 3, 29, 1, 7, tzinfo=UTC), "2026-03-29T03:00:00+02:00"),
        ("PT1H", datetime(2025, 10, 26, 1, 30, tzinfo=UTC), "2025-10-26T02:00:00+01:00"),  # the second 02:00
    ],
)
def test_the_first_bucket_starts_where_the_local_calendar_says(
    frequency: str, moment: datetime, first_local: str
) -> None:
    assert Frequency.parse(frequency).first_edge(moment, CPH).astimezone(CPH).isoformat() == first_local


def test_a_march_week_and_month_are_an_hour_short() -> None:
    week = bucket_edges(
        Window(datetime(2026, 3, 23, tzinfo=UTC), datetime(2026, 3, 29, 12, tzinfo=UTC)), Frequency.parse("P1W"), CPH
    )
    month = bucket_edges(
        Window(datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC)), Frequency.parse("P1M"), CPH
    )

    assert hours_between(week) == [7 * 24 - 1]
    assert hours_between(month) == [31 * 24 - 1]


def test_frequencies_that_do_not_divide_an_hour_or_a_calendar_are_refused() -> None:
    for text in ("PT7M", "PT2H", "P2D", "P1DT1H", "soon"):
        with pytest.raises(ReadRequestError) as raised:
            Frequency.parse(text)
        assert raised.value.parameter == "frequency"
    with pytest.raises(ReadRequestError, match="buckets"):
        bucket_edges(
            Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)), Frequency.parse("PT1M"), CPH
        )


def test_bucket_index_puts_each_interval_in_its_half_open_bucket() -> None:
    edges = bucket_edges(OCTOBER, Frequency.parse("P1D"), CPH)
    stamps = pa.array([edges[0], edges[1] - timedelta(microseconds=1), edges[1], edges[3] - timedelta(minutes=15)])

    assert bucket_index(stamps, edges).tolist() == [0, 0, 1, 2]


def test_peak_is_eight_to_eight_on_weekdays_in_local_time() -> None:
    # Friday 27 March 2026 (CET) and Monday 30 March (CEST): 08:00 local is 07:00 and 06:00 UTC.
    stamps = pa.array(
        [
            datetime(2026, 3, 27, 6, 45, tzinfo=UTC),  # 07:45 CET: not yet
            datetime(2026, 3, 27, 7, tzinfo=UTC),  # 08:00 CET
            datetime(2026, 3, 30, 6, tzinfo=UTC),  # 08:00 CEST
            datetime(2026, 3, 30, 17, 45, tzinfo=UTC),  # 19:45 CEST
            datetime(2026, 3, 30, 18, tzinfo=UTC),  # 20:00 CEST: over
            datetime(2026, 3, 29, 10, tzinfo=UTC),  # Sunday
        ]
    )

    assert in_hours(stamps, HOURS["peak"], CPH).to_pylist() == [False, True, True, True, False, False]
    assert in_hours(stamps, HOURS["offpeak"], CPH).to_pylist() == [True, False, False, False, True, True]
    assert all(in_hours(stamps, HOURS["base"], CPH).to_pylist())


def test_power_is_averaged_energy_summed_and_a_sum_of_power_is_energy() -> None:
    assert (default_aggregation("MW"), default_aggregation("EUR/MWh"), default_aggregation("MWh")) == (
        "mean",
        "mean",
        "sum",
    )
    assert aggregated("MW", "sum", timedelta(minutes=15)).unit == "MWh"
    assert aggregated("MW", "sum", timedelta(minutes=15)).factor_per_hour
    assert aggregated("MWh", None, timedelta(hours=1)).aggregation == "sum"
    assert aggregated("EUR/MWh", "max", timedelta(hours=1)).unit == "EUR/MWh"
    with pytest.raises(ReadRequestError, match="intensive"):
        aggregated("%", "sum", timedelta(hours=1))
    with pytest.raises(ReadRequestError, match="fixed resolution"):
        aggregated("MW", "sum", None)
