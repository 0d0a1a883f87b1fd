"""How the warehouse datasink cuts a task's gathered rows into chunks (Hypothesis)."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from jobs.datasink import even_chunks


@given(rows=st.integers(0, 5_000), rows_per_chunk=st.integers(1, 700))
def test_chunks_keep_every_row_in_order_and_none_is_short(rows: int, rows_per_chunk: int) -> None:
    table = pa.table({"n": pa.array(range(rows), pa.int64())})

    chunks = even_chunks(table, rows_per_chunk)

    assert [n for chunk in chunks for n in chunk["n"].to_pylist()] == list(range(rows))
    sizes = [chunk.num_rows for chunk in chunks]
    assert all(size >= min(rows, rows_per_chunk) for size in sizes)
    assert max(sizes, default=0) - min(sizes, default=0) <= 1
    assert len(chunks) == (max(1, rows // rows_per_chunk) if rows else 0)


def test_a_task_just_past_a_chunk_stages_one_chunk_not_a_chunk_and_a_sliver() -> None:
    table = pa.table({"n": pa.array(range(103_680), pa.int64())})  # 27 windows of 3,840 rows

    assert [chunk.num_rows for chunk in even_chunks(table, 100_000)] == [103_680]
    assert [chunk.num_rows for chunk in even_chunks(table, 50_000)] == [51_840, 51_840]
