"""The Ray Serve application of the forecast API: a FastAPI ingress and a multiplexed model deployment.

Thin shells over ``scalar_ray.serving`` (``ray_serve`` has the model port, the deployments' options and the status):
``ForecastIngress`` answers HTTP with the library's app, stored forecasts read in the ingress itself so the cached
path never crosses to another replica; ``ModelServer`` predicts on demand, Serve's multiplexing routing each request
to a replica holding the version (``family/zone@version``, ``serve.models_per_replica`` of them, LRU).

``build_app(settings)`` is the typed builder for `scalar-ray serve`; ``app_builder`` is the entry point the Serve
config names (``import_path: serve.app:app_builder``), building the same app from the cluster's SCALAR_* settings.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle

from scalar_ray.composition import change_feed, model_catalogue, model_host, stored_forecasts, worker_warehouse
from scalar_ray.config import Settings, load_settings
from scalar_ray.marketdata import MarketData
from scalar_ray.serving.api import build_api
from scalar_ray.serving.errors import ApiError, ProblemReport
from scalar_ray.serving.forecasts import Forecast
from scalar_ray.serving.model_host import LoadedModel, PredictionRequest
from scalar_ray.serving.ray_serve import APP_NAME, AppArgs, ServeModelPort, ingress_options, model_server_options
from scalar_ray.serving.service import ForecastBackend
from scalar_ray.telemetry.setup import configure

__all__ = ["APP_NAME", "ForecastIngress", "ModelServer", "app_builder", "build_app", "deploy"]


@serve.deployment(name="ModelServer", max_ongoing_requests=4, graceful_shutdown_timeout_s=30)
class ModelServer:
    """Loads registry versions on demand (multiplexed, LRU) and forecasts with them."""

    def __init__(self, settings: Settings) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        configure(settings.telemetry, "serve-model-server")
        self._host = host = model_host(settings, worker_warehouse(settings))

        async def load(key: str) -> LoadedModel:  # reading and unpickling take seconds: off the event loop
            return await asyncio.to_thread(host.load, key)

        self._model = serve.multiplexed(max_num_models_per_replica=settings.serve.models_per_replica)(load)

    async def predict(self, request: PredictionRequest) -> Forecast | ProblemReport:
        """The forecast, or the problem as a value (exceptions would reach the ingress as a bare 500)."""
        try:
            model = await self._model(serve.get_multiplexed_model_id())
            return await asyncio.to_thread(self._host.predict, model, request)
        except ApiError as exc:
            return exc.report()

    async def warm(self) -> ProblemReport | None:
        """Load the request's version now (hot reload loads a new champion before the API switches to it)."""
        try:
            await self._model(serve.get_multiplexed_model_id())
        except ApiError as exc:
            return exc.report()
        return None


@serve.deployment(name="ForecastIngress", max_ongoing_requests=128, graceful_shutdown_timeout_s=20)
@serve.ingress()
class ForecastIngress:
    """The HTTP API: stored forecasts from Redis and the warehouse; on-demand predictions via ``ModelServer``."""

    def __init__(self, settings: Settings, models: DeploymentHandle[Any]) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        configure(settings.telemetry, "serve-ingress")
        self._serving = settings.serve
        warehouse = worker_warehouse(settings)
        stored = stored_forecasts(settings, warehouse)
        self._backend = ForecastBackend(model_catalogue(settings), stored, ServeModelPort(models))
        self._market = MarketData(warehouse)
        self._feed = change_feed(settings)

    def __serve_build_asgi_app__(self) -> FastAPI:
        serving = self._serving
        return build_api(
            self._backend,
            serving.api_keys,
            champion_poll_s=serving.champion_poll_s,
            predict_timeout_s=serving.predict_timeout_s,
            market=self._market,
            feed=self._feed,
        )


def build_app(settings: Settings) -> Application:
    """The application with the autoscaling and resources ``settings.serve`` gives."""
    # @serve.deployment makes each class a Deployment, which mypy does not see.
    models = ModelServer.options(**model_server_options(settings.serve)).bind(settings)  # type: ignore[attr-defined]
    app: Application = ForecastIngress.options(**ingress_options(settings.serve)).bind(settings, models)  # type: ignore[attr-defined]
    return app


# Where the Serve config's proxies listen: every interface, so the cluster's Kubernetes service reaches them.
CLUSTER_HOST = "0.0.0.0"  # noqa: S104


def app_builder(args: dict[str, Any]) -> Application:
    """The Serve config's entry point: the settings of the replicas' environment, then ``args.settings``.

    ``args`` is validated here rather than through the annotation: Serve only validates a pydantic class it finds in
    the signature, and this module's annotations are postponed strings.
    """
    # The config's proxies listen on every interface (CLUSTER_HOST), so the replicas' settings say so too: the
    # settings' own guard then refuses an environment without API keys instead of serving an open API.
    settings = {**os.environ, **AppArgs.model_validate(args).settings, "SCALAR_SERVE__HOST": CLUSTER_HOST}
    return build_app(load_settings(settings))


def deploy(settings: Settings) -> str:
    """Deploy (or update, one replica at a time) the application on the connected cluster; its URL once ready."""
    serve.start(http_options={"host": settings.serve.host, "port": settings.serve.port})
    serve.run(build_app(settings), name=APP_NAME, route_prefix="/", blocking=False)
    return f"http://{settings.serve.host}:{settings.serve.port}"
