"""A batch's combined rows keep one row per key, the later message's, however its windows overlap (Hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from scalar_ray.core.observations import unique_keys
from scalar_ray.core.window import Window
from scalar_ray.ingestion.batcher import PendingBatch
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from tests.unit.spine_helpers import HOUR, NOW

QUARTER = timedelta(minutes=15)
# (dataset, first quarter-hour, quarter-hours, value offset): windows of two datasets that often overlap in time.
WINDOWS = st.tuples(st.sampled_from(["A44", "A75"]), st.integers(0, 12), st.integers(1, 6), st.integers(0, 1000))


def window(dataset: str, first: int, length: int, offset: int) -> pa.Table:
    start = HOUR + QUARTER * first
    builder = ObservationBuilder(FetchContext("entsoe", dataset, Window(start, start + QUARTER * length), NOW, "DK1"))
    for quarter in range(length):
        builder.add(
            area="DK1",
            variable="price",  # the same variable in both datasets: only the dataset tells their series apart
            ts=start + QUARTER * quarter,
            value=float(offset + quarter),
            issued_at=NOW - timedelta(hours=1),
            unit="EUR/MWh",
            resolution="PT15M",
        )
    return builder.build()


@given(st.lists(WINDOWS, min_size=1, max_size=6))
def test_combined_rows_are_the_later_messages_row_of_each_key(
    windows: list[tuple[str, int, int, int]],
) -> None:
    tables = [window(*spec) for spec in windows]

    combined = PendingBatch(tables=tables).combined()

    expected = unique_keys(pa.concat_tables(tables), "last")
    assert combined.equals(expected)


def test_a_window_fetched_again_after_others_replaces_the_first_fetch() -> None:
    first, other, again = window("A44", 0, 4, 0), window("A44", 8, 4, 0), window("A44", 2, 4, 500)

    combined = PendingBatch(tables=[first, other, again]).combined()

    by_ts = dict(zip(combined["ts"].to_pylist(), combined["value"].to_pylist(), strict=True))
    assert combined.num_rows == 2 + 4 + 4
    assert [by_ts[HOUR + QUARTER * quarter] for quarter in range(6)] == [0.0, 1.0, 500.0, 501.0, 502.0, 503.0]
