"""Publishing and receiving platform messages: small ports with Pulsar adapters and in-memory fakes.

The library's services (acquisition, ingestion) talk to these ports, never to pulsar-client directly, so their logic
is unit-tested on the fakes and integration-tested on the real broker through the same code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulsar
from typing_extensions import override

from scalar_ray.broker.admin import logical_topic
from scalar_ray.broker.topics import partition_of
from scalar_ray.core.errors import BrokerRejectedError, BrokerUnavailableError

__all__ = [
    "PAYLOAD_COMPRESSION",
    "InMemoryBroker",
    "MessageSource",
    "OutgoingMessage",
    "Publisher",
    "PulsarMessageSource",
    "PulsarPublisher",
    "ReceivedMessage",
    "SubscriptionOptions",
]


@dataclass(frozen=True)
class OutgoingMessage:
    """A payload with its properties and routing key."""

    topic: str
    payload: bytes
    properties: dict[str, str]
    key: str


@dataclass(frozen=True)
class ReceivedMessage:
    """A delivered message; ``handle`` is what the source needs to acknowledge it.

    ``topic`` is the topic it was sent to (a partitioned topic's own name, not its partition's), and ``partition``
    the partition that carried it (None on a non-partitioned topic).
    """

    topic: str
    payload: bytes
    properties: dict[str, str]
    key: str
    message_id: str
    publish_time_ms: int
    redelivery_count: int
    handle: Any = field(compare=False, repr=False)
    partition: int | None = None


class Publisher(ABC):
    """Sends messages; ``send`` returns only once the broker has persisted the message."""

    @abstractmethod
    def send(self, message: OutgoingMessage) -> str:
        """Persist ``message`` and return its message id.

        Raises:
            BrokerUnavailableError: the broker cannot now (away, slow); the same send may work later.
            BrokerRejectedError: the broker refuses this message for good (too big, not allowed, topic terminated).

        """

    def close(self) -> None:  # noqa: B027 - fakes hold nothing to release
        """Release producers and connections."""


class MessageSource(ABC):
    """A subscription that hands out messages in batches and takes acknowledgements."""

    @abstractmethod
    def receive(self) -> list[ReceivedMessage]:
        """The messages waiting, up to the source's batch size, after a short wait (~100 ms); may be empty."""

    @abstractmethod
    def acknowledge(self, messages: Sequence[ReceivedMessage]) -> None:
        """Mark ``messages`` processed; the broker will not deliver them again."""

    @abstractmethod
    def release(self, messages: Sequence[ReceivedMessage]) -> None:
        """Give ``messages`` back unprocessed: the broker delivers them again, counted as redeliveries."""

    def close(self) -> None:  # noqa: B027 - fakes hold nothing to release
        """Leave the subscription (unacknowledged messages go to the other consumers)."""


@dataclass(frozen=True)
class SubscriptionOptions:
    """How an ingestion replica subscribes."""

    topics: tuple[str, ...]
    subscription: str
    consumer_name: str
    # Messages the client prefetches; with one fetched window per message this bounds the replica's memory.
    receiver_queue_size: int = 64
    # Deliveries after which a message that keeps failing (a crash while handling it) goes to the dead-letter topic.
    max_redeliveries: int = 8
    dead_letter_topic: str | None = None
    # How soon a released (negatively acknowledged) message comes back; Pulsar's default is a minute.
    release_delay_ms: int = 1000


# The broker's answers that no retry can change: the message, the credentials or the topic are wrong for good. Every
# other PulsarException (timeouts, lost connections, a broker restarting) is the broker being away.
_PERMANENT_SEND_ERRORS = (
    pulsar.MessageTooBig,
    pulsar.AuthorizationError,
    pulsar.AuthenticationError,
    pulsar.TopicTerminated,
    pulsar.InvalidTopicName,
    pulsar.IncompatibleSchema,
    pulsar.InvalidMessage,
    pulsar.NotAllowedError,
)


# Every platform producer compresses its payloads: a fetched window's Arrow IPC shrinks ~4x under LZ4 (0.2 ms to
# compress, 0.1 ms to expand), and the broker, its bookies and the network then carry a quarter of the bytes. On the
# 2-core bench machine, where the broker shares the cores with the replicas, that freed CPU for ingestion.
PAYLOAD_COMPRESSION = pulsar.CompressionType.LZ4


