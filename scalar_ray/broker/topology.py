"""The Pulsar namespaces the platform publishes into (see ARCHITECTURE.md, "The data path")."""

from __future__ import annotations

from scalar_ray.broker.admin import PulsarAdmin

__all__ = ["PLATFORM_NAMESPACES", "ensure_platform_namespaces"]

# persistent://<tenant>/acquisition/<provider> and persistent://<tenant>/insights/forecasts
PLATFORM_NAMESPACES = ("acquisition", "insights")


def ensure_platform_namespaces(admin: PulsarAdmin, tenant: str) -> list[str]:
    """Create the tenant and its namespaces unless they exist; return the namespaces."""
    namespaces = [f"{tenant}/{name}" for name in PLATFORM_NAMESPACES]
    admin.ensure_tenant(tenant)
    for namespace in namespaces:
        admin.ensure_namespace(namespace)
    return namespaces
