"""Apache Pulsar: the admin REST client and the platform's namespaces."""

from __future__ import annotations

from scalar_ray.broker.admin import PulsarAdmin, SubscriptionBacklog, TopicName
from scalar_ray.broker.topology import PLATFORM_NAMESPACES, ensure_platform_namespaces

__all__ = [
    "PLATFORM_NAMESPACES",
    "PulsarAdmin",
    "SubscriptionBacklog",
    "TopicName",
    "ensure_platform_namespaces",
]
