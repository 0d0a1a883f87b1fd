"""What the forecast API does, behind its HTTP routes: stored forecasts, on-demand predictions, the model list.

``ForecastBackend`` holds no HTTP and no Ray: the Serve ingress gives it a ``ModelPort`` that reaches the model
deployment, the unit tests a fake. Blocking reads (Redis, the warehouse, the registry) run in worker threads so the
event loop keeps answering.

Hot reload: on-demand requests go to the version the backend *serves* for each model, not straight to the registry's
champion pointer. ``refresh_champions`` (every ``champion_poll_s``) notices a new champion, has the model deployment
load it (``warm``), and only then switches: requests keep flowing to the old version while the new one loads, and a
new version that fails to load never replaces one that works.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from scalar_ray.serving.errors import ApiError, ForecastNotFoundError
from scalar_ray.serving.forecasts import Forecast, StoredForecasts, horizon_steps
from scalar_ray.serving.model_catalogue import ModelCatalogue, model_key
from scalar_ray.serving.model_host import PredictionRequest

__all__ = ["ForecastBackend", "ModelPort"]

logger = logging.getLogger(__name__)


class ModelPort(Protocol):
    """The model deployment as the API sees it (errors are ``ApiError``)."""

    async def predict(self, request: PredictionRequest) -> Forecast:
        """Forecast with the request's version."""
        ...

    async def warm(self, key: str) -> None:
        """Load a version ahead of its first request."""
        ...


@dataclass
class ForecastBackend:
    """Stored forecasts, on-demand predictions and the model list, with champion hot reload."""

    catalogue: ModelCatalogue
    stored: StoredForecasts
    models: ModelPort
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _serving: dict[tuple[str, str], str] = field(default_factory=dict)
    reload_errors: dict[str, str] = field(default_factory=dict)

    async def latest(self, family: str, zone: str, horizon: timedelta | None) -> Forecast:
        """The newest stored issue (Redis, else the warehouse), cut to ``horizon``."""
        spec = self.catalogue.spec(family, zone)
        steps = horizon_steps(spec, horizon)
        forecast = await asyncio.to_thread(self.stored.latest, spec, zone, self.clock())
        return forecast.head(steps)

    async def as_of(self, family: str, zone: str, moment: datetime, horizon: timedelta | None) -> Forecast:
        """The issue in force at ``moment`` (the newest issued at or before it), from the warehouse."""
        spec = self.catalogue.spec(family, zone)
        steps = horizon_steps(spec, horizon)
        forecast = await asyncio.to_thread(self.stored.as_of, spec, zone, moment)
        return forecast.head(steps)

    async def predict(
        self,
        family: str,
        zone: str,
        version: str | None,
        issue_time: datetime | None,
        horizon: timedelta | None,
    ) -> Forecast:
        """Forecast now (or from the data known at ``issue_time``) with the champion or a named version."""
        spec = self.catalogue.spec(family, zone)
        steps = horizon_steps(spec, horizon)
        if version is None:
            version = await self.serving_version(family, zone)
            if version is None:
                raise ForecastNotFoundError(family, zone, "no champion model yet (run `scalar-ray train`)")
        else:
            await asyncio.to_thread(self.catalogue.entry, family, zone, version)  # UnknownVersionError if absent
        moment = issue_time or self.clock()
        return await self.models.predict(PredictionRequest(family, zone, version, moment, steps))

    async def serving_version(self, family: str, zone: str) -> str | None:
        """The version on-demand requests use: the champion when first asked, then what ``refresh`` switched to."""
        served = self._serving.get((family, zone))
        if served is None:
            served = await asyncio.to_thread(self.catalogue.champion_version, family, zone)
            if served is not None:
                self._serving[(family, zone)] = served
        return served

    async def refresh_champions(self) -> list[str]:
        """Switch every model in use whose champion changed, once the new version is loaded; the switched keys."""
        switched = []
        for (family, zone), served in list(self._serving.items()):
            try:
                champion = await asyncio.to_thread(self.catalogue.champion_version, family, zone)
            except OSError as exc:
                self.reload_errors[f"{family}/{zone}"] = f"registry unreachable: {exc}"
                continue
            if champion is None or champion == served:
                continue
            key = model_key(family, zone, champion)
            try:
                await self.models.warm(key)
            except ApiError as exc:
                self.reload_errors[f"{family}/{zone}"] = str(exc)
                logger.error("new champion %s not served, %s stays: %s", key, served, exc)
                continue
            self._serving[(family, zone)] = champion
            self.reload_errors.pop(f"{family}/{zone}", None)
            logger.info("serving new champion %s (was %s)", key, served)
            switched.append(key)
        return switched

    async def model_list(self) -> list[dict[str, Any]]:
        """Every configured model with its champion and backtest metrics."""

        def collect() -> list[dict[str, Any]]:
            return [
                self.catalogue.summary(*model.split("/", 1)) | {"serving_version": self._serving.get(_pair(model))}
                for model in self.catalogue.model_ids()
            ]

        return await asyncio.to_thread(collect)

    async def model_detail(self, family: str, zone: str) -> dict[str, Any]:
        """One model with every version."""
        summary = await asyncio.to_thread(self.catalogue.summary, family, zone, with_versions=True)
        return summary | {"serving_version": self._serving.get((family, zone))}

    async def readiness(self) -> dict[str, Any]:
        """Whether the API can answer: the registry must be readable and the warehouse or the cache reachable."""

        def check() -> dict[str, Any]:
            components: dict[str, str] = {}
            try:
                self.catalogue.registry.models()
                components["registry"] = "ok"
            except OSError as exc:
                components["registry"] = f"unreachable: {type(exc).__name__}"
            try:
                self.stored.warehouse.series_metadata("readiness/probe")
                components["warehouse"] = "ok"
            except Exception as exc:
                components["warehouse"] = f"unreachable: {type(exc).__name__}"
            cache = self.stored.cache
            components["cache"] = "disabled"
            if cache is not None:
                cache.recent_many(["readiness/probe"], 1)  # the guard records a failure instead of raising
                stats = getattr(cache, "stats", None)
                healthy = getattr(cache, "enabled", True)
                if not healthy:  # the cause goes to the log; a public probe names no internals
                    logger.warning("readiness: cache unreachable: %s", stats.last_error if stats else "")
                components["cache"] = "ok" if healthy else "unreachable"
            return components

        components = await asyncio.to_thread(check)
        ready = components["registry"] == "ok" and components["warehouse"] == "ok"
        return {"ready": ready, "components": components, "reload_errors": dict(self.reload_errors)}


def _pair(model: str) -> tuple[str, str]:
    family, zone = model.split("/", 1)
    return family, zone
