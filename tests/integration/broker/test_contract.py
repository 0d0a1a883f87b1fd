"""One contract for every broker: the in-memory fake and the Pulsar adapters on a real Apache Pulsar broker.

What the spine relies on: a persisted send, delivery with payload, key and properties intact, per-key order,
acknowledged messages never coming back, released ones coming back counted, and a leaving consumer's unacknowledged
messages going to the next one. Each on plain topics and on partitioned ones (a key's messages in one partition,
delivered under the topic's own name).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pulsar
import pytest

from scalar_ray.broker import PulsarAdmin
from scalar_ray.broker.messaging import (
    InMemoryBroker,
    MessageSource,
    OutgoingMessage,
    Publisher,
    PulsarMessageSource,
    PulsarPublisher,
    ReceivedMessage,
    SubscriptionOptions,
)
from scalar_ray.broker.topics import partition_of

pytestmark = pytest.mark.integration

WAIT_S = 20.0
PARTITIONS = 3


@dataclass
class Broker:
    """A publisher, and a way to join the one subscription of the test's topics."""

    publisher: Publisher
    subscribe: Callable[[list[str]], MessageSource]
    topic: Callable[[str], str]
    partitions: int = 0  # the test's topics are partitioned this many ways (0: plain topics)


@pytest.fixture(params=["memory", "memory-partitioned", "pulsar", "pulsar-partitioned"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    run = uuid.uuid4().hex[:10]
    partitions = PARTITIONS if request.param.endswith("-partitioned") else 0
    if request.param.startswith("memory"):
        fake = InMemoryBroker(partitions=partitions)
        yield Broker(fake, fake.source, lambda name: f"{name}-{run}", partitions)
        return
    client: pulsar.Client = request.getfixturevalue("pulsar_client")
    admin: PulsarAdmin = request.getfixturevalue("pulsar_admin")
    publisher = PulsarPublisher(client)
    sources: list[MessageSource] = []

    def subscribe(topics: list[str]) -> MessageSource:
        options = SubscriptionOptions(tuple(topics), "contract", f"consumer-{len(sources)}", release_delay_ms=200)
        sources.append(PulsarMessageSource(client, options))
        return sources[-1]

    def topic(name: str) -> str:
        full = f"persistent://public/default/contract-{name}-{run}"
        if partitions:
            admin.create_partitioned_topic(full, partitions)
        return full

    yield Broker(publisher, subscribe, topic, partitions)
    for source in sources:
        source.close()
    publisher.close()


def message(topic: str, number: int, key: str = "entsoe/A44/DK1") -> OutgoingMessage:
    return OutgoingMessage(topic, f"payload {number}".encode(), {"number": str(number), "provider": "entsoe"}, key)


def collect(source: MessageSource, count: int) -> list[ReceivedMessage]:
    """Receive until ``count`` messages came (or fail after WAIT_S)."""
    received: list[ReceivedMessage] = []
    deadline = time.monotonic() + WAIT_S
    while len(received) < count and time.monotonic() < deadline:
        received += source.receive()
    assert len(received) == count, f"{len(received)} of {count} messages within {WAIT_S} s"
    return received


def numbers(messages: list[ReceivedMessage]) -> list[int]:
    return [int(m.properties["number"]) for m in messages]


def test_a_sent_message_arrives_with_payload_key_and_properties_intact(broker: Broker) -> None:
    topic = broker.topic("roundtrip")
    source = broker.subscribe([topic])

    ids = [broker.publisher.send(message(topic, number)) for number in (1, 2)]

    received = collect(source, 2)
    assert len(set(ids)) == 2 and all(ids)
    first = received[0]
    assert (first.topic, first.payload, first.key) == (topic, b"payload 1", "entsoe/A44/DK1")
    assert first.properties == {"number": "1", "provider": "entsoe"}
    assert first.redelivery_count == 0
    source.acknowledge(received)


def test_one_keys_messages_arrive_in_publish_order(broker: Broker) -> None:
    topic = broker.topic("order")
    source = broker.subscribe([topic])

    for number in range(20):
        broker.publisher.send(message(topic, number, key=f"entsoe/A44/{'DK1' if number % 2 else 'DK2'}"))

    received = collect(source, 20)
    for key in ("entsoe/A44/DK1", "entsoe/A44/DK2"):
        ordered = numbers([m for m in received if m.key == key])
        assert ordered == sorted(ordered) and len(ordered) == 10
    source.acknowledge(received)


def test_a_keys_messages_all_take_its_partition(broker: Broker) -> None:
    topic = broker.topic("placement")
    source = broker.subscribe([topic])
    keys = [f"entsoe/A44/{zone}/price" for zone in ("DK1", "DK2", "SE3", "SE4", "NO2", "FI")]

    for number in range(24):
        broker.publisher.send(message(topic, number, key=keys[number % len(keys)]))

    received = collect(source, 24)
    assert {m.topic for m in received} == {topic}  # the topic's own name, not its partition's
    for key in keys:
        mine = [m for m in received if m.key == key]
        assert numbers(mine) == sorted(numbers(mine)) and len(mine) == 4
        expected = partition_of(key, broker.partitions) if broker.partitions else None
        assert {m.partition for m in mine} == {expected}
    if broker.partitions:
        assert len({m.partition for m in received}) > 1  # the keys spread: more than one partition carries them
    source.acknowledge(received)


def test_acknowledged_messages_never_come_back(broker: Broker) -> None:
    topic = broker.topic("acked")
    source = broker.subscribe([topic])
    broker.publisher.send(message(topic, 1))
    source.acknowledge(collect(source, 1))
    source.close()

    again = broker.subscribe([topic])
    broker.publisher.send(message(topic, 2))

    assert numbers(collect(again, 1)) == [2]
    assert again.receive() == []


def test_a_released_message_comes_back_counted_as_a_redelivery(broker: Broker) -> None:
    topic = broker.topic("released")
    source = broker.subscribe([topic])
    broker.publisher.send(message(topic, 1))

    source.release(collect(source, 1))

    back = collect(source, 1)
    assert numbers(back) == [1]
    assert back[0].redelivery_count >= 1
    source.acknowledge(back)


def test_a_leaving_consumers_unacknowledged_messages_go_to_the_next(broker: Broker) -> None:
    topic = broker.topic("handover")
    first = broker.subscribe([topic])
    for number in (1, 2, 3):
        broker.publisher.send(message(topic, number))
    held = collect(first, 3)
    first.acknowledge(held[:1])

    first.close()
    second = broker.subscribe([topic])

    assert sorted(numbers(collect(second, 2))) == [2, 3]


def test_a_subscription_gets_only_its_topics(broker: Broker) -> None:
    wanted, other = broker.topic("wanted"), broker.topic("other")
    source = broker.subscribe([wanted])

    broker.publisher.send(message(other, 1))
    broker.publisher.send(message(wanted, 2))

    received = collect(source, 1)
    assert numbers(received) == [2] and received[0].topic == wanted
    source.acknowledge(received)
    assert source.receive() == []
