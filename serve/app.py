"""The Ray Serve application of the forecast API: a FastAPI ingress and a multiplexed model deployment.

Thin shells over ``scalar_ray.serving``:

- ``ForecastIngress`` answers HTTP with the library's FastAPI app (``build_api``). Stored forecasts come from Redis
  and the warehouse in the ingress itself, so the cached path never crosses to another replica.
- ``ModelServer`` serves on-demand predictions. Serve's model multiplexing routes each request to a replica that
  already holds the version (key ``family/zone@version``); a replica keeps ``serve.models_per_replica`` of them and
  evicts the least recently used.

``build_app(settings)`` is the typed builder for `scalar-ray serve`; ``app_builder`` is the entry point the Serve
config names (``import_path: serve.app:app_builder``, what `serve deploy` and a KubeRay RayService run), building the
same application from the SCALAR_* settings of the cluster's environment.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field, field_validator
from ray import serve
from ray.serve import Application
from ray.serve.exceptions import RayServeException
from ray.serve.handle import DeploymentHandle

from scalar_ray.composition import model_catalogue, model_host, stored_forecasts, worker_warehouse
from scalar_ray.config import Settings, load_settings
from scalar_ray.serving.api import build_api
from scalar_ray.serving.errors import ApiError, ProblemReport
from scalar_ray.serving.forecasts import Forecast
from scalar_ray.serving.model_catalogue import model_key
from scalar_ray.serving.model_host import LoadedModel, PredictionRequest
from scalar_ray.serving.service import ForecastBackend
from scalar_ray.status import ApiStatus, DeploymentStatus
from scalar_ray.telemetry.setup import configure

__all__ = [
    "APP_NAME",
    "AppArgs",
    "ForecastIngress",
    "ModelServer",
    "api_status",
    "app_builder",
    "build_app",
    "deploy",
]

APP_NAME = "forecasts"


@serve.deployment(name="ModelServer", max_ongoing_requests=4, graceful_shutdown_timeout_s=30)
class ModelServer:
    """Loads registry versions on demand (multiplexed, LRU) and forecasts with them."""

    def __init__(self, settings: Settings) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        configure(settings.telemetry, "serve-model-server")
        host = model_host(settings, worker_warehouse(settings))
        self._host = host

        async def load(key: str) -> LoadedModel:
            # Loading reads files and unpickles models for seconds: off the replica's event loop.
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


class ServeModelPort:
    """The backend's ``ModelPort`` over the model deployment's handle."""

    def __init__(self, handle: DeploymentHandle[Any]) -> None:
        self._handle = handle

    async def predict(self, request: PredictionRequest) -> Forecast:
        """Route by model key to a replica holding the version."""
        key = model_key(request.family, request.zone, request.version)
        result = await self._handle.options(multiplexed_model_id=key).predict.remote(request)
        if isinstance(result, ProblemReport):
            raise ApiError.from_report(result)
        forecast: Forecast = result
        return forecast

    async def warm(self, key: str) -> None:
        """Have a replica load the version."""
        problem = await self._handle.options(multiplexed_model_id=key).warm.remote()
        if problem is not None:
            raise ApiError.from_report(problem)


@serve.deployment(name="ForecastIngress", max_ongoing_requests=128, graceful_shutdown_timeout_s=20)
@serve.ingress()
class ForecastIngress:
    """The HTTP API: stored forecasts from Redis and the warehouse; on-demand predictions via ``ModelServer``."""

    def __init__(self, settings: Settings, models: DeploymentHandle[Any]) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        configure(settings.telemetry, "serve-ingress")
        self._settings = settings
        warehouse = worker_warehouse(settings)
        self._backend = ForecastBackend(
            model_catalogue(settings), stored_forecasts(settings, warehouse), ServeModelPort(models)
        )

    def __serve_build_asgi_app__(self) -> FastAPI:
        serving = self._settings.serve
        return build_api(
            self._backend,
            serving.api_keys,
            champion_poll_s=serving.champion_poll_s,
            predict_timeout_s=serving.predict_timeout_s,
        )


def build_app(settings: Settings) -> Application:
    """The application with the autoscaling and resources ``settings.serve`` gives."""
    serving = settings.serve
    models = ModelServer.options(  # type: ignore[attr-defined]  # @serve.deployment makes the class a Deployment
        autoscaling_config={
            "min_replicas": serving.model_min_replicas,
            "max_replicas": serving.model_max_replicas,
            "target_ongoing_requests": 2,
            "upscale_delay_s": 15,
            "downscale_delay_s": 600,
        },
        ray_actor_options={"num_cpus": serving.model_cpus},
    ).bind(settings)
    app: Application = ForecastIngress.options(  # type: ignore[attr-defined]
        autoscaling_config={
            # min ≥ 1 always: scale-to-zero would put a replica start (seconds) on the latency path.
            "min_replicas": serving.ingress_min_replicas,
            "max_replicas": serving.ingress_max_replicas,
            "target_ongoing_requests": 32,
            "upscale_delay_s": 10,
            "downscale_delay_s": 600,
        },
        ray_actor_options={"num_cpus": serving.ingress_cpus},
    ).bind(settings, models)
    return app


class AppArgs(BaseModel):
    """The ``args`` of the Serve config's application: settings on top of the cluster's SCALAR_* environment."""

    settings: dict[str, str] = Field(default_factory=dict, description="SCALAR_* variables and their values.")

    @field_validator("settings")
    @classmethod
    def _only_scalar_variables(cls, value: dict[str, str]) -> dict[str, str]:
        foreign = [name for name in value if not name.upper().startswith("SCALAR_")]
        if foreign:
            raise ValueError(f"{foreign} are not scalar-ray settings (SCALAR_* variables)")
        return value


def app_builder(args: dict[str, Any]) -> Application:
    """The Serve config's entry point: the settings of the replicas' environment, then ``args.settings``.

    ``args`` is validated here rather than through the annotation: Serve only validates a pydantic class it finds in
    the signature, and this module's annotations are postponed strings.
    """
    environment: dict[str, Any] = {**os.environ, **AppArgs.model_validate(args).settings}
    return build_app(load_settings(environment))


def deploy(settings: Settings) -> str:
    """Deploy (or update) the application on the connected cluster and return its URL once it is ready.

    Serve's HTTP proxy listens on ``serve.host:serve.port``. Redeploying updates the replicas in place, one at a time.
    """
    serving = settings.serve
    serve.start(http_options={"host": serving.host, "port": serving.port})
    serve.run(build_app(settings), name=APP_NAME, route_prefix="/", blocking=False)
    return f"http://{serving.host}:{serving.port}"


def api_status() -> ApiStatus:
    """The application's state and its deployments' replicas, for `scalar-ray status` (Serve not started: absent)."""
    try:
        status = serve.status()
    except RayServeException:
        return ApiStatus("NOT_DEPLOYED")
    application = status.applications.get(APP_NAME)
    if application is None:
        return ApiStatus("NOT_DEPLOYED")
    return ApiStatus(
        _name(application.status),
        {
            name: DeploymentStatus(
                _name(deployment.status),
                {_name(state): count for state, count in deployment.replica_states.items()},
            )
            for name, deployment in application.deployments.items()
        },
    )


def _name(value: Any) -> str:
    """An enum member's value (``RUNNING``), whatever Serve's enum's ``str`` gives."""
    return str(getattr(value, "value", value))
