"""The embedded one-machine stack: Redis, Apache Pulsar, a Ray head, the provider simulator and the DuckDB file."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from scalar_ray.broker.admin import PulsarAdmin
from scalar_ray.broker.topology import ensure_platform_namespaces
from scalar_ray.config.settings import Settings
from scalar_ray.local.duckdb_file import DuckDBFile
from scalar_ray.local.pulsar import PulsarStandalone
from scalar_ray.local.ray_head import RayHead
from scalar_ray.local.redis import RedisServer
from scalar_ray.local.service import LocalService, ServiceStatus
from scalar_ray.local.simulator import ProviderSimulator

__all__ = ["LocalStack"]

_logger = logging.getLogger(__name__)


class LocalStack:
    """Start, stop and probe the local services together; every operation is idempotent."""

    def __init__(self, settings: Settings, services: Sequence[LocalService] | None = None) -> None:
        self.settings = settings
        self.services: Sequence[LocalService] = services or (
            RedisServer(settings),
            PulsarStandalone(settings),
            RayHead(settings),
            ProviderSimulator(settings),
            DuckDBFile(settings),
        )

    def up(self) -> list[ServiceStatus]:
        """Start what is not running and wait until everything answers.

        All preflight checks run before anything is launched, so a taken port leaves nothing half-started.
        Services boot in parallel (Pulsar's JVM is the slow one), then are awaited in order.
        """
        for service in self.services:
            service.preflight()
        launched = [service.name for service in self.services if service.start()]
        for service in self.services:
            service.wait_ready()
        if any(isinstance(service, PulsarStandalone) for service in self.services):
            broker = self.settings.broker
            with PulsarAdmin(broker.admin_url, broker.auth_token) as admin:
                ensure_platform_namespaces(
                    admin, broker.tenant, broker.retention_minutes, broker.retention_size_mb, broker.partitions
                )
        _logger.info("local stack up; launched: %s", ", ".join(launched) or "nothing (all were running)")
        return self.status()

    def down(self) -> list[str]:
        """Stop every running service; return the names of those stopped.

        The services do not depend on each other at shutdown, and each takes seconds to flush (the Ray head
        tens of seconds), so they stop in parallel.
        """
        with ThreadPoolExecutor(max_workers=len(self.services)) as pool:
            stopped = list(pool.map(lambda service: service.stop(), self.services))
        return [service.name for service, was_running in zip(self.services, stopped, strict=True) if was_running]

    def status(self) -> list[ServiceStatus]:
        """Probe every service now."""
        return [service.status() for service in self.services]
