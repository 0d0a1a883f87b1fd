"""The forecasting actor: issues each family's forecasts on its schedule with the champion models.

A thin shell over ``ForecastService``: forecasts go to ``persistent://<tenant>/insights/forecasts``, where ingestion
stores them as vintages in the warehouse and the newest values in Redis. A champion promoted by a training job is
picked up at the next run (the registry pointer is read every time; a predictor is loaded once per version).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import ray

from scalar_ray.broker.messaging import PulsarPublisher
from scalar_ray.composition import forecast_service, pulsar_client, worker_warehouse
from scalar_ray.config.settings import Settings
from scalar_ray.operations import FORECASTING_ACTOR
from scalar_ray.service_loop import ServiceLoop, report
from scalar_ray.status import ActorReport
from scalar_ray.telemetry.setup import configure


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=2)  # type: ignore[call-overload]  # Ray's stub lacks max_concurrency
class ForecastingActor:
    """Runs the schedules in a thread; ``status`` answers while a forecast is being made."""

    def __init__(self, settings: Settings) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        self._telemetry = configure(settings.telemetry, FORECASTING_ACTOR)
        self._client = pulsar_client(settings)
        self._service = forecast_service(settings, worker_warehouse(settings), PulsarPublisher(self._client))
        self._loop = ServiceLoop(
            FORECASTING_ACTOR,
            lambda: bool(self._service.run_due(datetime.now(UTC))),
            idle_s=settings.forecasting.poll_interval_s,
        )

    def status(self) -> ActorReport:
        """Per model: champion version, last issue time, rows, failures and the last error; next run per family."""
        return report(self._service.snapshot(), self._loop, self._telemetry)

    def stop(self) -> None:
        """Finish the current forecast and stop the loop."""
        self._loop.stop(timeout_s=120)

    def __repr__(self) -> str:
        return f"ForecastingActor({len(self._service.models())} models)"
