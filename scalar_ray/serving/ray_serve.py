"""The library side of the Ray Serve application.

The model port over a deployment handle, the deployments' options, the Serve config's arguments, and the
application's status.
``serve/app.py`` keeps only the deployments and the builders Serve calls; what they are made of lives here, typed
and tested like the rest of the library.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator
from ray import serve
from ray.serve.exceptions import RayServeException
from ray.serve.handle import DeploymentHandle

from scalar_ray.config.settings import ServeSettings
from scalar_ray.serving.errors import ApiError, ProblemReport
from scalar_ray.serving.forecasts import Forecast
from scalar_ray.serving.model_catalogue import model_key
from scalar_ray.serving.model_host import PredictionRequest
from scalar_ray.status import ApiStatus, DeploymentStatus

__all__ = ["APP_NAME", "AppArgs", "ServeModelPort", "api_status", "ingress_options", "model_server_options"]

APP_NAME = "forecasts"


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


def model_server_options(serving: ServeSettings) -> dict[str, Any]:
    """Autoscaling and resources of the model deployment: slow to scale down, since a replica loads models."""
    return _options(serving.model_min_replicas, serving.model_max_replicas, 2, 15, serving.model_cpus)


def ingress_options(serving: ServeSettings) -> dict[str, Any]:
    """Autoscaling and resources of the HTTP ingress."""
    # min ≥ 1 always (the settings refuse 0): scale-to-zero would put a replica start (seconds) on the latency path.
    return _options(serving.ingress_min_replicas, serving.ingress_max_replicas, 32, 10, serving.ingress_cpus)


def _options(low: int, high: int, ongoing: int, upscale_s: int, cpus: float) -> dict[str, Any]:
    return {
        "autoscaling_config": {
            "min_replicas": low,
            "max_replicas": high,
            "target_ongoing_requests": ongoing,
            "upscale_delay_s": upscale_s,
            "downscale_delay_s": 600,
        },
        "ray_actor_options": {"num_cpus": cpus},
    }


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
