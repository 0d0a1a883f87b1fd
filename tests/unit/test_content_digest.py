"""Chunk and batch names from content: what makes a retried load recognisable and two loads distinct."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from scalar_ray.warehouse.base import content_digest


def table(rows: int) -> pa.Table:
    start = datetime(2025, 10, 26, tzinfo=UTC)
    return pa.table(
        {"ts": [start + timedelta(minutes=15 * i) for i in range(rows)], "value": [float(i) for i in range(rows)]}
    )


def test_the_same_rows_get_the_same_name_and_a_salt_makes_another() -> None:
    assert content_digest(table(10)) == content_digest(table(10))
    assert content_digest(table(10), salt="job-a") != content_digest(table(10), salt="job-b")
    assert content_digest(table(10)) != content_digest(table(11))


def test_two_slices_of_one_table_get_two_names() -> None:
    # Slices share their parent's buffers whole: named by the buffers alone, the second slice of a block would be
    # taken for a retry of the first and never stored.
    whole = table(200)
    first, second = whole.slice(0, 100), whole.slice(100, 100)

    assert content_digest(first) != content_digest(second)
    assert content_digest(whole.slice(100, 100)) == content_digest(second)
