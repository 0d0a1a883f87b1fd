"""Apache Pulsar: the admin REST client, the platform's namespaces and the message envelope."""

from __future__ import annotations

from scalar_ray.broker.admin import PulsarAdmin, SubscriptionBacklog, TopicName, logical_topic
from scalar_ray.broker.envelope import SCHEMA_VERSION, Envelope
from scalar_ray.broker.topology import (
    PLATFORM_NAMESPACES,
    TopicLayout,
    TopicState,
    ensure_partitioned_topic,
    ensure_platform_namespaces,
)

__all__ = [
    "PLATFORM_NAMESPACES",
    "SCHEMA_VERSION",
    "Envelope",
    "PulsarAdmin",
    "SubscriptionBacklog",
    "TopicLayout",
    "TopicName",
    "TopicState",
    "ensure_partitioned_topic",
    "ensure_platform_namespaces",
    "logical_topic",
]
