"""The Pulsar namespaces the platform publishes into (see ARCHITECTURE.md, "The data path")."""

from __future__ import annotations

from scalar_ray.broker.admin import PulsarAdmin

__all__ = ["PLATFORM_NAMESPACES", "ensure_platform_namespaces"]

# persistent://<tenant>/acquisition/<provider> and persistent://<tenant>/insights/forecasts
PLATFORM_NAMESPACES = ("acquisition", "insights")


def ensure_platform_namespaces(
    admin: PulsarAdmin, tenant: str, retention_minutes: int = 7 * 24 * 60, retention_size_mb: int = 10_240
) -> list[str]:
    """Create the tenant and its namespaces unless they exist, with their retention; return the namespaces.

    Pulsar deletes a message once every subscription acknowledged it, unless the namespace retains it: retention
    is what lets ``jobs.replay`` re-ingest the last days after a warehouse is restored from an older backup.
    """
    namespaces = [f"{tenant}/{name}" for name in PLATFORM_NAMESPACES]
    admin.ensure_tenant(tenant)
    for namespace in namespaces:
        admin.ensure_namespace(namespace)
        admin.set_retention(namespace, retention_minutes, retention_size_mb)
    return namespaces
