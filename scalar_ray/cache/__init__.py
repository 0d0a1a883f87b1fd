"""The real-time cache: latest points per series (Redis; an in-memory fake for unit tests)."""

from __future__ import annotations

from scalar_ray.cache.base import BestEffortCache, Cache, CachedPoint, InMemoryCache
from scalar_ray.cache.redis import RedisCache

__all__ = ["BestEffortCache", "Cache", "CachedPoint", "InMemoryCache", "RedisCache"]
