"""The supervisor: start, stop and inspect the platform's actors from the configuration (one place for all three).

``start_platform`` is idempotent: it creates the topics' subscriptions first (so nothing published is dropped before
ingestion joins), then the warehouse actor (DuckDB), the ingestion replicas and one acquisition actor per enabled
provider, all detached and named, so `scalar-ray status` and the Ray dashboard find them after the driver exits.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError
from ray.util.state import list_actors

from actors.acquisition import AcquisitionActor, acquisition_actor_name
from actors.forecasting import FORECASTING_ACTOR, ForecastingActor
from actors.ingestion import IngestionActor, ingestion_actor_name
from actors.warehouse import ensure_warehouse_actor
from scalar_ray.broker.admin import PulsarAdmin
from scalar_ray.broker.topics import (
    INGESTION_SUBSCRIPTION,
    REVIEW_SUBSCRIPTION,
    dead_letter_topic,
)
from scalar_ray.broker.topology import ensure_platform_namespaces
from scalar_ray.composition import enabled_providers, ingested_topics
from scalar_ray.config.settings import Settings
from scalar_ray.core.errors import BrokerAdminError
from scalar_ray.forecasting.training import thread_caps
from scalar_ray.telemetry.snapshot import MetricPoint, checklist_lines
from scalar_ray.warehouse.remote import WAREHOUSE_ACTOR


@dataclass
class PlatformActors:
    """Handles of the running actors by name."""

    acquisition: dict[str, Any] = field(default_factory=dict)
    ingestion: dict[str, Any] = field(default_factory=dict)
    warehouse: Any = None
    forecasting: Any = None


def prepare_topics(settings: Settings) -> None:
    """Namespaces, the ingestion subscription on every topic it reads, the dead-letter review subscription."""
    tenant = settings.broker.tenant
    with PulsarAdmin(settings.broker.admin_url, settings.broker.auth_token) as admin:
        ensure_platform_namespaces(admin, tenant)
        for topic in ingested_topics(settings):
            admin.ensure_subscription(topic, INGESTION_SUBSCRIPTION)
        admin.ensure_subscription(dead_letter_topic(tenant), REVIEW_SUBSCRIPTION)


def start_platform(
    settings: Settings, *, acquisition: bool = True, ingestion: bool = True, forecasting: bool | None = None
) -> PlatformActors:
    """Start (or find) every actor the configuration asks for."""
    # Actors run with the head's working directory: hand them the data directory as an absolute path.
    settings = settings.model_copy(update={"local": settings.local.model_copy(update={"data_dir": settings.data_dir})})
    prepare_topics(settings)
    actors = PlatformActors()
    namespace = settings.ray.namespace
    if settings.warehouse.kind == "duckdb":
        actors.warehouse = ensure_warehouse_actor(settings)
        ray.get(actors.warehouse.count.remote())  # the file is open before replicas write to it
    if ingestion:
        for replica in range(settings.ingestion.replicas):
            name = ingestion_actor_name(replica)
            actors.ingestion[name] = IngestionActor.options(  # type: ignore[attr-defined]
                name=name, namespace=namespace, lifetime="detached", get_if_exists=True
            ).remote(settings, replica)
    if acquisition:
        for provider in enabled_providers(settings):
            name = acquisition_actor_name(provider)
            actors.acquisition[name] = AcquisitionActor.options(  # type: ignore[attr-defined]
                name=name, namespace=namespace, lifetime="detached", get_if_exists=True
            ).remote(settings, provider)
    if settings.forecasting.enabled if forecasting is None else forecasting:
        actors.forecasting = ForecastingActor.options(  # type: ignore[attr-defined]
            name=FORECASTING_ACTOR,
            namespace=namespace,
            lifetime="detached",
            get_if_exists=True,
            runtime_env={"env_vars": thread_caps(1)},  # predictions share the node with everything else
        ).remote(settings)
    return actors


def stop_platform(settings: Settings, timeout_s: float = 60.0) -> list[str]:
    """Stop acquisition first, then let ingestion write what it holds, then the warehouse; return what stopped."""
    namespace = settings.ray.namespace
    # The names the configuration implies, so stopping works without the dashboard's state API too.
    names = [FORECASTING_ACTOR, *(acquisition_actor_name(p) for p, _ in settings.providers)]
    names += [ingestion_actor_name(i) for i in range(max(settings.ingestion.replicas, 16))] + [WAREHOUSE_ACTOR]
    # Producers first (forecasting, acquisition), then ingestion writes what it holds, then the warehouse.
    order = sorted(
        names, key=lambda n: (not n.startswith(("acquisition-", FORECASTING_ACTOR)), n.startswith(WAREHOUSE_ACTOR))
    )
    stopped = []
    for name in order:
        try:
            handle = ray.get_actor(name, namespace=namespace)
        except ValueError:
            continue
        if not name.startswith(WAREHOUSE_ACTOR):
            with contextlib.suppress(RayActorError, GetTimeoutError):
                ray.get(handle.stop.remote(), timeout=timeout_s)
        ray.kill(handle, no_restart=True)
        stopped.append(name)
    return stopped


def platform_status(settings: Settings, timeout_s: float = 10.0) -> dict[str, Any]:
    """Actors and restarts, per-replica ingestion, per-provider acquisition, backlog, DLQ, and the checklist.

    The checklist is read from the actors' metrics: the items of ``telemetry.checklist.CHECKLIST``, as Grafana shows.
    """
    namespace = settings.ray.namespace
    actors = []
    details: dict[str, Any] = {}
    for actor in _actors(settings):
        if not actor.name:
            continue
        actors.append({"name": actor.name, "state": actor.state, "restarts": actor.num_restarts, "pid": actor.pid})
        if actor.state != "ALIVE" or actor.name == WAREHOUSE_ACTOR:
            continue
        try:
            details[actor.name] = ray.get(ray.get_actor(actor.name, namespace).status.remote(), timeout=timeout_s)
        except (RayActorError, GetTimeoutError, ValueError) as exc:
            details[actor.name] = {"error": f"{type(exc).__name__}: {exc}"}
    # Each actor's metric points, read where the dashboard's come from (the same instruments), make the checklist.
    points = [MetricPoint(**point) for detail in details.values() for point in detail.pop("metrics", [])]
    return {
        "actors": actors,
        "details": details,
        "broker": broker_status(settings),
        "checklist": [asdict(line) for line in checklist_lines(points)],
    }


def broker_status(settings: Settings) -> dict[str, Any]:
    """Ingestion backlog per provider topic and the number of dead letters awaiting review."""
    tenant = settings.broker.tenant
    result: dict[str, Any] = {"backlog": {}, "dead_letters": None}
    try:
        with PulsarAdmin(settings.broker.admin_url, settings.broker.auth_token) as admin:
            for topic in ingested_topics(settings):
                backlog = admin.backlog(topic, INGESTION_SUBSCRIPTION)
                result["backlog"][topic.rsplit("/", 1)[-1]] = {
                    "backlog": backlog.backlog,
                    "unacked": backlog.unacked,
                    "consumers": backlog.consumers,
                }
            result["dead_letters"] = admin.backlog(dead_letter_topic(tenant), REVIEW_SUBSCRIPTION).backlog
    except BrokerAdminError as exc:
        result["error"] = str(exc)
    return result


def _actors(settings: Settings) -> list[Any]:
    prefixes = ("acquisition-", "ingestion-", WAREHOUSE_ACTOR, FORECASTING_ACTOR)
    found = list_actors(
        filters=[("ray_namespace", "=", settings.ray.namespace)],
        limit=10_000,
        detail=True,  # restarts and death causes are detail fields
        raise_on_missing_output=False,
    )
    return [actor for actor in found if actor.name and actor.name.startswith(prefixes)]
