"""Ingestion actors: N replicas on one KeyShared subscription over every acquisition topic.

A thin shell: it wires the library's ``IngestionWorker`` to a Pulsar consumer, the warehouse (the warehouse actor
for DuckDB, StarRocks directly), the Redis cache and the dead-letter producer, and runs ``step`` in a thread.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ray

from actors.placement import DETACHED
from scalar_ray.broker.admin import PulsarAdmin
from scalar_ray.broker.messaging import PulsarMessageSource, PulsarPublisher, SubscriptionOptions
from scalar_ray.broker.topics import INGESTION_SUBSCRIPTION, REVIEW_SUBSCRIPTION, dead_letter_topic
from scalar_ray.composition import (
    build_cache,
    change_feed,
    flush_policy,
    forecast_targets,
    ingested_topics,
    pulsar_client,
    worker_warehouse,
)
from scalar_ray.config.settings import Settings
from scalar_ray.ingestion.worker import IngestionWorker
from scalar_ray.operations import ingestion_actor_name
from scalar_ray.service_loop import ServiceLoop, report
from scalar_ray.status import ActorReport
from scalar_ray.telemetry.backlog import observe_backlog
from scalar_ray.telemetry.setup import configure


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=2)  # type: ignore[call-overload]  # Ray's stub lacks max_concurrency
class IngestionActor:
    """One replica; its loop runs until ``stop`` (or the actor dies, and Ray restarts it)."""

    def __init__(self, settings: Settings, replica: int) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        self._name = ingestion_actor_name(replica)
        self._telemetry = configure(settings.telemetry, self._name)
        tenant = settings.broker.tenant
        if replica == 0:  # the backlog is the subscription's: one replica reports it
            observe_backlog(
                lambda: PulsarAdmin(settings.broker.admin_url, settings.broker.auth_token),
                [(topic, INGESTION_SUBSCRIPTION) for topic in ingested_topics(settings)]
                + [(dead_letter_topic(tenant), REVIEW_SUBSCRIPTION)],
            )
        self._client = pulsar_client(settings)
        source = PulsarMessageSource(
            self._client,
            SubscriptionOptions(
                topics=tuple(ingested_topics(settings)),
                subscription=INGESTION_SUBSCRIPTION,
                consumer_name=self._name,
                receiver_queue_size=settings.ingestion.receiver_queue_size,
                max_redeliveries=settings.ingestion.max_redeliveries,
                dead_letter_topic=dead_letter_topic(tenant),
            ),
            max_messages=settings.ingestion.receiver_queue_size,
        )
        self._worker = IngestionWorker(
            source,
            worker_warehouse(settings),
            build_cache(settings),
            PulsarPublisher(self._client),
            dead_letter_topic(tenant),
            flush_policy(settings),
            retry_max_s=settings.ingestion.retry_max_s,
            forecast_targets=forecast_targets(),
            feed=change_feed(settings),
            # One thread: a full batch's write overlaps the next batch's receipt and validation.
            write_executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self._name}-write"),
        )
        self._loop = ServiceLoop(self._name, self._step, idle_s=1.0)

    def _step(self) -> bool:
        self._worker.step()  # waits on the broker itself; never idles on its own
        return True

    def status(self) -> ActorReport:
        """The replica's counters for `scalar-ray status`."""
        return report(self._worker.snapshot(), self._loop, self._telemetry)

    def freshness_samples(self) -> list[float]:
        """Publish → commit latencies in ms (for the benchmark)."""
        return [ms for _, ms in self._worker.stats.freshness]

    def stop(self) -> ActorReport:
        """Write what is pending and stop the loop (a planned shutdown)."""
        self._loop.stop(timeout_s=30)
        self._worker.drain()
        return self.status()

    def __repr__(self) -> str:
        return f"IngestionActor({self._name})"


def start_ingestion_replica(settings: Settings, replica: int) -> Any:
    """Start (or find) replica ``replica``: detached and named, so status, the dashboard and stopping find it."""
    name = ingestion_actor_name(replica)
    options = {**DETACHED, "name": name, "namespace": settings.ray.namespace}
    return IngestionActor.options(**options).remote(settings, replica)  # type: ignore[attr-defined]
