"""The topology code's decisions on a partitioned topic: create, raise, keep, and what it cannot change."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest

from scalar_ray.broker import PulsarAdmin, TopicState, ensure_partitioned_topic
from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage
from scalar_ray.broker.topics import partition_of

TOPIC = "persistent://scalar/acquisition/entsoe"


class AdminState:
    """The broker's topics as its admin API shows them: partitioned ones with their count, and plain ones."""

    def __init__(self, partitioned: dict[str, int] | None = None, plain: set[str] | None = None) -> None:
        self.partitioned = dict(partitioned or {})
        self.plain = set(plain or ())
        self.calls: list[tuple[str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/admin/v2/")
        self.calls.append((request.method, path))
        if match := re.fullmatch(r"persistent/([^/]+/[^/]+/[^/]+)/partitions", path):
            return self._partitions(request, f"persistent://{match[1]}")
        if match := re.fullmatch(r"persistent/([^/]+/[^/]+)", path):
            held = [t for t in self.plain if t.startswith(f"persistent://{match[1]}/")]
            held += [f"{t}-partition-{i}" for t, n in self.partitioned.items() for i in range(n)]
            return httpx.Response(200, json=held)
        return httpx.Response(404, json={"reason": f"unexpected {request.method} {path}"})

    def _partitions(self, request: httpx.Request, topic: str) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"partitions": self.partitioned.get(topic, 0)})
        count = json.loads(request.content)
        if request.method == "PUT" and (topic in self.partitioned or topic in self.plain):
            return httpx.Response(409, json={"reason": "This topic already exists"})
        if request.method == "POST" and count <= self.partitioned[topic]:
            return httpx.Response(422, json={"reason": "Desired partitions must be greater than existing"})
        self.partitioned[topic] = count
        return httpx.Response(204)


def admin_over(state: AdminState) -> PulsarAdmin:
    return PulsarAdmin("http://broker:8080", transport=httpx.MockTransport(state.handler))


def test_a_new_topic_is_created_with_the_configured_partitions() -> None:
    state = AdminState()

    layout = ensure_partitioned_topic(admin_over(state), TOPIC, 4)

    assert (layout.partitions, layout.state) == (4, TopicState.CREATED)
    assert state.partitioned == {TOPIC: 4}


def test_a_narrower_topic_is_raised_and_a_matching_one_kept() -> None:
    state = AdminState(partitioned={TOPIC: 2})

    raised = ensure_partitioned_topic(admin_over(state), TOPIC, 6)
    kept = ensure_partitioned_topic(admin_over(state), TOPIC, 6)

    assert (raised.state, raised.partitions, kept.state) == (TopicState.RAISED, 6, TopicState.KEPT)
    assert state.partitioned == {TOPIC: 6}
    assert [c for c in state.calls if c[0] == "POST"] == [("POST", "persistent/scalar/acquisition/entsoe/partitions")]


def test_a_wider_topic_keeps_its_partitions(caplog: pytest.LogCaptureFixture) -> None:
    state = AdminState(partitioned={TOPIC: 8})

    with caplog.at_level(logging.WARNING):
        layout = ensure_partitioned_topic(admin_over(state), TOPIC, 4)

    assert (layout.partitions, layout.state) == (8, TopicState.WIDER)
    assert state.partitioned == {TOPIC: 8}  # Pulsar cannot take partitions away; nothing was asked of it
    assert "more than the 4 configured" in caplog.text


def test_a_non_partitioned_topic_from_an_older_release_stays_in_service(caplog: pytest.LogCaptureFixture) -> None:
    state = AdminState(plain={TOPIC})

    with caplog.at_level(logging.WARNING):
        layout = ensure_partitioned_topic(admin_over(state), TOPIC, 4)

    assert (layout.partitions, layout.state) == (0, TopicState.NON_PARTITIONED)
    assert state.plain == {TOPIC} and state.partitioned == {}  # not deleted, not shadowed
    assert "let its ingestion backlog drain, delete it" in caplog.text


def test_a_topic_created_meanwhile_by_another_process_is_taken_as_it_is() -> None:
    state = AdminState()
    admin = admin_over(state)
    real_create = admin.create_partitioned_topic

    def racing_create(topic: str, partitions: int) -> bool:
        state.partitioned[topic] = 4  # the other process got there first
        return real_create(topic, partitions)

    admin.create_partitioned_topic = racing_create  # type: ignore[method-assign]

    layout = ensure_partitioned_topic(admin, TOPIC, 4)

    assert (layout.partitions, layout.state) == (4, TopicState.KEPT)


def test_a_keys_partition_is_stable_and_keys_spread_over_the_partitions() -> None:
    keys = [f"entsoe/A44/{zone}/price" for zone in ("DK1", "DK2", "SE1", "SE2", "SE3", "SE4", "NO1", "FI", "DE_LU")]

    first = [partition_of(key, 4) for key in keys]

    assert first == [partition_of(key, 4) for key in keys]  # the same in every process: not Python's hash()
    assert partition_of("entsoe/A44/DK1/price", 4) == 0  # pinned: a change would move every series on upgrade
    assert len(set(first)) > 1 and all(0 <= p < 4 for p in first)


def test_the_fake_broker_places_a_keys_messages_in_one_partition() -> None:
    broker = InMemoryBroker(partitions=4)
    for number in range(12):
        broker.send(OutgoingMessage(TOPIC, b"x", {"n": str(number)}, f"entsoe/A44/DK{number % 3}/price"))

    received = broker.source().receive()

    by_key: dict[str, set[int | None]] = {}
    for message in received:
        by_key.setdefault(message.key, set()).add(message.partition)
    assert all(partitions == {partition_of(key, 4)} for key, partitions in by_key.items())
    assert {m.topic for m in received} == {TOPIC}
