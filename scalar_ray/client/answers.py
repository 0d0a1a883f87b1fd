"""What the client returns: an Arrow table and its meaning, convertible to pandas and polars."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from scalar_ray.core.arrow_ipc import from_ipc

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Answer"]


@dataclass(frozen=True)
class Answer:
    """One answer of the read API."""

    table: pa.Table
    meta: dict[str, Any]

    @classmethod
    def from_arrow_ipc(cls, body: bytes) -> Answer:
        """An answer from the API's Arrow IPC stream (its meaning in the schema metadata)."""
        table = from_ipc(body)
        metadata = table.schema.metadata or {}
        meta = json.loads(metadata.get(b"scalar_ray", b"{}"))
        return cls(_plain(table.replace_schema_metadata(None)), meta)

    @classmethod
    def concat(cls, answers: list[Answer]) -> Answer:
        """Pieces of one read (``iter_series``) as one answer."""
        if not answers:
            raise ValueError("no answers to join")
        return cls(pa.concat_tables([answer.table for answer in answers]), answers[0].meta)

    def to_arrow(self) -> pa.Table:
        """The table as it came."""
        return self.table

    def to_pandas(self, layout: Literal["long", "wide"] = "long") -> pd.DataFrame:
        """A DataFrame indexed by the tz-aware ``ts`` (wide: one column per series; long: one row per value)."""
        frame = self.table.to_pandas()
        if "ts" not in frame.columns:
            return frame
        if layout == "wide" and "series_id" in frame.columns:
            # Columns in the order the series were asked (the answer's meaning lists them), not sorted.
            asked = [entry["id"] for entry in self.meta.get("series", []) if isinstance(entry, dict)]
            order = asked or list(dict.fromkeys(frame["series_id"]))
            wide = frame.pivot(index="ts", columns="series_id", values="value")
            wide.columns.name = None
            return wide[[series_id for series_id in order if series_id in wide.columns]]
        return frame.set_index("ts")

    def to_polars(self) -> Any:
        """A polars DataFrame (the ``polars`` extra: ``pip install scalar-ray[polars]``)."""
        try:
            import polars  # noqa: PLC0415 - optional: only this method needs it
        except ImportError as exc:
            raise ImportError("to_polars needs polars: pip install 'scalar-ray[polars]'") from exc
        return polars.from_arrow(self.table)


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns (the API encodes repeated series ids so) as their plain values: strings stay strings."""
    for position, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(position, field.name, table[field.name].cast(field.type.value_type))
    return table
