"""The warehouse actor: the single owner of the embedded DuckDB file, which only one process may write.

Ingestion replicas and operators reach it through ``RemoteWarehouse``, which speaks the ``Warehouse`` port, so the
ingestion loop cannot tell it from a direct adapter; StarRocks needs no such actor (each replica loads directly).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import psutil
import pyarrow as pa
import ray
from ray.exceptions import GetTimeoutError, RayActorError
from typing_extensions import override

from scalar_ray.composition import build_warehouse
from scalar_ray.config.settings import Settings
from scalar_ray.core.errors import WarehouseError
from scalar_ray.core.window import Window
from scalar_ray.warehouse.base import Warehouse, WriteResult
from scalar_ray.warehouse.instrumented import InstrumentedWarehouse

WAREHOUSE_ACTOR = "warehouse"


@ray.remote(num_cpus=0, max_restarts=-1, max_concurrency=4)
class WarehouseActor:
    """Holds the warehouse adapter; every call is one adapter call."""

    def __init__(self, settings: Settings) -> None:
        self._warehouse = build_warehouse(settings)
        self._writes = 0
        self._rows = 0

    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        """Upsert a batch."""
        result = self._warehouse.write(observations, batch_id)
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


def ensure_warehouse_actor(settings: Settings) -> ray.actor.ActorHandle:
    """The named, detached warehouse actor, started unless it runs."""
    return WarehouseActor.options(  # type: ignore[attr-defined]
        name=WAREHOUSE_ACTOR, namespace=settings.ray.namespace, lifetime="detached", get_if_exists=True
    ).remote(settings)


class RemoteWarehouse(Warehouse):
    """The ``Warehouse`` port over the warehouse actor; a dead or missing actor is a ``WarehouseError``."""

    name = "duckdb (warehouse actor)"

    def __init__(self, namespace: str, timeout_s: float = 120.0) -> None:
        self._namespace = namespace
        self._timeout_s = timeout_s
        self._handle: ray.actor.ActorHandle | None = None

    def _call(self, operation: str, method: str, *args: object) -> object:
        # Two attempts: a handle to an actor that was replaced under the same name fails once, then is looked up.
        for attempt in (1, 2):
            try:
                if self._handle is None:
                    self._handle = ray.get_actor(WAREHOUSE_ACTOR, namespace=self._namespace)
                return ray.get(getattr(self._handle, method).remote(*args), timeout=self._timeout_s)
            except ValueError as exc:  # get_actor: no such actor
                raise WarehouseError(self.name, operation, "the warehouse actor is not running") from exc
            except (RayActorError, GetTimeoutError) as exc:
                self._handle = None
                if attempt == 2 or isinstance(exc, GetTimeoutError):  # noqa: PLR2004 - the last of two attempts
                    raise WarehouseError(self.name, operation, f"the warehouse actor is unavailable: {exc}") from exc
        raise AssertionError("unreachable")

    @override
    def write(self, observations: pa.Table, batch_id: str | None = None) -> WriteResult:
        result = self._call("write", "write", observations, batch_id)
        assert isinstance(result, WriteResult)  # noqa: S101 - the actor's declared return type
        return result

    @override
    def read(self, series_ids: Sequence[str], window: Window, as_of: datetime | None = None) -> pa.Table:
        table = self._call("query", "read", list(series_ids), window, as_of)
        assert isinstance(table, pa.Table)  # noqa: S101
        return table

    @override
    def read_known(
        self, series_ids: Sequence[str], window: Window, known_within: timedelta, earliest_if_unknown: bool = False
    ) -> pa.Table:
        table = self._call("query", "read_known", list(series_ids), window, known_within, earliest_if_unknown)
        assert isinstance(table, pa.Table)  # noqa: S101
        return table

    @override
    def count(self) -> int:
        return int(self._call("query", "count"))  # type: ignore[call-overload]

    @override
    def series_metadata(self, series_id: str) -> dict[str, str] | None:
        return self._call("query", "series_metadata", series_id)  # type: ignore[return-value]

    @override
    def compact(self, keep_after: datetime) -> int:
        return int(self._call("compact", "compact", keep_after))  # type: ignore[call-overload]

    @override
    def query(self, sql: str) -> pa.Table:
        table = self._call("query", "query", sql)
        assert isinstance(table, pa.Table)  # noqa: S101
        return table


def warehouse_for_workers(settings: Settings) -> Warehouse:
    """The warehouse as any Ray worker should write to it: DuckDB through its owning actor, StarRocks directly.

    Measured where it is called (``db.client.operation.duration``, CLIENT spans): that is the time a worker waits.
    """
    duckdb = settings.warehouse.kind == "duckdb"
    inner = RemoteWarehouse(settings.ray.namespace) if duckdb else build_warehouse(settings)
    return InstrumentedWarehouse(inner, settings.warehouse.kind)
