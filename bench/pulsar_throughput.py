"""Raw Apache Pulsar throughput on the local standalone broker: the ceiling the data spine is measured against.

Producer cases are compared with one synchronous send per message (a round trip each, as a naive producer does);
consumer cases with receive-and-acknowledge one by one. Consumption is timed from a full backlog. Keys spread over
200 series, as the acquisition topics will be.
"""

from __future__ import annotations

import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulsar

from bench.report import markdown_table, publish
from scalar_ray.config import load_settings
from scalar_ray.local import PulsarStandalone

KEYS = [f"entsoe/A44/zone{i}/price" for i in range(200)]
KIB = 1024


@dataclass(frozen=True)
class ProducerCase:
    """One way of producing ``messages`` payloads of ``size`` bytes."""

    label: str
    messages: int
    size: int
    synchronous: bool = False
    options: dict[str, Any] = field(default_factory=dict)


PRODUCER_CASES = [
    ProducerCase("sync send, 1 KiB (baseline)", 3_000, KIB, synchronous=True, options={"batching_enabled": False}),
    ProducerCase("send_async, no batching, 1 KiB", 20_000, KIB, options={"batching_enabled": False}),
    ProducerCase(
        "send_async, default batching, 1 KiB",
        50_000,
        KIB,
        options={"batching_enabled": True, "batching_max_publish_delay_ms": 5},
    ),
    ProducerCase(
        "send_async, KeyBased batching over 200 keys, 1 KiB",
        30_000,
        KIB,
        options={
            "batching_enabled": True,
            "batching_type": pulsar.BatchingType.KeyBased,
            "batching_max_publish_delay_ms": 5,
        },
    ),
    ProducerCase(
        "send_async, no batching, 64 KiB (one Arrow window a message)",
        3_000,
        64 * KIB,
        options={"batching_enabled": False},
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def produce(client: pulsar.Client, topic: str, case: ProducerCase) -> None:
    producer = client.create_producer(topic, max_pending_messages=10_000, block_if_queue_full=True, **case.options)
    payload = b"x" * case.size
    for i in range(case.messages):
        if case.synchronous:
            producer.send(payload, partition_key=KEYS[i % len(KEYS)])
        else:
            producer.send_async(payload, None, partition_key=KEYS[i % len(KEYS)])
    producer.flush()
    producer.close()


def subscriber(client: pulsar.Client, topic: str) -> pulsar.Consumer:
    return client.subscribe(
        topic,
        "bench",
        consumer_type=pulsar.ConsumerType.KeyShared,
        receiver_queue_size=5_000,
        batch_receive_policy=pulsar.ConsumerBatchReceivePolicy(1_000, 4 * 2**20, 100),
    )


def consume_one_by_one(consumer: pulsar.Consumer, expected: int) -> None:
    for _ in range(expected):
        consumer.acknowledge(consumer.receive(timeout_millis=30_000))


def consume_batched(consumer: pulsar.Consumer, expected: int) -> None:
    received = 0
    while received < expected:
        messages = consumer.batch_receive()
        for message in messages:
            consumer.acknowledge(message)
        received += len(messages)


def rate_row(case: str, messages: int, size: int, seconds: float, baseline: float | None) -> dict[str, Any]:
    """One table row; ``baseline`` is the msg/s this case is compared with (None for a baseline itself)."""
    rate = messages / seconds
    return {
        "case": case,
        "messages": messages,
        "seconds": round(seconds, 2),
        "msg/s": round(rate),
        "MiB/s": round(rate * size / 2**20, 1),
        "vs baseline (msg/s)": f"{rate / baseline:.1f}x" if baseline else "1.0x",
    }


def run() -> list[dict[str, Any]]:
    """Start a broker, measure every case, stop it; return the table rows."""
    settings = load_settings(
        {
            "SCALAR_LOCAL__DATA_DIR": str(Path(tempfile.mkdtemp(prefix="scalar-bench-"))),
            "SCALAR_BROKER__SERVICE_URL": f"pulsar://127.0.0.1:{free_port()}",
            "SCALAR_BROKER__ADMIN_URL": f"http://127.0.0.1:{free_port()}",
            "SCALAR_LOCAL__PULSAR_QUICK_START": "false",  # peak throughput: the JVM's full compiler
        }
    )
    broker = PulsarStandalone(settings)
    broker.start()
    rows: list[dict[str, Any]] = []
    try:
        broker.wait_ready()
        client = pulsar.Client(settings.broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
        baseline: float | None = None
        for case in PRODUCER_CASES:
            topic = f"persistent://public/default/bench-{uuid.uuid4().hex[:8]}"
            seconds = timed(lambda case=case, topic=topic: produce(client, topic, case))  # type: ignore[misc]
            rows.append(rate_row(f"produce: {case.label}", case.messages, case.size, seconds, baseline))
            baseline = baseline or case.messages / seconds
        baseline = None
        backlog = 30_000
        for label, consume in (
            ("receive + ack one by one (baseline)", consume_one_by_one),
            ("batch_receive + ack", consume_batched),
        ):
            topic = f"persistent://public/default/bench-{uuid.uuid4().hex[:8]}"
            # Subscribe, close, fill: consumption is timed from a full backlog, not a prefetched receiver queue.
            subscriber(client, topic).close()
            produce(client, topic, ProducerCase("fill", backlog, KIB, options={"batching_enabled": True}))
            consumer = subscriber(client, topic)
            seconds = timed(lambda consume=consume, consumer=consumer: consume(consumer, backlog))  # type: ignore[misc]
            consumer.close()
            rows.append(rate_row(f"consume: {label}, 1 KiB", backlog, KIB, seconds, baseline))
            baseline = baseline or backlog / seconds
        client.close()
    finally:
        broker.stop()
    return rows


def main() -> None:
    rows = run()
    table = markdown_table(rows, list(rows[0]))
    print(table)
    body = (
        "Apache Pulsar 4.0.7 standalone (the `scalar-ray local` launcher, JDK 17, `journalSyncData=false`), one "
        "KeyShared subscription, payloads keyed over 200 series. Producer cases against one synchronous send per "
        "message; consumer cases against receive-and-acknowledge one by one, both from a full backlog.\n\n"
        f"{table}\n\n"
        "Reading: per-key batching over many keys makes tiny batches and loses most of batching's gain; the "
        "platform's message shape (one Arrow IPC window per message, tens of KiB, no batching) moves the most bytes. "
        "These are the raw limits the ingestion benchmark (issue 4) compares the data spine with."
    )
    publish("pulsar_throughput", "Pulsar raw throughput (local standalone)", body, {"rows": rows})


if __name__ == "__main__":
    main()
