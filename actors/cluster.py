"""Joining the platform's Ray cluster from a command-line driver (the local head by default), with token auth.

Ray reads ``RAY_AUTH_MODE`` when it is imported, so callers run ``use_ray_token`` before importing anything that
imports ray (the CLI does it first thing in each command that drives the cluster).
"""

from __future__ import annotations

import logging

import ray

from scalar_ray.config.settings import Settings
from scalar_ray.local.ray_head import RayHead


def connect(settings: Settings) -> None:
    """``ray.init`` against ``ray.address`` or the local head, in the platform's namespace; no-op if connected."""
    if ray.is_initialized():
        return
    ray.init(
        address=settings.ray.address or RayHead(settings).address,
        namespace=settings.ray.namespace,
        log_to_driver=False,
        logging_level=logging.WARNING,
        configure_logging=False,
    )