class PulsarPublisher(Publisher):
    """Unbatched, persisted, compressed sends (one fetched window per message; batching gains nothing at that size)."""

    def __init__(self, client: pulsar.Client, send_timeout_ms: int = 10_000) -> None:
        self._client = client
        self._send_timeout_ms = send_timeout_ms
        self._producers: dict[str, pulsar.Producer] = {}
        self._lock = threading.Lock()

    @override
    def send(self, message: OutgoingMessage) -> str:
        try:
            producer = self._producer(message.topic)
            message_id = producer.send(message.payload, properties=message.properties, partition_key=message.key)
        except _PERMANENT_SEND_ERRORS as exc:
            raise BrokerRejectedError("send", message.topic, f"{type(exc).__name__}: {exc}") from exc
        except pulsar.PulsarException as exc:
            # A producer that timed out may stay wedged; a new one reconnects cleanly.
            self._drop(message.topic)
            raise BrokerUnavailableError("send", message.topic, str(exc)) from exc
        return str(message_id)

    def _producer(self, topic: str) -> pulsar.Producer:
        with self._lock:
            if topic not in self._producers:
                self._producers[topic] = self._client.create_producer(
                    topic,
                    send_timeout_millis=self._send_timeout_ms,
                    block_if_queue_full=True,
                    compression_type=PAYLOAD_COMPRESSION,
                    message_router=_route_by_key,  # used on a partitioned topic only
                )
            return self._producers[topic]

    def _drop(self, topic: str) -> None:
        with self._lock:
            producer = self._producers.pop(topic, None)
        if producer is not None:
            with contextlib.suppress(pulsar.PulsarException):  # the broker is away; the producer goes anyway
                producer.close()

    @override
    def close(self) -> None:
        for topic in list(self._producers):
            self._drop(topic)


class PulsarMessageSource(MessageSource):
    """One consumer on a KeyShared subscription over several topics, read with ``batch_receive``."""

    def __init__(self, client: pulsar.Client, options: SubscriptionOptions, max_messages: int = 64) -> None:
        dead_letter = (
            pulsar.ConsumerDeadLetterPolicy(options.max_redeliveries, options.dead_letter_topic)
            if options.dead_letter_topic
            else None
        )
        self._consumer = client.subscribe(
            list(options.topics),
            options.subscription,
            consumer_type=pulsar.ConsumerType.KeyShared,
            consumer_name=options.consumer_name,
            receiver_queue_size=options.receiver_queue_size,
            initial_position=pulsar.InitialPosition.Earliest,
            batch_receive_policy=pulsar.ConsumerBatchReceivePolicy(max_messages, 64 * 1024 * 1024, 100),
            dead_letter_policy=dead_letter,
            negative_ack_redelivery_delay_ms=options.release_delay_ms,
        )
        self._closed = False

    @override
    def receive(self) -> list[ReceivedMessage]:
        # batch_receive waits for its own policy (100 ms); an empty answer means nothing is waiting.
        try:
            messages = self._consumer.batch_receive()
        except pulsar.PulsarException as exc:
            raise BrokerUnavailableError("receive", self._consumer.topic(), str(exc)) from exc
        return [_received(message) for message in messages]

    @override
    def acknowledge(self, messages: Sequence[ReceivedMessage]) -> None:
        try:
            for message in messages:
                self._consumer.acknowledge(message.handle)
        except pulsar.PulsarException as exc:
            # Unacknowledged messages are redelivered; idempotent writes make that harmless.
            raise BrokerUnavailableError("acknowledge", self._consumer.topic(), str(exc)) from exc

    @override
    def release(self, messages: Sequence[ReceivedMessage]) -> None:
        try:
            for message in messages:
                self._consumer.negative_acknowledge(message.handle)
        except pulsar.PulsarException as exc:
            raise BrokerUnavailableError("release", self._consumer.topic(), str(exc)) from exc

    @override
    def close(self) -> None:
        if self._closed:
            return  # closing twice is harmless (the Pulsar client's own close is not)
        self._closed = True
        with contextlib.suppress(pulsar.PulsarException):  # a consumer whose broker is gone: released broker-side
            self._consumer.close()


def _route_by_key(message: pulsar.Message, partitions: int) -> int:
    return partition_of(message.partition_key(), partitions)


