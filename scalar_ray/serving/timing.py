"""``http.server.request.duration`` for the forecast API: a plain ASGI middleware (no per-request task or copy).

Attributes follow OpenTelemetry's HTTP conventions: the method, the route template (``/v1/forecasts/{family}/{zone}
/latest``, never the raw path, so a dashboard groups by endpoint and cardinality stays bounded) and the status code.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import metrics

from scalar_ray.telemetry.instruments import DURATION_BUCKETS_S

__all__ = ["RequestTiming"]

_duration = metrics.get_meter("scalar_ray").create_histogram(
    "http.server.request.duration",
    unit="s",
    description="Duration of the forecast API's HTTP requests.",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS_S,
)

Scope = dict[str, Any]


class RequestTiming:
    """Wraps an ASGI app; records one point per HTTP request when its response starts."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Pass the request through, timing it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            _duration.record(
                time.perf_counter() - started,
                {
                    "http.request.method": scope["method"],
                    "http.route": getattr(route, "path", "unmatched"),
                    "http.response.status_code": status,
                },
            )
