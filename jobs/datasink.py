"""A Ray Data ``Datasink`` for the platform's warehouse: a bulk load, its blocks staged, then merged once.

It holds settings only and opens the adapter inside each write task (Ray ships the sink to workers). Each task
stages its blocks under the job's load id and a chunk id derived from the job and the block's content, so a retried
task stages nothing twice; when every task is done the driver merges the load, which stores it exactly as upserting
the blocks one by one would. DuckDB has one writing process, the warehouse actor, so tasks stage through it (appends,
merged in bulk); StarRocks tasks load directly (staging there is the Stream Load itself, under its label).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from ray.data import Datasink
from ray.data.block import BlockAccessor
from ray.data.datasource.datasink import WriteResult as RayWriteResult

from actors.warehouse import ensure_warehouse_actor
from scalar_ray.composition import worker_warehouse
from scalar_ray.config.settings import Settings
from scalar_ray.warehouse.base import BULK_CHUNK_ROWS, content_digest


def even_chunks(table: pa.Table, rows_per_chunk: int) -> list[pa.Table]:
    """``table`` in order, cut into equal slices of at least ``rows_per_chunk`` rows (all of it when it has fewer).

    The rows past a multiple of ``rows_per_chunk`` are spread over the slices rather than left as a short one of
    their own: a chunk costs a call and a commit, and one of a few hundred rows is no cheaper than a full one.
    """
    if table.num_rows == 0:
        return []
    chunks = max(1, table.num_rows // rows_per_chunk)
    base, longer = divmod(table.num_rows, chunks)  # the first ``longer`` slices take one row more
    slices, offset = [], 0
    for index in range(chunks):
        length = base + (index < longer)
        slices.append(table.slice(offset, length))
        offset += length
    return slices


class WarehouseDatasink(Datasink[dict[str, int]]):
    """Writes canonical observation blocks into the configured warehouse."""

    def __init__(self, settings: Settings, job_id: str, rows_per_write: int = BULK_CHUNK_ROWS) -> None:
        self._settings = settings
        self._job_id = job_id
        self._rows_per_write = rows_per_write
        self.rows_written = 0

    def on_write_start(self, schema: Any = None) -> None:
        """DuckDB: make sure the warehouse actor runs before tasks write through it."""
        del schema
        if self._settings.warehouse.kind == "duckdb":
            ensure_warehouse_actor(self._settings)

    def write(self, blocks: Iterable[Any], ctx: Any) -> dict[str, int]:
        """Stage the task's blocks, gathered into chunks of about ``rows_per_write``; return the rows staged.

        Gathered, not staged block by block: a back-fill's blocks are one fetched window each (a few thousand rows),
        and a chunk's fixed cost (a call to the warehouse actor, a transaction) paid per window made the load four
        times slower. Ray Data hands a task about ``min_rows_per_write`` rows, so what is gathered stays bounded; it
        is cut into equal chunks of at least ``rows_per_write`` (``even_chunks``).
        """
        warehouse = worker_warehouse(self._settings)
        rows = 0
        try:
            tables = [BlockAccessor.for_block(block).to_arrow() for block in blocks]
            gathered = pa.concat_tables(tables) if tables else pa.table({})
            for piece in even_chunks(gathered, self._rows_per_write):
                rows += warehouse.stage(piece, self._job_id, content_digest(piece, salt=self._job_id))
        finally:
            warehouse.close()
        return {"rows": rows}

    def on_write_complete(self, write_result: RayWriteResult[dict[str, int]]) -> None:
        """Merge what the tasks staged."""
        warehouse = worker_warehouse(self._settings)
        try:
            warehouse.merge_staged(self._job_id)
        finally:
            warehouse.close()
        self.rows_written = sum(result["rows"] for result in write_result.write_returns)

    def on_write_failed(self, error: Exception) -> None:
        """A failed job leaves nothing staged behind (what a merge-less warehouse loaded stays: it is idempotent)."""
        del error
        warehouse = worker_warehouse(self._settings)
        try:
            warehouse.discard_staged(self._job_id)
        finally:
            warehouse.close()

    @property
    def min_rows_per_write(self) -> int:
        """Let Ray Data gather small blocks into chunks of about this many rows."""
        return self._rows_per_write

    def get_name(self) -> str:
        """Shown in Ray Data's progress output."""
        return f"Warehouse({self._settings.warehouse.kind})"
