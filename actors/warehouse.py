"""The warehouse actor: the single owner of the embedded DuckDB file, which only one process may write.

Everything else reaches it through ``scalar_ray.warehouse.remote.RemoteWarehouse`` (the composition root's
``worker_warehouse``); StarRocks needs no such actor (each worker loads directly).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psutil
import pyarrow as pa
import ray

from scalar_ray.composition import build_warehouse
from scalar_ray.config.settings import Settings
from scalar_ray.core.window import Window
from scalar_ray.warehouse.base import WriteResult
from scalar_ray.warehouse.remote import WAREHOUSE_ACTOR, TableOnTheWire


@ray.remote(num_cpus=0, max_restarts=-1, max_concurrency=4)  # type: ignore[call-overload]  # Ray's stub lacks max_concurrency
class WarehouseActor:
    """Holds the warehouse adapter; every call is one adapter call."""

    def __init__(self, settings: Settings) -> None:
        self._warehouse = build_warehouse(settings)
        self._writes = 0
        self._rows = 0

    def write(self, observations: TableOnTheWire, batch_id: str | None = None) -> WriteResult:
        """Upsert a batch."""
        result = self._warehouse.write(observations.table, batch_id)
        self._writes += 1
        self._rows += result.rows
        return result

    def read(self, series_ids: Sequence[str], window: Window, as_of: datetime | None = None) -> pa.Table:
        """Point-in-time read."""
        return self._warehouse.read(series_ids, window, as_of)

    def read_known(
        self, series_ids: Sequence[str], window: Window, known_within: timedelta, earliest_if_unknown: bool = False
    ) -> pa.Table:
        """Values as known shortly after (or before) each interval: training frames."""
        return self._warehouse.read_known(series_ids, window, known_within, earliest_if_unknown)

    def read_vintages(self, series_ids: Sequence[str], window: Window, issued: Window | None = None) -> pa.Table:
        """Every vintage in the window: the read model's first values, revisions and instances."""
        return self._warehouse.read_vintages(series_ids, window, issued)

    def issues(self, series_ids: Sequence[str], issued: Window) -> pa.Table:
        """The issue times of each series."""
        return self._warehouse.issues(series_ids, issued)

    def catalogue(self) -> pa.Table:
        """Every series with what the warehouse holds of it."""
        return self._warehouse.catalogue()

    def stage(self, observations: TableOnTheWire, load_id: str, chunk_id: str) -> int:
        """Hold a bulk load's chunk until its merge."""
        return self._warehouse.stage(observations.table, load_id, chunk_id)

    def merge_staged(self, load_id: str) -> WriteResult:
        """Store a bulk load's staged chunks."""
        result = self._warehouse.merge_staged(load_id)
        self._writes += 1
        self._rows += result.rows
        return result

    def discard_staged(self, load_id: str) -> None:
        """Forget a bulk load given up."""
        self._warehouse.discard_staged(load_id)

    def write_forecasts(self, forecasts: TableOnTheWire, batch_id: str | None = None) -> WriteResult:
        """Upsert forecast rows."""
        result = self._warehouse.write_forecasts(forecasts.table, batch_id)
        self._writes += 1
        self._rows += result.rows
        return result

    def read_forecasts(self, family: str, zone: str, issued: Window) -> pa.Table:
        """Every issue of a model in an issue-time window."""
        return self._warehouse.read_forecasts(family, zone, issued)

    def latest_forecast(self, family: str, zone: str, as_of: datetime, lookback: timedelta) -> pa.Table:
        """The newest issue at or before ``as_of``."""
        return self._warehouse.latest_forecast(family, zone, as_of, lookback)

    def count(self) -> int:
        """Stored rows."""
        return self._warehouse.count()

    def series_metadata(self, series_id: str) -> dict[str, str] | None:
        """A series' metadata."""
        return self._warehouse.series_metadata(series_id)

    def query(self, sql: str) -> pa.Table:
        """A read-only SQL query (the demo's sample queries, operators' checks)."""
        return self._warehouse.query(sql)

    def compact(self, keep_after: datetime) -> int:
        """Retention: drop intervals before ``keep_after``."""
        return self._warehouse.compact(keep_after)

    def stats(self) -> dict[str, int]:
        """Writes and rows since this actor started, and its memory."""
        rss_mb = round(psutil.Process().memory_info().rss / 2**20)
        return {"writes": self._writes, "rows": self._rows, "rss_mb": rss_mb}

    def __repr__(self) -> str:
        return f"WarehouseActor({self._warehouse.name})"


def ensure_warehouse_actor(settings: Settings) -> ray.actor.ActorHandle[Any]:
    """The named, detached warehouse actor, started unless it runs."""
    handle: ray.actor.ActorHandle[Any] = WarehouseActor.options(  # type: ignore[attr-defined]
        name=WAREHOUSE_ACTOR, namespace=settings.ray.namespace, lifetime="detached", get_if_exists=True
    ).remote(settings)
    return handle
