"""The supervisor: start, stop and inspect the platform's actors from the configuration (one place for all three).

``start_platform`` is idempotent: it creates the topics' subscriptions first (so nothing published is dropped before
ingestion joins), then the warehouse actor (DuckDB), the ingestion replicas and one acquisition actor per enabled
provider, all detached and named, so `scalar-ray status` and the Ray dashboard find them after the driver exits.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, cast

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
from scalar_ray.status import ActorReport, ActorState, BrokerStatus, PlatformStatus, TopicBacklog, UnreachableActor
from scalar_ray.telemetry.snapshot import checklist_lines
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


def platform_status(settings: Settings, timeout_s: float = 10.0) -> PlatformStatus:
    """Actors and restarts, per-replica ingestion, per-provider acquisition, backlog, DLQ, and the checklist.

    The checklist is read from the actors' metrics: the items of ``telemetry.checklist.CHECKLIST``, as Grafana shows.
    """
    namespace = settings.ray.namespace
    actors = []
    details: dict[str, ActorReport | UnreachableActor] = {}
    for actor in _actors(settings):
        actors.append(ActorState(actor.name, actor.state, actor.num_restarts or 0, actor.pid))
        if actor.state != "ALIVE" or actor.name == WAREHOUSE_ACTOR:
            continue
        try:
            handle = ray.get_actor(actor.name, namespace)
            details[actor.name] = cast("ActorReport", ray.get(handle.status.remote(), timeout=timeout_s))
        except (RayActorError, GetTimeoutError, ValueError) as exc:
            details[actor.name] = UnreachableActor(f"{type(exc).__name__}: {exc}")
    # Each actor's metric points, read where the dashboard's come from (the same instruments), make the checklist.
    points = [point for report in details.values() if isinstance(report, ActorReport) for point in report.metrics]
    return PlatformStatus(actors, details, broker_status(settings), checklist_lines(points))


def broker_status(settings: Settings) -> BrokerStatus:
    """Ingestion backlog per provider topic and the number of dead letters awaiting review."""
    tenant = settings.broker.tenant
    backlog: dict[str, TopicBacklog] = {}
    try:
        with PulsarAdmin(settings.broker.admin_url, settings.broker.auth_token) as admin:
            for topic in ingested_topics(settings):
                found = admin.backlog(topic, INGESTION_SUBSCRIPTION)
                backlog[topic.rsplit("/", 1)[-1]] = TopicBacklog(found.backlog, found.unacked, found.consumers)
            dead_letters = admin.backlog(dead_letter_topic(tenant), REVIEW_SUBSCRIPTION).backlog
    except BrokerAdminError as exc:
        return BrokerStatus(backlog, None, str(exc))
    return BrokerStatus(backlog, dead_letters)


def _actors(settings: Settings) -> list[Any]:
    prefixes = ("acquisition-", "ingestion-", WAREHOUSE_ACTOR, FORECASTING_ACTOR)
    found = list_actors(
        filters=[("ray_namespace", "=", settings.ray.namespace)],
        limit=10_000,
        detail=True,  # restarts and death causes are detail fields
        raise_on_missing_output=False,
    )
    return [actor for actor in found if actor.name and actor.name.startswith(prefixes)]
