"""Backfill planning: daily pieces follow the area's local delivery days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scalar_ray.acquisition.backfill import BackfillItem, BackfillTally, plan_backfill
from scalar_ray.acquisition.service import AcquisitionTask
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import load_catalogue


def test_daily_pieces_are_cut_at_local_midnight_so_a_day_document_covers_one_day() -> None:
    spec = load_catalogue().get("entsoe", "A44")
    window = Window(datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC))  # over the DST change

    items = plan_backfill([AcquisitionTask(spec, "DK1")], window)

    bounds = [(item.window.start, item.window.end) for item in items]
    assert bounds == [
        (datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 24, 22, tzinfo=UTC)),  # CEST midnight
        (datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC)),  # the 25-hour day
        (datetime(2026, 10, 25, 23, tzinfo=UTC), datetime(2026, 10, 26, 23, tzinfo=UTC)),
        (datetime(2026, 10, 26, 23, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC)),
    ]


def test_other_pieces_and_areas_without_a_zone_split_evenly() -> None:
    spec = load_catalogue().get("jao", "maxExchanges")
    window = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC))

    assert len(plan_backfill([AcquisitionTask(spec, "CORE")], window)) == 2
    hourly = plan_backfill([AcquisitionTask(load_catalogue().get("entsoe", "A44"), "DK1")], window, timedelta(hours=12))
    assert len(hourly) == 4


def test_an_item_crosses_to_a_ray_data_row_and_back_at_the_same_utc_instants() -> None:
    spec = load_catalogue().get("entsoe", "A44")
    window = Window(datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC))
    (item,) = plan_backfill([AcquisitionTask(spec, "DK1")], window)

    row = item.as_row()

    assert all(isinstance(value, str) for value in row.values())
    assert BackfillItem.from_row(row) == item
    assert item.name == "entsoe/A44/DK1 2026-10-24T22:00:00+00:00"


def test_the_tally_counts_rows_per_dataset_and_names_every_failed_window() -> None:
    tally = BackfillTally(total=3)
    tally.report("entsoe/A44/DK1 a", "entsoe/A44", 96, None)
    tally.report("entsoe/A44/DK2 a", "entsoe/A44", 92, None)
    tally.report("entsoe/A65/DK1 a", "entsoe/A65", 0, "HTTP 503")

    snapshot = tally.snapshot()
    tally.report("late", "entsoe/A65", 1, None)  # the snapshot is a copy

    assert (snapshot.done, snapshot.rows["entsoe/A44"], snapshot.errors) == (3, 188, {"entsoe/A65/DK1 a": "HTTP 503"})
    assert snapshot.progress_line() == "backfill: 3/3 windows, 188 rows, 1 failed"
    assert snapshot.summary_lines()[-1] == "  FAILED entsoe/A65/DK1 a: HTTP 503"
