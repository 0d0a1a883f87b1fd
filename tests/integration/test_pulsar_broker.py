"""Producing and consuming through a real Apache Pulsar broker: the semantics the data spine relies on."""

from __future__ import annotations

import os
import uuid
from collections import defaultdict

import pulsar
import pytest

from scalar_ray.broker import PulsarAdmin, ensure_platform_namespaces
from scalar_ray.broker.messaging import OutgoingMessage, PulsarPublisher
from scalar_ray.core.errors import BrokerRejectedError
from scalar_ray.local.process import wait_until

pytestmark = pytest.mark.integration

RECEIVE_MS = 10_000


def fresh_topic() -> str:
    return f"persistent://public/default/test-{uuid.uuid4().hex[:12]}"


def drain(consumers: list[pulsar.Consumer], expected: int, timeout_s: float = 30) -> dict[int, list[pulsar.Message]]:
    """Receive from all consumers in turn until ``expected`` messages arrived, acknowledging each."""
    received: dict[int, list[pulsar.Message]] = defaultdict(list)

    def more() -> bool:
        for index, consumer in enumerate(consumers):
            try:
                message = consumer.receive(timeout_millis=50)
            except pulsar.Timeout:
                continue
            received[index].append(message)
            consumer.acknowledge(message)
        return sum(len(v) for v in received.values()) >= expected

    assert wait_until(more, timeout_s=timeout_s, interval_s=0), f"received {sum(map(len, received.values()))}"
    return received


def test_broker_is_apache_pulsar_4_0(pulsar_admin: PulsarAdmin) -> None:
    assert pulsar_admin.version().startswith("4.0.")
    assert pulsar_admin.clusters() == ["standalone"]
    assert pulsar_admin.healthy()


def test_message_round_trip_keeps_payload_key_and_properties(pulsar_client: pulsar.Client) -> None:
    topic = fresh_topic()
    consumer = pulsar_client.subscribe(topic, "roundtrip")
    producer = pulsar_client.create_producer(topic)

    producer.send(
        b"\x00arrow-bytes\xff",
        partition_key="entsoe/A44/DK1/price",
        properties={"schema_version": "1", "provider": "entsoe"},
        event_timestamp=1_700_000_000_000,
    )
    message = consumer.receive(timeout_millis=RECEIVE_MS)
    consumer.acknowledge(message)

    assert message.data() == b"\x00arrow-bytes\xff"
    assert message.partition_key() == "entsoe/A44/DK1/price"
    assert message.properties() == {"schema_version": "1", "provider": "entsoe"}
    assert message.event_timestamp() == 1_700_000_000_000
    producer.close()
    consumer.close()


def test_shared_subscription_delivers_each_message_once_across_consumers(
    pulsar_client: pulsar.Client,
) -> None:
    topic = fresh_topic()
    consumers = [
        pulsar_client.subscribe(topic, "shared", consumer_type=pulsar.ConsumerType.Shared, receiver_queue_size=5)
        for _ in range(2)
    ]
    producer = pulsar_client.create_producer(topic)
    payloads = {f"m{i}".encode() for i in range(200)}
    for payload in sorted(payloads):
        producer.send(payload)

    received = drain(consumers, expected=200)

    delivered = [m.data() for messages in received.values() for m in messages]
    assert sorted(delivered) == sorted(payloads)  # every message, none twice
    assert len(received) == 2, "a Shared subscription spreads messages over its consumers"
    producer.close()
    for consumer in consumers:
        consumer.close()


def test_key_shared_subscription_keeps_each_key_on_one_consumer_in_order(
    pulsar_client: pulsar.Client,
) -> None:
    topic = fresh_topic()
    consumers = [
        pulsar_client.subscribe(topic, "keyshared", consumer_type=pulsar.ConsumerType.KeyShared) for _ in range(2)
    ]
    # KeyShared with batching needs key-based batches, or one batch would carry several keys.
    producer = pulsar_client.create_producer(topic, batching_enabled=True, batching_type=pulsar.BatchingType.KeyBased)
    keys = [f"entsoe/A44/zone{z}/price" for z in range(12)]
    for sequence in range(25):
        for key in keys:
            producer.send_async(str(sequence).encode(), None, partition_key=key)
    producer.flush()

    received = drain(consumers, expected=len(keys) * 25)

    owner: dict[str, int] = {}
    sequences: dict[str, list[int]] = defaultdict(list)
    for index, messages in received.items():
        for message in messages:
            key = message.partition_key()
            assert owner.setdefault(key, index) == index, f"{key} went to two consumers"
            sequences[key].append(int(message.data()))
    assert all(seq == list(range(25)) for seq in sequences.values()), "per-key order must hold"
    assert set(sequences) == set(keys)
    producer.close()
    for consumer in consumers:
        consumer.close()


def test_negative_acknowledgement_redelivers_with_a_count(pulsar_client: pulsar.Client) -> None:
    topic = fresh_topic()
    consumer = pulsar_client.subscribe(
        topic, "nack", consumer_type=pulsar.ConsumerType.Shared, negative_ack_redelivery_delay_ms=200
    )
    producer = pulsar_client.create_producer(topic)
    producer.send(b"retry-me")

    first = consumer.receive(timeout_millis=RECEIVE_MS)
    consumer.negative_acknowledge(first)
    second = consumer.receive(timeout_millis=RECEIVE_MS)
    consumer.acknowledge(second)

    assert second.data() == b"retry-me"
    assert second.message_id() == first.message_id()
    assert (first.redelivery_count(), second.redelivery_count()) == (0, 1)
    producer.close()
    consumer.close()


