from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from scalar_ray.broker import PulsarAdmin, TopicName, ensure_platform_namespaces, logical_topic
from scalar_ray.core.errors import BrokerAdminError

TOPIC = "persistent://scalar/acquisition/entsoe"


def admin_with(handler) -> PulsarAdmin:  # type: ignore[no-untyped-def]
    return PulsarAdmin("http://broker:8080/", SecretStr("tkn"), transport=httpx.MockTransport(handler))


def test_version_is_read_from_the_admin_api() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="4.0.7")

    assert admin_with(handler).version() == "4.0.7"
    assert seen[0].url == "http://broker:8080/admin/v2/brokers/version"
    assert seen[0].headers["Authorization"] == "Bearer tkn"


def test_backlog_is_read_from_topic_stats() -> None:
    stats = {"subscriptions": {"ingest": {"msgBacklog": 42, "unackedMessages": 3, "consumers": [{}, {}]}}}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/partitioned-stats"):
            return httpx.Response(404, json={"reason": "Partitioned Topic not found"})  # a non-partitioned topic
        assert request.url.path == "/admin/v2/persistent/scalar/acquisition/entsoe/stats"
        return httpx.Response(200, json=stats)

    backlog = admin_with(handler).backlog(TOPIC, "ingest")

    assert (backlog.backlog, backlog.unacked, backlog.consumers) == (42, 3, 2)


def test_missing_subscription_is_a_clear_error() -> None:
    admin = admin_with(lambda _: httpx.Response(200, json={"subscriptions": {}, "partitions": {}}))

    with pytest.raises(BrokerAdminError, match="no subscription 'ingest'"):
        admin.backlog(TOPIC, "ingest")


def test_http_errors_carry_the_brokers_reason() -> None:
    admin = admin_with(lambda _: httpx.Response(404, json={"reason": "Topic not found"}))

    with pytest.raises(BrokerAdminError) as caught:
        admin.topic_stats(TOPIC)

    assert caught.value.status_code == 404
    assert "topic stats" in str(caught.value)
    assert "Topic not found" in str(caught.value)


def test_connection_failures_are_mapped_to_our_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    admin = admin_with(handler)

    with pytest.raises(BrokerAdminError, match="ConnectError"):
        admin.version()
    assert admin.healthy() is False


def test_platform_namespaces_are_created_idempotently() -> None:
    calls: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.url.path.endswith("/clusters"):
            return httpx.Response(200, json=["standalone"])
        if request.url.path == "/admin/v2/tenants/scalar":
            assert json.loads(request.content)["allowedClusters"] == ["standalone"]
            return httpx.Response(409, json={"reason": "Tenant already exist"})
        return httpx.Response(204)

    namespaces = ensure_platform_namespaces(admin_with(handler), "scalar")

    assert namespaces == ["scalar/acquisition", "scalar/insights"]
    assert ("PUT", "/admin/v2/namespaces/scalar/insights") in calls


@pytest.mark.parametrize(
    "topic",
    [
        pytest.param("entsoe", id="short_name"),
        pytest.param("persistent://scalar/entsoe", id="no_namespace"),
        pytest.param("kafka://scalar/acquisition/entsoe", id="wrong_domain"),
    ],
)
def test_topic_names_must_be_fully_qualified(topic: str) -> None:
    with pytest.raises(ValueError, match="not a fully qualified topic"):
        TopicName.parse(topic)


def test_topic_name_round_trips_and_escapes_its_local_name() -> None:
    name = TopicName.parse("persistent://scalar/acquisition/a b")

    assert str(name) == "persistent://scalar/acquisition/a b"
    assert name.rest_path == "persistent/scalar/acquisition/a%20b"


PARTITIONED_STATS = {
    "subscriptions": {"ingest": {"msgBacklog": 7, "unackedMessages": 1, "consumers": [{}, {}]}},
    "partitions": {
        f"{TOPIC}-partition-{index}": {"subscriptions": {"ingest": {"msgBacklog": backlog}}}
        for index, backlog in ((1, 5), (0, 2), (2, 0))
    },
}


def test_a_partitioned_topics_backlog_is_read_per_partition() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        assert request.url.path == "/admin/v2/persistent/scalar/acquisition/entsoe/partitioned-stats"
        assert request.url.params["perPartition"] == "true"
        return httpx.Response(200, json=PARTITIONED_STATS)

    backlog = admin_with(handler).backlog(TOPIC, "ingest")

    assert (backlog.backlog, backlog.unacked, backlog.consumers) == (7, 1, 2)
    assert backlog.partitions == {0: 2, 1: 5, 2: 0}  # by partition index, in order
    assert len(seen) == 1  # one request for the platform's own (partitioned) topics


def test_a_plain_topics_backlog_has_no_partitions() -> None:
    stats = {"subscriptions": {"ingest": {"msgBacklog": 4}}}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/partitioned-stats"):
            return httpx.Response(404, json={"reason": "Partitioned Topic not found"})
        return httpx.Response(200, json=stats)

    assert admin_with(handler).backlog(TOPIC, "ingest").partitions == {}


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        pytest.param(f"{TOPIC}-partition-3", (TOPIC, 3), id="partition"),
        pytest.param(TOPIC, (TOPIC, None), id="plain"),
        pytest.param("persistent://t/ns/my-partition-x", ("persistent://t/ns/my-partition-x", None), id="lookalike"),
    ],
)
def test_a_partitions_topic_name_gives_its_topic_and_index(topic: str, expected: tuple[str, int | None]) -> None:
    assert logical_topic(topic) == expected
