"""The warehouse port and its adapters (DuckDB embedded; StarRocks arrives with the data spine)."""

from __future__ import annotations

from scalar_ray.warehouse.base import READ_SCHEMA, InMemoryWarehouse, Warehouse, WriteResult
from scalar_ray.warehouse.duckdb import DuckDBWarehouse

__all__ = ["READ_SCHEMA", "DuckDBWarehouse", "InMemoryWarehouse", "Warehouse", "WriteResult"]
