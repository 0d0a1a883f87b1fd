"""The platform's Pulsar client on a real broker: payloads kept out of the logs (a consumer of two topics), and
sent compressed.

The client's bridge to a Python logger reports DEBUG as enabled whatever the logger's level, and a multi-topic
consumer logs every received message at DEBUG with its whole payload (apache/pulsar-client-python#216): it ended up
on stdout, 650 MB for one back-fill's drain. The check runs in its own process: the C++ client's logger is global to
a process, set by whichever client came first.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import httpx
import pulsar
import pytest

from scalar_ray.broker.messaging import OutgoingMessage, PulsarPublisher
from scalar_ray.config import Settings

pytestmark = pytest.mark.integration

MARKER = "payload-that-must-not-be-logged"

CONSUMER = """
import sys, time
from scalar_ray.broker.messaging import OutgoingMessage, PulsarMessageSource, PulsarPublisher, SubscriptionOptions
from scalar_ray.composition import pulsar_client
from scalar_ray.config import load_settings

service_url, first, second, marker = sys.argv[1:]
client = pulsar_client(load_settings({"SCALAR_BROKER__SERVICE_URL": service_url}))
source = PulsarMessageSource(client, SubscriptionOptions((first, second), "logging-check", "checker"))
publisher = PulsarPublisher(client)
for topic in (first, second):
    # Binary, as an Arrow window is: the bridge failed to decode it and fell back to printing it raw.
    publisher.send(OutgoingMessage(topic, b"\\xff\\xfe" + marker.encode() + b"\\x00" * 64, {"kind": "check"}, "key"))
received, deadline = [], time.monotonic() + 30
while len(received) < 2 and time.monotonic() < deadline:
    batch = source.receive()
    source.acknowledge(batch)
    received += batch
print("received", len(received), flush=True)
source.close()
publisher.close()
client.close()
"""


def test_a_consumer_of_several_topics_never_writes_a_payload_to_the_logs(
    pulsar_broker: object, service_settings: Settings
) -> None:
    topics = [f"persistent://public/default/logging-{uuid.uuid4().hex[:8]}-{n}" for n in (1, 2)]

    run = subprocess.run(
        [sys.executable, "-c", CONSUMER, service_settings.broker.service_url, *topics, MARKER],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )

    assert "received 2" in run.stdout, run.stderr[-2000:]
    assert MARKER not in run.stdout
    assert MARKER not in run.stderr


def test_the_platforms_publisher_sends_payloads_compressed(
    pulsar_client: pulsar.Client, service_settings: Settings
) -> None:
    topic = f"persistent://public/default/compressed-{uuid.uuid4().hex[:8]}"
    consumer = pulsar_client.subscribe(topic, "check")  # the stats count what reaches a subscribed topic
    window = b"entsoe/A44/DK1/price 2026-10-25T00:00Z 42.0 " * 10_000  # as repetitive as an Arrow window is
    publisher = PulsarPublisher(pulsar_client)

    publisher.send(OutgoingMessage(topic, window, {"kind": "check"}, "key"))
    received = consumer.receive(timeout_millis=10_000)

    assert received.data() == window  # expanded on receipt
    admin_url = str(service_settings.broker.admin_url).rstrip("/")
    stats = httpx.get(f"{admin_url}/admin/v2/{topic.replace('://', '/')}/stats").json()
    assert 0 < stats["bytesInCounter"] < len(window) / 4
    consumer.close()
    publisher.close()
