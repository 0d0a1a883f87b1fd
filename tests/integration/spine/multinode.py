"""A worker node lost mid-stream, on a three-node Ray cluster on this machine (run by test_node_failure.py).

Its own process: ``ray.cluster_utils.Cluster`` starts a head and two worker nodes, each a raylet with its own
workers (and, from the test, its own temp folder), which the session's single Ray instance cannot share a driver
with. The platform's actors spread over the three nodes; once data flows, the worker node holding most of them is
killed (its raylet and every worker on it, not one actor). Prints one ``RESULT {json}`` line for the test to judge.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import ray
from ray.cluster_utils import Cluster
from ray.util.state import list_actors

from actors.supervisor import start_platform
from scalar_ray.broker.admin import PulsarAdmin
from scalar_ray.broker.topics import acquisition_topic
from scalar_ray.config import Settings, load_settings
from scalar_ray.local.process import wait_until
from scalar_ray.operations import acquisition_actor_name, prepare_topics, stop_order
from tests.integration.conftest import free_port
from tests.integration.spine.conftest import AUDIT_SUBSCRIPTION, Platform

PROVIDERS = ["energinet", "elia"]


def _placement(settings: Settings) -> dict[str, tuple[str, str]]:
    """Each platform actor's (state, node id), by name."""
    names = set(stop_order(settings))
    found = list_actors(
        address=ray.get_runtime_context().gcs_address,
        filters=[("ray_namespace", "=", settings.ray.namespace)],
        detail=True,
        limit=10_000,
        raise_on_missing_output=False,
    )
    # A restarted actor is listed once per incarnation: the live one (or the newest) speaks for the name.
    placement: dict[str, tuple[str, str]] = {}
    for actor in found:
        if actor.name in names and (actor.name not in placement or actor.state == "ALIVE"):
            placement[actor.name] = (actor.state, actor.node_id or "")
    return placement


def quiet(platform: Platform) -> bool:
    """Nothing waits for ingestion and the warehouse count holds still for two seconds."""
    if platform.backlog():
        return False
    before = platform.warehouse.count()
    time.sleep(2)
    return platform.warehouse.count() == before and not platform.backlog()


def scenario(settings: Settings, cluster: Cluster, workers: list[Any]) -> dict[str, Any]:
    """Start the platform over the cluster, kill the busiest worker node mid-stream, and report what followed."""
    prepare_topics(settings)
    with PulsarAdmin(str(settings.broker.admin_url)) as admin:
        for provider in PROVIDERS:
            admin.ensure_subscription(acquisition_topic(settings.broker.tenant, provider), AUDIT_SUBSCRIPTION)
    start_platform(settings, forecasting=False)
    platform = Platform(settings)
    assert wait_until(lambda: all(s == "ALIVE" for s, _ in _placement(settings).values()), 120)
    before = _placement(settings)
    nodes_used = Counter(node for _, node in before.values())
    victim = max(workers, key=lambda node: nodes_used.get(node.node_id, 0))
    lost = sorted(name for name, (_, node) in before.items() if node == victim.node_id)
    assert wait_until(lambda: platform.warehouse.count() > 0, 180), platform.describe()
    rows_at_kill = platform.warehouse.count()

    cluster.remove_node(victim, allow_graceful=False)
    killed = time.monotonic()

    def recovered() -> bool:
        now = _placement(settings)
        return set(now) == set(before) and all(s == "ALIVE" and n != victim.node_id for s, n in now.values())

    back = wait_until(recovered, 180, interval_s=1)
    recovered_s = time.monotonic() - killed
    settled = platform.settled(300)
    # The feeds go on publishing every minute: stop the producers, let ingestion drain, then compare.
    for provider in PROVIDERS:
        ray.kill(ray.get_actor(acquisition_actor_name(provider), namespace=settings.ray.namespace), no_restart=True)
    drained = wait_until(lambda: quiet(platform), 120, interval_s=1)
    stored = platform.stored_keys()
    published = platform.published_keys(PROVIDERS)
    whole = settled and drained and published <= set(stored) and len(stored) == len(set(stored))
    return {
        "nodes_used": len(nodes_used),
        "lost": lost,
        "recovered": back,
        "recovered_s": round(recovered_s, 1),
        "after": {name: node != victim.node_id for name, (_, node) in _placement(settings).items()},
        "rows_at_kill": rows_at_kill,
        "settled": settled and drained,
        "stored": len(stored),
        "unique": len(set(stored)),
        "published": len(published),
        "missing": len(published - set(stored)),
        "missing_sample": [[str(part) for part in key] for key in sorted(published - set(stored), key=str)[:8]],
        "describe": "" if whole else platform.describe(),  # the replicas' counters, for a failure's message
    }


def main() -> None:
    """Settings from the environment (the test's), a cluster of three nodes, the scenario, one RESULT line."""
    settings = load_settings()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": True, "dashboard_port": free_port()},
    )
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, namespace=settings.ray.namespace, log_to_driver=False)
    try:
        result = scenario(settings, cluster, workers)
    finally:
        ray.shutdown()
        cluster.shutdown()
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
