"""The key helpers of the canonical table against a plain-Python oracle (Hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from scalar_ray.core.observations import KEY, OBSERVATION_SCHEMA, keys_strictly_increasing, unique_keys

START = datetime(2026, 10, 25, tzinfo=UTC)
# Few distinct values per key column, so repeated keys and ties in the leading columns are common.
KEYS = st.tuples(
    st.sampled_from(["entsoe/A44/DK1/price", "entsoe/A44/DK2/price", "nordpool/dayahead/SE3/price"]),
    st.integers(0, 3).map(lambda quarter: START + timedelta(minutes=15 * quarter)),
    st.integers(0, 2).map(lambda hour: START - timedelta(hours=hour)),
)

TWO_KEYS = [("entsoe/A44/DK1/price", START, START), ("entsoe/A44/DK1/price", START + timedelta(minutes=15), START)]


def table_of(keys: list[tuple[str, datetime, datetime]]) -> pa.Table:
    provider, dataset = "entsoe", "A44"
    return pa.Table.from_pylist(
        [
            {
                "series_id": series,
                "ts": ts,
                "value": float(index),
                "issued_at": issued,
                "provider": provider,
                "dataset": dataset,
                "area": series.split("/")[2],
                "variable": "price",
                "unit": "EUR/MWh",
                "resolution": "PT15M",
            }
            for index, (series, ts, issued) in enumerate(keys)
        ],
        schema=OBSERVATION_SCHEMA,
    )


@given(st.lists(KEYS, max_size=12))
def test_keys_strictly_increasing_is_each_key_above_the_one_before(keys: list[tuple[str, datetime, datetime]]) -> None:
    assert keys_strictly_increasing(table_of(keys)) == all(a < b for a, b in itertools.pairwise(keys))


@given(st.lists(KEYS, max_size=12))
def test_a_table_with_increasing_keys_is_its_own_unique_keys(keys: list[tuple[str, datetime, datetime]]) -> None:
    table = table_of(keys)
    if keys_strictly_increasing(table):
        assert unique_keys(table, "first").equals(table)
    last_of_each = {key: index for index, key in enumerate(keys)}
    kept = unique_keys(table, "last")
    assert kept["value"].to_pylist() == [float(index) for index in sorted(last_of_each.values())]
    assert kept.select(list(KEY)).num_rows == len(last_of_each)


def test_a_table_split_into_chunks_is_compared_across_the_chunk_boundary() -> None:
    first, second = table_of([TWO_KEYS[0]]), table_of([TWO_KEYS[0], TWO_KEYS[1]])
    chunked = pa.concat_tables([first, second])  # two chunks; the repeat straddles them

    assert chunked["series_id"].num_chunks == 2
    assert not keys_strictly_increasing(chunked)
    assert keys_strictly_increasing(pa.concat_tables([first, table_of([TWO_KEYS[1]])]))
