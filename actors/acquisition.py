"""Acquisition actors: one detached, named actor per provider, running its dataset schedules.

A thin shell over ``AcquisitionService``: the actor's constructor rebuilds the service from durable cursors and the
disk spool, so Ray's restart after a crash resumes where the provider's data ended.
"""

from __future__ import annotations

import logging
from datetime import datetime

import ray

from scalar_ray.broker.messaging import PulsarPublisher
from scalar_ray.composition import acquisition_service, pulsar_client, worker_warehouse
from scalar_ray.config.settings import Settings
from scalar_ray.operations import acquisition_actor_name
from scalar_ray.service_loop import ServiceLoop, report
from scalar_ray.status import ActorReport
from scalar_ray.telemetry.setup import configure


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=2)  # type: ignore[call-overload]  # Ray's stub lacks max_concurrency
class AcquisitionActor:
    """Runs one provider's schedules in a thread; ``status`` answers while a fetch is in flight."""

    def __init__(self, settings: Settings, provider: str) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        self._telemetry = configure(settings.telemetry, acquisition_actor_name(provider))
        self._provider = provider
        self._client = pulsar_client(settings)
        # The warehouse re-derives cursors lost with a node's disk (a restart elsewhere must not leave a hole).
        self._service = acquisition_service(
            settings, provider, PulsarPublisher(self._client), recover_from=worker_warehouse(settings)
        )
        self._loop = ServiceLoop(
            acquisition_actor_name(provider),
            lambda: self._service.run_due() > 0,
            idle_s=settings.acquisition.poll_interval_s,
        )

    def status(self) -> ActorReport:
        """Per task: next run, last success and error, throttling; the spool; the HTTP counters."""
        return report(self._service.snapshot(), self._loop, self._telemetry)

    def run_now(self, datasets: list[str] | None = None, since: datetime | None = None) -> list[str]:
        """Make the tasks of ``datasets`` (all when None) due now, reaching back to ``since``; the tasks made due."""
        return self._service.run_now(datasets, since)

    def stop(self) -> None:
        """Finish the current fetch and stop the loop."""
        self._loop.stop(timeout_s=60)

    def __repr__(self) -> str:
        return f"AcquisitionActor({self._provider}, {len(self._service.tasks)} tasks)"
