"""A stable 64-bit integer key per series id: what the embedded warehouse clusters and prunes on.

DuckDB skips a row group when its min/max statistics exclude the filter, but for strings it keeps only an 8-byte
prefix of the min and max. Series ids share long prefixes (``entsoe/A44/DK1/price``, ``entsoe/A44/DK2/price``), so
a filter on the id prunes nothing and every read scanned the whole table: measured on 10.5 million rows sorted by
series, counting one series-year took 29 ms on the id and 3 ms on this key (bench/read.py has the full figures).
Reads filter and group on the key alone and name the rows' series afterwards, in Arrow: materialising the id string
of every row cost DuckDB more than the scan. That is exact because a write refuses a series whose key another id
already holds (a permanent ``WarehouseError``, "series key collision"; about one chance in 10^7 at a million
series). The key is a digest, not DuckDB's ``hash()``, whose values may change between DuckDB versions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SeriesSelection", "series_key", "series_keys_column"]


def series_key(series_id: str) -> int:
    """The key of one series id: the first eight bytes of its BLAKE2b digest, as a signed 64-bit integer."""
    digest = hashlib.blake2b(series_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def series_keys_column(series_ids: pa.ChunkedArray) -> pa.ChunkedArray:
    """The key of every row's series id, hashing each distinct id once (a batch holds few series, many rows)."""
    distinct = pc.unique(series_ids)
    keys = pa.array([series_key(value) for value in distinct.to_pylist()], pa.int64())
    return pc.take(keys, pc.index_in(series_ids, value_set=distinct))


@dataclass(frozen=True)
class SeriesSelection:
    """The series a read asks for, as SQL on their keys and back to ids on the answer."""

    ids: tuple[str, ...]  # distinct, sorted: the order the answer's rows come in
    keys: tuple[int, ...]

    @classmethod
    def of(cls, series_ids: Sequence[str]) -> SeriesSelection:
        """The selection of these ids (repeats dropped)."""
        ids = tuple(sorted(set(series_ids)))
        return cls(ids, tuple(series_key(value) for value in ids))

    @property
    def where(self) -> str:
        """The filter (constants: what DuckDB prunes row groups with)."""
        return f"series_key in ({', '.join(str(key) for key in self.keys)})" if self.keys else "false"

    @property
    def rank(self) -> str:
        """An expression ordering rows by their series id (one series: its key, a constant DuckDB orders for free)."""
        if len(self.keys) < 2:  # noqa: PLR2004 - one series needs no order among series
            return "series_key"
        return f"list_position([{', '.join(str(key) for key in self.keys)}]::bigint[], series_key)"

    def named(self, table: pa.Table) -> pa.Table:
        """``table`` with its ``series_key`` column replaced by the series id, in the same place."""
        position = table.schema.get_field_index("series_key")
        if len(self.ids) == 1:  # every row is the one series': no lookup per row
            return table.set_column(position, "series_id", pa.repeat(pa.scalar(self.ids[0]), table.num_rows))
        keys = pa.array(self.keys, pa.int64())
        names = pc.take(pa.array(self.ids, pa.string()), pc.index_in(table["series_key"], value_set=keys))
        return table.set_column(position, "series_id", names)
