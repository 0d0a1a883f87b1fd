"""Acquisition actors: one detached, named actor per provider, running its dataset schedules.

A thin shell over ``AcquisitionService``: the actor's constructor rebuilds the service from durable cursors and the
disk spool, so Ray's restart after a crash resumes where the provider's data ended.
"""

from __future__ import annotations

import logging
import threading
import time

import ray

from scalar_ray.broker.messaging import PulsarPublisher
from scalar_ray.composition import acquisition_service, pulsar_client
from scalar_ray.config.settings import Settings

logger = logging.getLogger(__name__)


def acquisition_actor_name(provider: str) -> str:
    """``acquisition-entsoe``."""
    return f"acquisition-{provider}"


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=2)
class AcquisitionActor:
    """Runs one provider's schedules in a thread; ``status`` answers while a fetch is in flight."""

    def __init__(self, settings: Settings, provider: str) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        self._provider = provider
        self._client = pulsar_client(settings)
        self._service = acquisition_service(settings, provider, PulsarPublisher(self._client))
        self._poll_s = settings.acquisition.poll_interval_s
        self._started = time.time()
        self._loop_error = ""
        self._running = True
        self._thread = threading.Thread(target=self._loop, name=f"acquisition-{provider}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while self._running:
            try:
                ran = self._service.run_due()
            except Exception as exc:  # a task's failure is already handled; anything else is logged, not fatal
                logger.exception("acquisition round failed")
                self._loop_error = f"{type(exc).__name__}: {exc}"
                ran = 0
            if not ran:
                time.sleep(self._poll_s)

    def status(self) -> dict[str, object]:
        """Per task: next run, last success and error, throttling; the spool; the HTTP counters."""
        return {
            **self._service.snapshot(),
            "uptime_s": round(time.time() - self._started),
            "loop_error": self._loop_error,
        }

    def stop(self) -> None:
        """Finish the current fetch and stop the loop."""
        self._running = False
        self._thread.join(timeout=60)

    def __repr__(self) -> str:
        return f"AcquisitionActor({self._provider}, {len(self._service.tasks)} tasks)"
