"""The supervisor: start and stop the platform's actors from the configuration.

``start_platform`` is idempotent: it creates the topics' subscriptions first (so nothing published is dropped before
ingestion joins), then the warehouse actor (DuckDB), the ingestion replicas (and their autoscaler when
``ingestion.max_replicas`` allows more) and one acquisition actor per enabled provider, all detached and named, so
`scalar-ray status` and the Ray dashboard find them after the driver exits.
Names, topics, the stop order and the status are the library's (``scalar_ray.operations``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from actors.acquisition import AcquisitionActor
from actors.autoscaler import AutoscalerActor
from actors.forecasting import ForecastingActor
from actors.ingestion import start_ingestion_replica
from actors.placement import DETACHED
from actors.warehouse import ensure_warehouse_actor
from scalar_ray.composition import enabled_providers
from scalar_ray.config.settings import Settings
from scalar_ray.forecasting.training import thread_caps
from scalar_ray.operations import (
    AUTOSCALER_ACTOR,
    FORECASTING_ACTOR,
    WAREHOUSE_ACTOR,
    acquisition_actor_name,
    ingestion_actor_name,
    prepare_topics,
    stop_order,
)


@dataclass
class PlatformActors:
    """Handles of the running actors by name."""

    acquisition: dict[str, Any] = field(default_factory=dict)
    ingestion: dict[str, Any] = field(default_factory=dict)
    warehouse: Any = None
    forecasting: Any = None
    autoscaler: Any = None


def start_platform(
    settings: Settings, *, acquisition: bool = True, ingestion: bool = True, forecasting: bool | None = None
) -> PlatformActors:
    """Start (or find) every actor the configuration asks for."""
    # Actors run with the head's working directory: hand them the data directory as an absolute path.
    settings = settings.model_copy(update={"local": settings.local.model_copy(update={"data_dir": settings.data_dir})})
    prepare_topics(settings)
    actors = PlatformActors()
    # Spread over the nodes: a lost node takes a share of the actors, which Ray restarts on the others.
    named = {**DETACHED, "namespace": settings.ray.namespace}
    if settings.warehouse.kind == "duckdb":
        actors.warehouse = ensure_warehouse_actor(settings)
        ray.get(actors.warehouse.count.remote())  # the file is open before replicas write to it
    for replica in range(settings.ingestion.replicas if ingestion else 0):
        actors.ingestion[ingestion_actor_name(replica)] = start_ingestion_replica(settings, replica)
    if ingestion and settings.ingestion.autoscaled:
        actors.autoscaler = AutoscalerActor.options(name=AUTOSCALER_ACTOR, **named).remote(settings)  # type: ignore[attr-defined]
    for provider in enabled_providers(settings) if acquisition else []:
        name = acquisition_actor_name(provider)
        actors.acquisition[name] = AcquisitionActor.options(name=name, **named).remote(settings, provider)  # type: ignore[attr-defined]
    if settings.forecasting.enabled if forecasting is None else forecasting:
        # Predictions share the node with everything else: one thread each.
        options = {"name": FORECASTING_ACTOR, "runtime_env": {"env_vars": thread_caps(1)}, **named}
        actors.forecasting = ForecastingActor.options(**options).remote(settings)  # type: ignore[attr-defined]
    return actors


def stop_platform(settings: Settings, timeout_s: float = 60.0) -> list[str]:
    """Stop acquisition first, then let ingestion write what it holds, then the warehouse; return what stopped."""
    stopped = []
    for name in stop_order(settings):
        try:
            handle = ray.get_actor(name, namespace=settings.ray.namespace)
        except ValueError:
            continue
        if name != WAREHOUSE_ACTOR:  # the warehouse has no loop to stop; killing it closes the file
            with contextlib.suppress(RayActorError, GetTimeoutError):
                ray.get(handle.stop.remote(), timeout=timeout_s)
        ray.kill(handle, no_restart=True)
        stopped.append(name)
    return stopped