def _received(message: pulsar.Message) -> ReceivedMessage:
    topic, partition = logical_topic(message.topic_name())
    return ReceivedMessage(
        topic=topic,
        payload=message.data(),
        properties=dict(message.properties()),
        key=message.partition_key(),
        message_id=str(message.message_id()),
        publish_time_ms=message.publish_timestamp(),
        redelivery_count=message.redelivery_count(),
        handle=message,
        partition=partition,
    )


class InMemoryBroker(Publisher):
    """A fake broker for unit tests: topics are queues, ``source`` hands them out, unacked ones can come back."""

    def __init__(self, max_message_bytes: int = 5 * 2**20, partitions: int = 0) -> None:
        self.topics: dict[str, list[OutgoingMessage]] = {}
        self.partitions = partitions  # 0: topics are not partitioned; else each key's partition as Pulsar's
        self.available = True
        self.max_message_bytes = max_message_bytes  # Pulsar's default maxMessageSize: 5 MB
        self._pending: deque[ReceivedMessage] = deque()
        self._unacked: dict[str, ReceivedMessage] = {}
        self._sequence = 0

    @override
    def send(self, message: OutgoingMessage) -> str:
        if len(message.payload) > self.max_message_bytes:
            raise BrokerRejectedError("send", message.topic, f"MessageTooBig: {len(message.payload):,} bytes (fake)")
        if not self.available:
            raise BrokerUnavailableError("send", message.topic, "broker unavailable (fake)")
        self.topics.setdefault(message.topic, []).append(message)
        self._sequence += 1
        message_id = f"{self._sequence}:0:-1"
        partition = partition_of(message.key, self.partitions) if self.partitions else None
        self._pending.append(
            ReceivedMessage(
                message.topic, message.payload, message.properties, message.key, message_id, 0, 0, None, partition
            )
        )
        return message_id

    def source(self, topics: Sequence[str] | None = None, max_messages: int = 64) -> MessageSource:
        """A consumer over ``topics`` (default: every topic but dead-letter ones), ``max_messages`` at a time."""
        return _InMemorySource(self, topics, max_messages)

    def redeliver_unacknowledged(self) -> None:
        """What the broker does when a consumer dies: its unacknowledged messages go out again."""
        self.redeliver(list(self._unacked.values()))

    def redeliver(self, messages: Sequence[ReceivedMessage]) -> None:
        """Deliver ``messages`` again, first in line, with their redelivery count raised."""
        for message in reversed(messages):
            self._unacked.pop(message.message_id, None)
            self._pending.appendleft(dataclasses.replace(message, redelivery_count=message.redelivery_count + 1))

    @property
    def backlog(self) -> int:
        """Messages not yet acknowledged."""
        return len(self._pending) + len(self._unacked)

    def backlog_of(self, topic: str) -> int:
        """Messages of one topic not yet acknowledged."""
        return sum(1 for m in (*self._pending, *self._unacked.values()) if m.topic == topic)


class _InMemorySource(MessageSource):
    def __init__(self, broker: InMemoryBroker, topics: Sequence[str] | None, max_messages: int) -> None:
        self._broker = broker
        self._max_messages = max_messages
        self._topics = set(topics) if topics is not None else None
        self._held: dict[str, ReceivedMessage] = {}

    def _wanted(self, topic: str) -> bool:
        return topic in self._topics if self._topics is not None else not topic.endswith("dead-letter")

    @override
    def receive(self) -> list[ReceivedMessage]:
        pending = self._broker._pending  # the fake's two halves share their queues
        batch = [message for message in pending if self._wanted(message.topic)][: self._max_messages]
        for message in batch:
            pending.remove(message)
            self._broker._unacked[message.message_id] = message
            self._held[message.message_id] = message
        return batch

    @override
    def acknowledge(self, messages: Sequence[ReceivedMessage]) -> None:
        for message in messages:
            self._broker._unacked.pop(message.message_id, None)
            self._held.pop(message.message_id, None)

    @override
    def release(self, messages: Sequence[ReceivedMessage]) -> None:
        for message in messages:
            self._held.pop(message.message_id, None)
        self._broker.redeliver(messages)

    @override
    def close(self) -> None:
        # What the broker does when a consumer leaves: what it held unacknowledged goes out again.
        held = [message for message in self._held.values() if message.message_id in self._broker._unacked]
        self._held.clear()
        self._broker.redeliver(held)
