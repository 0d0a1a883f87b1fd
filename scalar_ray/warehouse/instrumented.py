"""A warehouse that measures itself: every call is a ``db.client.operation.duration`` point and a CLIENT span.

Wrapped around any adapter at the composition root, so DuckDB (directly or through its actor) and StarRocks report
the checklist's batch insert time (``INSERT``) and query latency (``SELECT``) the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pyarrow as pa
from typing_extensions import override

from scalar_ray.core.window import Window
from scalar_ray.telemetry.instruments import db_operation
from scalar_ray.warehouse.base import Warehouse, WriteResult

__all__ = ["InstrumentedWarehouse"]

_TABLE = "observations"
_STAGING = "staged observations"  # a bulk load's chunks before their merge


class InstrumentedWarehouse(Warehouse):
    """Times and traces the calls of ``inner``; behaviour is ``inner``'s."""

    def __init__(self, inner: Warehouse, system: str) -> None:
        self.inner = inner
        self.name = inner.name
        self._system = system

    @override
    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        with db_operation(self._system, "INSERT", _TABLE):
            return self.inner.write(observations, batch_id)

    @override
    def stage(self, observations: pa.Table, load_id: str, chunk_id: str) -> int:
        with db_operation(self._system, "INSERT", _STAGING):
            return self.inner.stage(observations, load_id, chunk_id)

    @override
    def merge_staged(self, load_id: str) -> WriteResult:
        with db_operation(self._system, "MERGE", _TABLE):
            return self.inner.merge_staged(load_id)

    @override
    def discard_staged(self, load_id: str) -> None:
        with db_operation(self._system, "DROP", _STAGING):
            self.inner.discard_staged(load_id)

    @override
    def read(self, series_ids: Sequence[str], window: Window, as_of: datetime | None = None) -> pa.Table:
        with db_operation(self._system, "SELECT", _TABLE):
            return self.inner.read(series_ids, window, as_of)

    @override
    def read_known(
        self, series_ids: Sequence[str], window: Window, known_within: timedelta, earliest_if_unknown: bool = False
    ) -> pa.Table:
        with db_operation(self._system, "SELECT", _TABLE):
            return self.inner.read_known(series_ids, window, known_within, earliest_if_unknown)

    @override
    def write_forecasts(self, forecasts: pa.Table, batch_id: str | None = None) -> WriteResult:
        with db_operation(self._system, "INSERT", "forecasts"):
            return self.inner.write_forecasts(forecasts, batch_id)

    @override
    def read_forecasts(self, family: str, zone: str, issued: Window) -> pa.Table:
        with db_operation(self._system, "SELECT", "forecasts"):
            return self.inner.read_forecasts(family, zone, issued)

    @override
    def latest_forecast(self, family: str, zone: str, as_of: datetime, lookback: timedelta) -> pa.Table:
        with db_operation(self._system, "SELECT", "forecasts"):
            return self.inner.latest_forecast(family, zone, as_of, lookback)

    @override
    def read_vintages(self, series_ids: Sequence[str], window: Window, issued: Window | None = None) -> pa.Table:
        with db_operation(self._system, "SELECT", _TABLE):
            return self.inner.read_vintages(series_ids, window, issued)

    @override
    def issues(self, series_ids: Sequence[str], issued: Window) -> pa.Table:
        with db_operation(self._system, "SELECT", _TABLE):
            return self.inner.issues(series_ids, issued)

    @override
    def catalogue(self) -> pa.Table:
        with db_operation(self._system, "SELECT", "series"):
            return self.inner.catalogue()

    @override
    def count(self) -> int:
        return self.inner.count()

    @override
    def series_metadata(self, series_id: str) -> dict[str, str] | None:
        return self.inner.series_metadata(series_id)

    @override
    def compact(self, keep_after: datetime) -> int:
        with db_operation(self._system, "DELETE", _TABLE):
            return self.inner.compact(keep_after)

    @override
    def query(self, sql: str) -> pa.Table:
        with db_operation(self._system, "SELECT", "query"):
            return self.inner.query(sql)

    @override
    def close(self) -> None:
        self.inner.close()
