"""The background loop of the platform's long-lived services (actors run them): a step in a thread until stopped.

A step that raises is logged and recorded, never fatal: the actor stays alive and visible in `scalar-ray status`
with the error, rather than ending in a restart loop; failing steps in a row back off (up to a minute).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psutil

from scalar_ray.core.backoff import Backoff
from scalar_ray.status import AcquisitionStatus, ActorReport, AutoscalerStatus, ForecastingStatus, IngestionStatus
from scalar_ray.telemetry.setup import Telemetry

logger = logging.getLogger(__name__)

_MAX_BACKOFF_S = 60.0


class ServiceLoop:
    """Calls ``step`` until ``stop``; when a step did no work (returned False) or failed, waits ``idle_s``."""

    def __init__(
        self, name: str, step: Callable[[], bool], idle_s: float, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.name = name
        self.last_error = ""
        self.failures_in_row = 0
        self.started = time.time()
        self._step = step
        self._idle_s = idle_s
        self._sleep = sleep
        self._backoff = Backoff(idle_s, max(idle_s, _MAX_BACKOFF_S))
        self._running = True
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._running:
            try:
                worked = self._step()
                self.failures_in_row = 0
            except Exception as exc:
                logger.exception("%s: step failed", self.name)
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.failures_in_row += 1
                worked = False
            if not worked:
                self._sleep(self._backoff.delay(self.failures_in_row) if self.failures_in_row else self._idle_s)

    def stop(self, timeout_s: float) -> None:
        """Let the current step finish and end the loop."""
        self._running = False
        self._thread.join(timeout=timeout_s)

    @property
    def uptime_s(self) -> int:
        """Seconds since the loop started."""
        return round(time.time() - self.started)


def report(
    detail: AcquisitionStatus | IngestionStatus | ForecastingStatus | AutoscalerStatus,
    loop: ServiceLoop,
    telemetry: Telemetry,
) -> ActorReport:
    """What an actor running ``loop`` says of itself: its service's status, its process, its metric points."""
    return ActorReport(
        detail=detail,
        uptime_s=loop.uptime_s,
        rss_mb=round(psutil.Process().memory_info().rss / 2**20),
        loop_error=loop.last_error,
        metrics=tuple(telemetry.points()),
    )
