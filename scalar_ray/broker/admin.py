"""A small client for Pulsar's admin REST API (``/admin/v2``): health, version, tenants, namespaces, backlog.

pulsar-client speaks only the binary protocol; operators' questions (is the broker up, how large is a
subscription's backlog) are answered by the admin API, so the platform talks to it directly over httpx.
"""

from __future__ import annotations

import functools
import logging
import re
import ssl
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from scalar_ray.core.errors import BrokerAdminError

__all__ = ["PulsarAdmin", "SubscriptionBacklog", "TopicName", "logical_topic"]

_logger = logging.getLogger(__name__)

_TOPIC_PARTS = 3  # tenant/namespace/topic
_NOT_FOUND = 404
_CONFLICT = 409
# A partitioned topic's partitions are topics of their own: ``<topic>-partition-<n>``.
_PARTITION_SUFFIX = re.compile(r"^(?P<topic>.+)-partition-(?P<index>\d+)$")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The default TLS context of httpx, built once a process.

    Building it loads the CA bundle (~30 ms a client), and the backlog metric opens a client at every collection
    (each status call of an ingestion actor).
    """
    return httpx.create_ssl_context()


def logical_topic(topic: str) -> tuple[str, int | None]:
    """A partition's topic and index (``entsoe-partition-2`` -> ``entsoe``, 2); any other topic as it is, None."""
    match = _PARTITION_SUFFIX.match(topic)
    return (match["topic"], int(match["index"])) if match else (topic, None)


@dataclass(frozen=True)
class TopicName:
    """A fully qualified topic name: ``persistent://tenant/namespace/topic``."""

    domain: str
    tenant: str
    namespace: str
    local_name: str

    @classmethod
    def parse(cls, topic: str) -> Self:
        """Parse a fully qualified topic name; a short name is rejected (it would hide the tenant)."""
        domain, sep, rest = topic.partition("://")
        parts = rest.split("/", 2)
        if not sep or domain not in ("persistent", "non-persistent") or len(parts) != _TOPIC_PARTS or not all(parts):
            raise ValueError(f"'{topic}' is not a fully qualified topic (persistent://tenant/namespace/topic)")
        return cls(domain, parts[0], parts[1], parts[2])

    @property
    def rest_path(self) -> str:
        """The topic's path under ``/admin/v2``."""
        return f"{self.domain}/{self.tenant}/{self.namespace}/{quote(self.local_name, safe='')}"

    def __str__(self) -> str:
        return f"{self.domain}://{self.tenant}/{self.namespace}/{self.local_name}"


@dataclass(frozen=True)
class SubscriptionBacklog:
    """What an operator asks of a subscription: how far behind it is and how many messages are in flight."""

    subscription: str
    backlog: int
    unacked: int
    consumers: int
    # A partitioned topic's backlog per partition index (the totals above are their sums); empty for a plain topic.
    partitions: dict[int, int] = field(default_factory=dict)


