"""The Pulsar namespaces and partitioned topics the platform publishes into (see ARCHITECTURE.md, "The data path")."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from scalar_ray.broker.admin import PulsarAdmin, TopicName, logical_topic

__all__ = ["PLATFORM_NAMESPACES", "TopicLayout", "TopicState", "ensure_partitioned_topic", "ensure_platform_namespaces"]

logger = logging.getLogger(__name__)

# persistent://<tenant>/acquisition/<provider> and persistent://<tenant>/insights/forecasts
PLATFORM_NAMESPACES = ("acquisition", "insights")


def ensure_platform_namespaces(
    admin: PulsarAdmin,
    tenant: str,
    retention_minutes: int = 7 * 24 * 60,
    retention_size_mb: int = 10_240,
    partitions: int | None = None,
) -> list[str]:
    """Create the tenant and its namespaces unless they exist, with their retention; return the namespaces.

    Pulsar deletes a message once every subscription acknowledged it, unless the namespace retains it: retention
    is what lets ``jobs.replay`` re-ingest the last days after a warehouse is restored from an older backup. With
    ``partitions``, a topic the broker creates on first use in these namespaces is partitioned that many ways.
    """
    namespaces = [f"{tenant}/{name}" for name in PLATFORM_NAMESPACES]
    admin.ensure_tenant(tenant)
    for namespace in namespaces:
        admin.ensure_namespace(namespace)
        admin.set_retention(namespace, retention_minutes, retention_size_mb)
        if partitions is not None:
            admin.set_auto_topic_creation(namespace, partitions)
    return namespaces


class TopicState(StrEnum):
    """What ``ensure_partitioned_topic`` found and did."""

    CREATED = "created"
    RAISED = "raised"
    KEPT = "kept"
    # More partitions than configured: Pulsar cannot take partitions away, so the topic keeps them.
    WIDER = "wider than configured"
    # Made before topics were partitioned; Pulsar cannot partition a topic in place, so it stays in service as it is.
    NON_PARTITIONED = "non-partitioned"


@dataclass(frozen=True)
class TopicLayout:
    """A topic's partitions after the topology code ran (0: a non-partitioned topic)."""

    topic: str
    partitions: int
    state: TopicState


def ensure_partitioned_topic(admin: PulsarAdmin, topic: str, partitions: int) -> TopicLayout:
    """Make ``topic`` a partitioned topic of at least ``partitions`` partitions; say what it is now.

    A new topic is created, a narrower one raised (producers and consumers see new partitions within a minute, the
    client's partition refresh). A non-partitioned topic of that name, made by an older release, stays in service:
    renaming it would strand its backlog and its retained messages, which ``jobs.replay`` needs. Its layout says
    so, and the log tells the operator how to move it (drain, delete, run the topology again).
    """
    current = admin.partitions(topic)
    if current == 0:
        if _exists_unpartitioned(admin, topic):
            logger.warning(
                "%s is a non-partitioned topic and stays one: let its ingestion backlog drain, delete it "
                "(pulsar-admin topics delete) and start the platform again to partition it %d ways",
                topic,
                partitions,
            )
            return TopicLayout(topic, 0, TopicState.NON_PARTITIONED)
        if admin.create_partitioned_topic(topic, partitions):
            logger.info("created %s with %d partitions", topic, partitions)
            return TopicLayout(topic, partitions, TopicState.CREATED)
        current = admin.partitions(topic)  # another process created it meanwhile
    if current < partitions:
        admin.raise_partitions(topic, partitions)
        logger.info("raised %s from %d to %d partitions", topic, current, partitions)
        return TopicLayout(topic, partitions, TopicState.RAISED)
    if current > partitions:
        logger.warning("%s has %d partitions, more than the %d configured: kept", topic, current, partitions)
        return TopicLayout(topic, current, TopicState.WIDER)
    return TopicLayout(topic, current, TopicState.KEPT)


def _exists_unpartitioned(admin: PulsarAdmin, topic: str) -> bool:
    name = TopicName.parse(topic)
    held = admin.topics(f"{name.tenant}/{name.namespace}")
    return any(found == topic and logical_topic(found)[1] is None for found in held)
