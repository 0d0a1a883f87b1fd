"""What operating the platform needs besides the actors themselves.

The actors' names, the broker's preparation, the order the actors stop in, and the platform's status gathered from
them (Ray's state API, the actors, Pulsar's admin).

``actors/supervisor.py`` starts and stops the actors; everything it and `scalar-ray status` decide is here.
"""

from __future__ import annotations

from typing import Any, cast

import ray
from ray.exceptions import GetTimeoutError, RayActorError
from ray.util.state import list_actors

from scalar_ray.broker.admin import PulsarAdmin
from scalar_ray.broker.topics import INGESTION_SUBSCRIPTION, REVIEW_SUBSCRIPTION, dead_letter_topic
from scalar_ray.broker.topology import TopicLayout, ensure_partitioned_topic, ensure_platform_namespaces
from scalar_ray.composition import ingested_topics
from scalar_ray.config.settings import Settings
from scalar_ray.core.errors import BrokerAdminError
from scalar_ray.status import ActorReport, ActorState, BrokerStatus, PlatformStatus, TopicBacklog, UnreachableActor
from scalar_ray.telemetry.snapshot import checklist_lines
from scalar_ray.warehouse.remote import WAREHOUSE_ACTOR

__all__ = [
    "AUTOSCALER_ACTOR",
    "FORECASTING_ACTOR",
    "WAREHOUSE_ACTOR",
    "acquisition_actor_name",
    "broker_status",
    "ingestion_actor_name",
    "ingestion_backlog",
    "platform_status",
    "prepare_topics",
    "stop_order",
]

FORECASTING_ACTOR = "forecasting"
# Moves the ingestion replicas with the backlog (when ingestion.max_replicas is above ingestion.replicas).
AUTOSCALER_ACTOR = "autoscaler"
# Replica names tried when stopping, beyond the configured count: a platform started with more replicas than the
# configuration now says still stops whole.
_MAX_REPLICAS = 16


def acquisition_actor_name(provider: str) -> str:
    """``acquisition-entsoe``."""
    return f"acquisition-{provider}"


def ingestion_actor_name(replica: int) -> str:
    """``ingestion-0``."""
    return f"ingestion-{replica}"


def prepare_topics(settings: Settings) -> list[TopicLayout]:
    """Namespaces, every platform topic partitioned, the ingestion and the dead-letter review subscriptions.

    Returns each topic's layout: what was created, raised, kept, or left non-partitioned from an older release.
    """
    broker = settings.broker
    with PulsarAdmin(broker.admin_url, broker.auth_token) as admin:
        ensure_platform_namespaces(
            admin, broker.tenant, broker.retention_minutes, broker.retention_size_mb, broker.partitions
        )
        subscriptions = [(topic, INGESTION_SUBSCRIPTION) for topic in ingested_topics(settings)]
        subscriptions.append((dead_letter_topic(broker.tenant), REVIEW_SUBSCRIPTION))
        layouts = []
        for topic, subscription in subscriptions:
            layouts.append(ensure_partitioned_topic(admin, topic, broker.partitions))
            admin.ensure_subscription(topic, subscription)
    return layouts


def stop_order(settings: Settings) -> list[str]:
    """Every actor name the configuration implies, in the order they stop.

    The autoscaler first (it would start replicas being stopped), producers next (forecasting, acquisition), then
    ingestion (it writes what it holds), then the warehouse. Names rather than a listing, so stopping works without
    the dashboard's state API too.
    """
    producers = [FORECASTING_ACTOR, *(acquisition_actor_name(p) for p, _ in settings.providers)]
    most = max(settings.ingestion.replicas, settings.ingestion.max_replicas or 0, _MAX_REPLICAS)
    replicas = [ingestion_actor_name(i) for i in range(most)]
    return [AUTOSCALER_ACTOR, *producers, *replicas, WAREHOUSE_ACTOR]


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
                backlog[topic.rsplit("/", 1)[-1]] = TopicBacklog(
                    found.backlog, found.unacked, found.consumers, found.partitions
                )
            dead_letters = admin.backlog(dead_letter_topic(tenant), REVIEW_SUBSCRIPTION).backlog
    except BrokerAdminError as exc:
        return BrokerStatus(backlog, None, str(exc))
    return BrokerStatus(backlog, dead_letters)


def ingestion_backlog(settings: Settings) -> int | None:
    """Messages waiting for the ingestion subscription over every topic it reads; None when the broker is away."""
    status = broker_status(settings)
    return None if status.error else sum(entry.backlog for entry in status.backlog.values())


def _actors(settings: Settings) -> list[Any]:
    prefixes = ("acquisition-", "ingestion-", WAREHOUSE_ACTOR, FORECASTING_ACTOR, AUTOSCALER_ACTOR)
    found = list_actors(
        # The connected cluster's own address: with none, the state API refuses to choose when this machine runs
        # several Ray instances (a developer's cluster beside the platform's, or test sessions side by side).
        address=ray.get_runtime_context().gcs_address if ray.is_initialized() else None,
        filters=[("ray_namespace", "=", settings.ray.namespace)],
        limit=10_000,
        detail=True,  # restarts and death causes are detail fields
        raise_on_missing_output=False,
    )
    return [actor for actor in found if actor.name and actor.name.startswith(prefixes)]
