"""Ingestion actors: N replicas on one KeyShared subscription over every acquisition topic.

A thin shell: it wires the library's ``IngestionWorker`` to a Pulsar consumer, the warehouse (the warehouse actor
for DuckDB, StarRocks directly), the Redis cache and the dead-letter producer, and runs ``step`` in a thread.
"""

from __future__ import annotations

import logging
import threading
import time

import psutil
import ray

from actors.warehouse import RemoteWarehouse
from scalar_ray.broker.messaging import PulsarMessageSource, PulsarPublisher, SubscriptionOptions
from scalar_ray.broker.topics import INGESTION_SUBSCRIPTION, acquisition_topic, dead_letter_topic
from scalar_ray.composition import build_cache, build_warehouse, flush_policy, pulsar_client
from scalar_ray.config.settings import Settings
from scalar_ray.errors import ScalarError
from scalar_ray.ingestion.worker import IngestionWorker
from scalar_ray.warehouse.base import Warehouse

logger = logging.getLogger(__name__)


def ingestion_actor_name(replica: int) -> str:
    """``ingestion-0``."""
    return f"ingestion-{replica}"


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=2)
class IngestionActor:
    """One replica; its loop runs until ``stop`` (or the actor dies, and Ray restarts it)."""

    def __init__(self, settings: Settings, replica: int) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        self._name = ingestion_actor_name(replica)
        tenant = settings.broker.tenant
        self._client = pulsar_client(settings)
        source = PulsarMessageSource(
            self._client,
            SubscriptionOptions(
                topics=tuple(acquisition_topic(tenant, name) for name, _ in settings.providers),
                subscription=INGESTION_SUBSCRIPTION,
                consumer_name=self._name,
                receiver_queue_size=settings.ingestion.receiver_queue_size,
                max_redeliveries=settings.ingestion.max_redeliveries,
                dead_letter_topic=dead_letter_topic(tenant),
            ),
            max_messages=settings.ingestion.receiver_queue_size,
        )
        warehouse: Warehouse = (
            RemoteWarehouse(settings.ray.namespace)
            if settings.warehouse.kind == "duckdb"
            else build_warehouse(settings)
        )
        self._worker = IngestionWorker(
            source,
            warehouse,
            build_cache(settings),
            PulsarPublisher(self._client),
            dead_letter_topic(tenant),
            flush_policy(settings),
            max_messages=settings.ingestion.receiver_queue_size,
            retry_max_s=settings.ingestion.retry_max_s,
        )
        self._started = time.time()
        self._running = True
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while self._running:
            try:
                self._worker.step()
            except ScalarError as exc:  # a bug-free step never raises; keep the replica alive and visible
                logger.exception("ingestion step failed: %s", exc)
                self._worker.stats.last_error = str(exc)
                time.sleep(1.0)

    def status(self) -> dict[str, object]:
        """The replica's counters for `scalar-ray status`."""
        return {
            "name": self._name,
            "uptime_s": round(time.time() - self._started),
            "rss_mb": round(psutil.Process().memory_info().rss / 2**20),
            **self._worker.snapshot(),
        }

    def freshness_samples(self) -> list[float]:
        """Publish → commit latencies in ms (for the benchmark)."""
        return list(self._worker.stats.freshness_ms)

    def stop(self) -> dict[str, object]:
        """Write what is pending and stop the loop (a planned shutdown)."""
        self._running = False
        self._thread.join(timeout=30)
        self._worker.drain()
        return self.status()

    def __repr__(self) -> str:
        return f"IngestionActor({self._name})"
