"""The embedded local stack that `scalar-ray local up` and the integration tests run."""

from __future__ import annotations

from scalar_ray.local.duckdb_file import DuckDBFile
from scalar_ray.local.pulsar import PulsarStandalone
from scalar_ray.local.ray_head import RayHead
from scalar_ray.local.redis import RedisServer
from scalar_ray.local.service import LocalService, ServiceState, ServiceStatus
from scalar_ray.local.simulator import ProviderSimulator
from scalar_ray.local.stack import LocalStack

__all__ = [
    "DuckDBFile",
    "LocalService",
    "LocalStack",
    "ProviderSimulator",
    "PulsarStandalone",
    "RayHead",
    "RedisServer",
    "ServiceState",
    "ServiceStatus",
]