def test_a_poison_message_lands_in_the_dead_letter_topic(
    pulsar_client: pulsar.Client, pulsar_admin: PulsarAdmin
) -> None:
    topic = fresh_topic()
    dead_letters = f"{topic}-ingest-DLQ"
    dlq_consumer = pulsar_client.subscribe(dead_letters, "dlq-reader")
    consumer = pulsar_client.subscribe(
        topic,
        "ingest",
        consumer_type=pulsar.ConsumerType.Shared,
        negative_ack_redelivery_delay_ms=100,
        dead_letter_policy=pulsar.ConsumerDeadLetterPolicy(max_redeliver_count=2, dead_letter_topic=dead_letters),
    )
    producer = pulsar_client.create_producer(topic)
    producer.send(b"poison", properties={"reason": "test"})
    producer.send(b"good")

    deliveries: dict[bytes, int] = defaultdict(int)

    def poison_rejected_and_good_acked() -> bool:
        try:
            message = consumer.receive(timeout_millis=200)
        except pulsar.Timeout:
            return deliveries[b"good"] == 1 and deliveries[b"poison"] >= 3
        deliveries[message.data()] += 1
        if message.data() == b"poison":
            consumer.negative_acknowledge(message)
        else:
            consumer.acknowledge(message)
        return False

    assert wait_until(poison_rejected_and_good_acked, timeout_s=30, interval_s=0)
    dead = dlq_consumer.receive(timeout_millis=RECEIVE_MS)
    dlq_consumer.acknowledge(dead)

    assert dead.data() == b"poison"
    assert dead.properties()["reason"] == "test"
    assert deliveries[b"poison"] == 3  # first delivery + max_redeliver_count redeliveries
    assert wait_until(lambda: pulsar_admin.backlog(topic, "ingest").backlog == 0, timeout_s=15)
    for closable in (producer, consumer, dlq_consumer):
        closable.close()


def test_backlog_is_read_through_the_admin_api(pulsar_client: pulsar.Client, pulsar_admin: PulsarAdmin) -> None:
    topic = fresh_topic()
    consumer = pulsar_client.subscribe(topic, "slow-reader", consumer_type=pulsar.ConsumerType.Shared)
    producer = pulsar_client.create_producer(topic)
    for i in range(25):
        producer.send(f"{i}".encode())

    assert wait_until(lambda: pulsar_admin.backlog(topic, "slow-reader").backlog == 25, timeout_s=15)
    for _ in range(10):
        consumer.acknowledge(consumer.receive(timeout_millis=RECEIVE_MS))

    assert wait_until(lambda: pulsar_admin.backlog(topic, "slow-reader").backlog == 15, timeout_s=15)
    stats = pulsar_admin.backlog(topic, "slow-reader")
    assert stats.consumers == 1
    producer.close()
    consumer.close()


def test_platform_namespaces_exist_after_ensuring_them_twice(pulsar_admin: PulsarAdmin) -> None:
    ensure_platform_namespaces(pulsar_admin, "scalar-it")
    ensure_platform_namespaces(pulsar_admin, "scalar-it")

    assert sorted(pulsar_admin.namespaces("scalar-it")) == ["scalar-it/acquisition", "scalar-it/insights"]
    assert pulsar_admin.namespaces("no-such-tenant") == []
    # Acknowledged messages are kept (they used to go at once, leaving a replay after a restore nothing to read).
    assert pulsar_admin.retention("scalar-it/acquisition") == {
        "retentionTimeInMinutes": 10080,
        "retentionSizeInMB": 10240,
    }


def test_an_envelope_crosses_the_broker_intact(pulsar_client: pulsar.Client) -> None:
    from scalar_ray.broker.envelope import Envelope
    from scalar_ray.providers.entsoe_parser import parse_entsoe
    from tests.unit.providers.helpers import WIDE, context, fixture_bytes

    table = parse_entsoe(fixture_bytes("entsoe", "A44_dayahead_prices_FR.xml"), context("entsoe", "A44"))
    payload, properties = Envelope("entsoe", "A44", WIDE, "fetch-1", table).encode()
    topic = fresh_topic()
    consumer = pulsar_client.subscribe(topic, "ingest", consumer_type=pulsar.ConsumerType.KeyShared)
    producer = pulsar_client.create_producer(topic)

    producer.send(payload, properties=properties, partition_key="entsoe/A44/FR/price")
    message = consumer.receive(timeout_millis=RECEIVE_MS)
    consumer.acknowledge(message)
    decoded = Envelope.decode(message.data(), message.properties())

    assert decoded.observations.equals(table)
    assert decoded.fetch_id == "fetch-1"
    producer.close()
    consumer.close()


def test_a_message_over_the_brokers_limit_is_refused_for_good_not_taken_for_an_outage(
    pulsar_client: pulsar.Client,
) -> None:
    publisher = PulsarPublisher(pulsar_client, send_timeout_ms=5_000)
    topic = fresh_topic()

    with pytest.raises(BrokerRejectedError, match="MessageTooBig"):
        # Random bytes: the limit (maxMessageSize, 5 MB) holds for the compressed payload, and these do not shrink.
        publisher.send(OutgoingMessage(topic, os.urandom(6 * 2**20), {}, "key"))
    assert publisher.send(OutgoingMessage(topic, b"fits", {}, "key"))  # the producer still works for the next