class PulsarAdmin:
    """Pulsar admin REST client; every failure is a ``BrokerAdminError`` naming the operation."""

    def __init__(
        self,
        admin_url: str,
        auth_token: SecretStr | None = None,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {auth_token.get_secret_value()}"} if auth_token else {}
        self.admin_url = admin_url.rstrip("/")
        self._http = httpx.Client(
            base_url=f"{self.admin_url}/admin/v2",
            headers=headers,
            timeout=timeout_s,
            transport=transport,
            verify=_tls_context(),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def version(self) -> str:
        """The broker's Apache Pulsar version (``4.0.7``)."""
        return self._request("GET", "/brokers/version", "version").text.strip().strip('"')

    def healthy(self) -> bool:
        """The broker's own health check: it produces and consumes a heartbeat message."""
        try:
            return self._request("GET", "/brokers/health", "health check").text.strip() == "ok"
        except BrokerAdminError:
            return False

    def clusters(self) -> list[str]:
        """Names of the clusters the broker knows."""
        return list(self._request("GET", "/clusters", "list clusters").json())

    def tenants(self) -> list[str]:
        """Names of all tenants."""
        return list(self._request("GET", "/tenants", "list tenants").json())

    def namespaces(self, tenant: str) -> list[str]:
        """Namespaces of ``tenant`` as ``tenant/namespace``; empty if the tenant does not exist."""
        response = self._request("GET", f"/namespaces/{tenant}", "list namespaces", allow=(_NOT_FOUND,))
        return [] if response.status_code == _NOT_FOUND else list(response.json())

    def ensure_tenant(self, tenant: str) -> None:
        """Create ``tenant`` on every known cluster unless it exists."""
        body = {"adminRoles": [], "allowedClusters": self.clusters()}
        self._request("PUT", f"/tenants/{tenant}", "create tenant", json=body, allow=(409,))

    def ensure_namespace(self, namespace: str) -> None:
        """Create ``tenant/namespace`` unless it exists (the tenant must exist)."""
        self._request("PUT", f"/namespaces/{namespace}", "create namespace", allow=(409,))

    def set_retention(self, namespace: str, minutes: int, size_mb: int) -> None:
        """Keep acknowledged messages ``minutes`` long, up to ``size_mb`` per topic (replay after a restore)."""
        body = {"retentionTimeInMinutes": minutes, "retentionSizeInMB": size_mb}
        self._request("POST", f"/namespaces/{namespace}/retention", "set retention", json=body)

    def retention(self, namespace: str) -> dict[str, int]:
        """The namespace's retention policy (``retentionTimeInMinutes``, ``retentionSizeInMB``)."""
        answer: dict[str, int] = self._request("GET", f"/namespaces/{namespace}/retention", "read retention").json()
        return answer

    def topic_stats(self, topic: str) -> dict[str, Any]:
        """The broker's stats document for a non-partitioned topic."""
        name = TopicName.parse(topic)
        stats: dict[str, Any] = self._request("GET", f"/{name.rest_path}/stats", "topic stats").json()
        return stats

    def partitions(self, topic: str) -> int:
        """How many partitions ``topic`` has: 0 for a non-partitioned topic, and for one that does not exist."""
        name = TopicName.parse(topic)
        answer = self._request("GET", f"/{name.rest_path}/partitions", "partition count", allow=(_NOT_FOUND,))
        return 0 if answer.status_code == _NOT_FOUND else int(answer.json().get("partitions", 0))

    def topics(self, namespace: str) -> list[str]:
        """Every topic of ``tenant/namespace`` the broker holds, partitions included (``...-partition-0``)."""
        answer = self._request("GET", f"/persistent/{namespace}", "list topics", allow=(_NOT_FOUND,))
        return [] if answer.status_code == _NOT_FOUND else list(answer.json())

    def create_partitioned_topic(self, topic: str, partitions: int) -> bool:
        """Create ``topic`` with ``partitions`` partitions; False when a partitioned topic of that name exists."""
        name = TopicName.parse(topic)
        path = f"/{name.rest_path}/partitions"
        answer = self._request("PUT", path, "create partitioned topic", json=partitions, allow=(_CONFLICT,))
        return answer.status_code != _CONFLICT

    def raise_partitions(self, topic: str, partitions: int) -> None:
        """Give a partitioned topic more partitions (Pulsar never takes partitions away)."""
        name = TopicName.parse(topic)
        self._request("POST", f"/{name.rest_path}/partitions", "raise partitions", json=partitions)

    def set_auto_topic_creation(self, namespace: str, partitions: int) -> None:
        """Topics the broker creates on first use in ``namespace`` are partitioned, with ``partitions`` partitions.

        So a producer or a consumer that comes before the topology code (or names a topic it does not know) cannot
        leave a non-partitioned topic where a partitioned one belongs.
        """
        body = {"allowAutoTopicCreation": True, "topicType": "partitioned", "defaultNumPartitions": partitions}
        self._request("POST", f"/namespaces/{namespace}/autoTopicCreation", "set auto topic creation", json=body)

    def ensure_subscription(self, topic: str, subscription: str) -> None:
        """Create a durable subscription (and the topic) unless it exists, so messages are kept from now on.

        On a partitioned topic the broker creates it on every partition.
        """
        name = TopicName.parse(topic)
        path = f"/{name.rest_path}/subscription/{quote(subscription, safe='')}"
        self._request("PUT", path, "create subscription", allow=(_CONFLICT,))

    def backlog(self, topic: str, subscription: str) -> SubscriptionBacklog:
        """Backlog of one subscription on ``topic``, per partition too when the topic is partitioned.

        One request for a partitioned topic (the platform's own); the broker answers 404 for a plain one, which is
        then read from its own stats.
        """
        name = TopicName.parse(topic)
        path = f"/{name.rest_path}/partitioned-stats?perPartition=true"
        answer = self._request("GET", path, "partitioned topic stats", allow=(_NOT_FOUND,))
        if answer.status_code == _NOT_FOUND:
            return self._backlog_of(self.topic_stats(topic), topic, subscription)
        stats: dict[str, Any] = answer.json()
        total = self._backlog_of(stats, topic, subscription)
        per_partition: dict[int, int] = {}
        for partition, partition_stats in stats.get("partitions", {}).items():
            index = logical_topic(partition)[1]
            found = partition_stats.get("subscriptions", {}).get(subscription)
            if index is not None and found is not None:
                per_partition[index] = int(found.get("msgBacklog", 0))
        return SubscriptionBacklog(
            total.subscription, total.backlog, total.unacked, total.consumers, dict(sorted(per_partition.items()))
        )

    def _backlog_of(self, stats: dict[str, Any], topic: str, subscription: str) -> SubscriptionBacklog:
        subscriptions = stats.get("subscriptions", {})
        if subscription not in subscriptions:
            raise BrokerAdminError("backlog", self.admin_url, f"no subscription '{subscription}' on {topic}")
        found = subscriptions[subscription]
        return SubscriptionBacklog(
            subscription=subscription,
            backlog=int(found.get("msgBacklog", 0)),
            unacked=int(found.get("unackedMessages", 0)),
            consumers=len(found.get("consumers", [])),
        )

    def _request(
        self, method: str, path: str, operation: str, *, allow: tuple[int, ...] = (), json: Any = None
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise BrokerAdminError(operation, self.admin_url, f"{type(exc).__name__}: {exc}") from exc
        # Reads run in readiness loops, so only changes are logged at INFO.
        level = logging.DEBUG if method == "GET" else logging.INFO
        _logger.log(level, "pulsar admin %s %s -> %s", method, path, response.status_code)
        if response.is_success or response.status_code in allow:
            return response
        raise BrokerAdminError(operation, self.admin_url, _reason(response), response.status_code)


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("reason", response.text))
    except ValueError:
        return response.text[:200]
