"""The warehouse port, its in-memory fake and its adapters: DuckDB (embedded default) and StarRocks (Stream Load)."""

from __future__ import annotations

from scalar_ray.warehouse.base import READ_SCHEMA, InMemoryWarehouse, Warehouse, WriteResult
from scalar_ray.warehouse.duckdb import DuckDBWarehouse

__all__ = ["READ_SCHEMA", "DuckDBWarehouse", "InMemoryWarehouse", "Warehouse", "WriteResult"]
