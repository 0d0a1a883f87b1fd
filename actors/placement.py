"""How the platform's long-lived actors are placed on the cluster."""

from __future__ import annotations

from typing import Any

__all__ = ["DETACHED"]

# Detached (they outlive the driver), found again by name, and spread over the nodes, so a lost node takes only its
# share of them; Ray restarts those on the nodes left (every actor has max_restarts=-1).
DETACHED: dict[str, Any] = {"lifetime": "detached", "get_if_exists": True, "scheduling_strategy": "SPREAD"}
