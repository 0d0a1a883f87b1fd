"""Partitioned platform topics on a real Apache Pulsar broker: created and raised by the topology code, a key kept on
one partition, backlog per partition, and a non-partitioned topic from an older release left in service."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pulsar
import pytest

from scalar_ray.broker import PulsarAdmin, TopicState, ensure_partitioned_topic
from scalar_ray.broker.messaging import (
    MessageSource,
    OutgoingMessage,
    PulsarMessageSource,
    PulsarPublisher,
    ReceivedMessage,
    SubscriptionOptions,
)
from scalar_ray.broker.topics import INGESTION_SUBSCRIPTION, acquisition_topic, partition_of
from scalar_ray.config import Settings, load_settings
from scalar_ray.local.process import wait_until
from scalar_ray.operations import broker_status, prepare_topics

pytestmark = pytest.mark.integration

KEYS = [f"entsoe/A44/{zone}/price" for zone in ("DK1", "DK2", "SE1", "SE2", "SE3", "SE4", "NO1", "NO2", "FI", "EE")]


def fresh_topic() -> str:
    return f"persistent://public/default/partitions-{uuid.uuid4().hex[:10]}"


def subscribe(client: pulsar.Client, topic: str, name: str = "ingest") -> PulsarMessageSource:
    return PulsarMessageSource(client, SubscriptionOptions((topic,), INGESTION_SUBSCRIPTION, name))


def send_all(publisher: PulsarPublisher, topic: str, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        publisher.send(OutgoingMessage(topic, b"window", {"number": str(number)}, KEYS[number % len(KEYS)]))


def collect(source: MessageSource, count: int, timeout_s: float = 30.0) -> list[ReceivedMessage]:
    received: list[ReceivedMessage] = []
    deadline = time.monotonic() + timeout_s
    while len(received) < count and time.monotonic() < deadline:
        batch = source.receive()
        source.acknowledge(batch)
        received += batch
    return received


def test_a_raised_topic_carries_every_key_on_its_new_partitions_and_loses_nothing(
    pulsar_client: pulsar.Client, pulsar_admin: PulsarAdmin
) -> None:
    topic = fresh_topic()
    assert ensure_partitioned_topic(pulsar_admin, topic, 2).state is TopicState.CREATED
    pulsar_admin.ensure_subscription(topic, INGESTION_SUBSCRIPTION)
    before = PulsarPublisher(pulsar_client)
    send_all(before, topic, 20)  # waiting in the two partitions when the topic is raised
    before.close()

    raised = ensure_partitioned_topic(pulsar_admin, topic, 4)
    after = PulsarPublisher(pulsar_client)  # a producer made after the raise sees all four at once
    send_all(after, topic, 40, start=20)
    after.close()

    assert raised.state is TopicState.RAISED and pulsar_admin.partitions(topic) == 4
    # The existing subscription was carried onto the new partitions: nothing sent there is missed.
    backlog = pulsar_admin.backlog(topic, INGESTION_SUBSCRIPTION)
    assert backlog.backlog == 60 and sorted(backlog.partitions) == [0, 1, 2, 3]
    by_partition = Counter(partition_of(KEYS[n % len(KEYS)], 4) for n in range(20, 60))
    assert all(backlog.partitions[p] >= count for p, count in by_partition.items())

    source = subscribe(pulsar_client, topic)
    received = collect(source, 60)
    source.close()
    numbers = [int(m.properties["number"]) for m in received]
    assert sorted(numbers) == list(range(60))  # every message once
    for key in KEYS:
        late = [m for m in received if m.key == key and int(m.properties["number"]) >= 20]
        assert {m.partition for m in late} == {partition_of(key, 4)}
        assert [int(m.properties["number"]) for m in late] == sorted(int(m.properties["number"]) for m in late)
    assert wait_until(lambda: pulsar_admin.backlog(topic, INGESTION_SUBSCRIPTION).backlog == 0, timeout_s=15)


def test_a_non_partitioned_topic_from_an_older_release_stays_in_service(
    pulsar_client: pulsar.Client, pulsar_admin: PulsarAdmin
) -> None:
    topic = fresh_topic()
    pulsar_admin.ensure_subscription(topic, INGESTION_SUBSCRIPTION)  # public/default makes a plain topic for it
    legacy = pulsar_client.create_producer(topic)
    legacy.send(b"older release", partition_key=KEYS[0])
    legacy.close()

    layout = ensure_partitioned_topic(pulsar_admin, topic, 4)

    assert (layout.partitions, layout.state) == (0, TopicState.NON_PARTITIONED)
    assert pulsar_admin.partitions(topic) == 0
    publisher = PulsarPublisher(pulsar_client)
    send_all(publisher, topic, 3)
    publisher.close()
    assert pulsar_admin.backlog(topic, INGESTION_SUBSCRIPTION).partitions == {}  # plain: one figure
    source = subscribe(pulsar_client, topic)
    received = collect(source, 4)
    source.close()
    assert len(received) == 4 and {m.partition for m in received} == {None}  # the old message and the new


def test_the_platforms_topics_are_partitioned_and_their_backlog_reported_per_partition(
    pulsar_admin: PulsarAdmin, pulsar_client: pulsar.Client, service_settings: Settings
) -> None:
    tenant = f"parts-{uuid.uuid4().hex[:6]}"
    settings = load_settings(
        {
            "SCALAR_BROKER__SERVICE_URL": service_settings.broker.service_url,
            "SCALAR_BROKER__ADMIN_URL": str(service_settings.broker.admin_url),
            "SCALAR_BROKER__TENANT": tenant,
            "SCALAR_BROKER__PARTITIONS": "3",
            "SCALAR_ACQUISITION__DATASETS": "entsoe/A44",
        }
    )

    layouts = {layout.topic: layout for layout in prepare_topics(settings)}
    again = {layout.topic: layout.state for layout in prepare_topics(settings)}

    topic = acquisition_topic(tenant, "entsoe")
    assert layouts[topic].partitions == 3 and layouts[topic].state is TopicState.CREATED
    assert set(again.values()) == {TopicState.KEPT}  # a restart changes nothing
    publisher = PulsarPublisher(pulsar_client)
    send_all(publisher, topic, 30)
    publisher.close()
    status = broker_status(settings)
    entry = status.backlog["entsoe"]
    assert entry.backlog == 30 and sum(entry.partitions.values()) == 30 and len(entry.partitions) == 3
    assert entry.partitions == dict(Counter(partition_of(KEYS[n % len(KEYS)], 3) for n in range(30)))
    # A topic the broker creates on first use in the platform's namespaces is partitioned too.
    stray = f"persistent://{tenant}/acquisition/not-prepared"
    producer = pulsar_client.create_producer(stray)
    producer.close()
    assert pulsar_admin.partitions(stray) == 3
