from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scalar_ray.core.window import Window
from scalar_ray.providers.fetching import window_from
from scalar_ray.providers.summary import summarize
from tests.unit.providers.helpers import context, fixture_bytes, utc

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "last", "expected"),
    [
        pytest.param(None, None, None, None, id="scheduled_window"),
        pytest.param(None, None, "P2D", Window(utc(2026, 11, 23, 12), NOW), id="last_two_days"),
        pytest.param(
            None, "2026-10-02T00:00Z", "PT6H", Window(utc(2026, 10, 1, 18), utc(2026, 10, 2)), id="last_before_end"
        ),
        pytest.param(
            "2026-10-01T00:00+02:00",
            "2026-10-02",
            None,
            Window(utc(2026, 9, 30, 22), utc(2026, 10, 2)),
            id="offsets_and_dates",
        ),
    ],
)
def test_window_from_the_command_line(
    start: str | None, end: str | None, last: str | None, expected: Window | None
) -> None:
    assert window_from(start, end, last, now=NOW) == expected


@pytest.mark.parametrize(
    ("start", "end", "last", "problem"),
    [
        pytest.param(None, "2026-10-02T00:00Z", None, "give --start or --last", id="end_alone"),
        pytest.param("2026-10-03", "2026-10-02", None, "is not after its start", id="reversed"),
        pytest.param(None, None, "two days", "not an ISO-8601 duration", id="bad_duration"),
    ],
)
def test_window_from_rejects_what_it_cannot_mean(
    start: str | None, end: str | None, last: str | None, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        window_from(start, end, last, now=NOW)


def test_summary_per_series() -> None:
    from scalar_ray.providers.nordpool_parser import parse_nordpool

    table = parse_nordpool(
        fixture_bytes("nordpool", "dataportal_DayAheadPriceIndices_SE1-4_60min.json"),
        context("nordpool", "DayAheadPriceIndices"),
    )

    summaries = summarize(table)

    assert [s.series_id.split("/")[2] for s in summaries] == ["SE1", "SE2", "SE3", "SE4"]
    se3 = summaries[2]
    assert (se3.rows, se3.first, se3.last) == (24, utc(2025, 5, 6, 22), utc(2025, 5, 7, 21))
    assert se3.minimum <= se3.mean <= se3.maximum
    assert summarize(table.slice(0, 0)) == []
