"""Ingestion that follows the backlog, on real Pulsar, Ray and a DuckDB file: a burst waiting on the topics takes the
replicas from the fewest to the most, its drain brings them back, and every row is stored once."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import cast

import pulsar
import pyarrow as pa
import pyarrow.compute as pc
import ray

from actors.autoscaler import AutoscalerActor
from actors.supervisor import start_platform
from scalar_ray.broker.envelope import Envelope
from scalar_ray.broker.topics import acquisition_topic
from scalar_ray.config import Settings, load_settings
from scalar_ray.core.window import Window
from scalar_ray.local.process import wait_until
from scalar_ray.operations import (
    AUTOSCALER_ACTOR,
    ingestion_actor_name,
    platform_status,
    prepare_topics,
    stop_order,
)
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.status import ActorReport, AutoscalerStatus, IngestionStatus
from scalar_ray.warehouse.remote import RemoteWarehouse

STEP = timedelta(minutes=15)
START = datetime(2024, 1, 1, tzinfo=UTC)
MESSAGES, SERIES, POINTS = 6_000, 1, 96  # 576,000 rows in 6,000 messages: seconds of work for the replicas


def day_template(issued: datetime) -> pa.Table:
    """The first day of the burst's series; every other message is this table moved on by whole days."""
    window = Window(START, START + STEP * POINTS)
    builder = ObservationBuilder(FetchContext("entsoe", "A75", window, issued, "DK1"))
    for series in range(SERIES):
        for point in range(POINTS):
            builder.add(
                area="DK1",
                variable=f"generation_{series:02d}",
                ts=START + STEP * point,
                value=float(point),
                issued_at=issued,
                unit="MW",
                resolution="PT15M",
            )
    return builder.build()


def burst(client: pulsar.Client, topic: str) -> int:
    """Publish the burst (each message a new day of the same series, on 16 keys); rows published."""
    template = day_template(datetime.now(UTC) - timedelta(hours=1))
    ts = template.schema.get_field_index("ts")
    day_us = int((STEP * POINTS).total_seconds() * 1_000_000)
    producer = client.create_producer(topic, block_if_queue_full=True, max_pending_messages=500)
    rows = 0
    for index in range(MESSAGES):
        moved = pc.add(template["ts"].cast(pa.int64()), index * day_us).cast(template.schema.field(ts).type)
        table = template.set_column(ts, template.schema.field(ts), moved)
        start = START + STEP * POINTS * index
        payload, properties = Envelope(
            "entsoe", "A75", Window(start, start + STEP * POINTS), f"b{index}", table
        ).encode()
        producer.send_async(payload, None, properties=properties, partition_key=f"entsoe/A75/DK1/{index % 16}")
        rows += table.num_rows
    producer.flush()
    producer.close()
    return rows


def describe(settings: Settings) -> str:
    """The replicas' counters and the backlog per partition, for an assertion's message."""
    status = platform_status(settings)
    lines = [f"backlog {status.broker.backlog}"]
    lines += [f"{name}: {report.detail}" for name, report in status.reports(IngestionStatus).items()]
    lines += [f"{name}: {report.detail}" for name, report in status.reports(AutoscalerStatus).items()]
    return "\n".join(lines)


def test_a_burst_scales_ingestion_out_and_its_drain_scales_it_back(spine_environment: dict[str, str]) -> None:
    settings = load_settings(
        {
            **spine_environment,
            "SCALAR_INGESTION__REPLICAS": "1",
            "SCALAR_INGESTION__MAX_REPLICAS": "3",
            "SCALAR_INGESTION__SCALE_UP_BACKLOG": "200",
            "SCALAR_INGESTION__SCALE_DOWN_BACKLOG": "0",
            "SCALAR_INGESTION__SCALE_SUSTAIN_S": "0",
            "SCALAR_INGESTION__SCALE_COOLDOWN_S": "1",
            "SCALAR_INGESTION__SCALE_INTERVAL_S": "0.3",
        }
    )
    namespace = settings.ray.namespace
    prepare_topics(settings)  # the ingestion subscription exists before the burst: the broker keeps it all for it
    client = pulsar.Client(settings.broker.service_url)
    try:
        published = burst(client, acquisition_topic(settings.broker.tenant, "entsoe"))
    finally:
        client.close()

    start_platform(settings, acquisition=False, forecasting=False)
    try:
        autoscaler = ray.get_actor(AUTOSCALER_ACTOR, namespace=namespace)
        seen: list[AutoscalerStatus] = []

        def replicas_now() -> int:
            detail = cast("ActorReport", ray.get(autoscaler.status.remote(), timeout=10)).detail
            assert isinstance(detail, AutoscalerStatus)
            seen.append(detail)
            return detail.replicas

        assert wait_until(lambda: replicas_now() == 3, timeout_s=60, interval_s=0.2), seen[-3:]
        running = [ingestion_actor_name(i) for i in range(3)]
        assert all(ray.get_actor(name, namespace=namespace) for name in running)  # the third one is a real actor
        warehouse = RemoteWarehouse(namespace)
        assert wait_until(lambda: warehouse.count() == published, timeout_s=240, interval_s=1), (
            f"{warehouse.count():,} of {published:,} rows; {describe(settings)}"
        )
        assert wait_until(lambda: replicas_now() == 1, timeout_s=60, interval_s=0.2), seen[-3:]
        time.sleep(1)  # a stopped replica is killed after its planned stop: give the kill a moment
        for replica in (1, 2):
            with contextlib.suppress(ValueError):
                gone = ray.get_actor(ingestion_actor_name(replica), namespace=namespace)
                raise AssertionError(f"ingestion-{replica} still running after the drain: {gone}")
        last = seen[-1]
        assert last.changes >= 4 and last.backlog == 0, last  # 1 -> 2 -> 3, then 3 -> 2 -> 1
        assert warehouse.count() == published  # every row once: the replicas' hand-overs lost and doubled nothing
    finally:
        for name in stop_order(settings):
            with contextlib.suppress(ValueError):
                ray.kill(ray.get_actor(name, namespace=namespace), no_restart=True)


@ray.remote(num_cpus=0)
class ReplicaWhoseStopFails:
    """Stands in for an ingestion replica whose planned stop raises (its last write refused, say)."""

    def status(self) -> SimpleNamespace:
        return SimpleNamespace(detail=None)  # all the autoscaler reads of a replica: not an IngestionStatus

    def stop(self) -> None:
        raise RuntimeError("the last write was refused")


def test_a_replica_whose_planned_stop_fails_is_still_removed(spine_environment: dict[str, str]) -> None:
    # One replica allowed, two running: the policy takes the second away at its first round, and that stop raises.
    settings = load_settings({**spine_environment, "SCALAR_INGESTION__REPLICAS": "1"})
    namespace = settings.ray.namespace
    named = {"namespace": namespace, "lifetime": "detached"}
    replicas = [ReplicaWhoseStopFails.options(name=ingestion_actor_name(i), **named).remote() for i in range(2)]
    autoscaler = AutoscalerActor.options(name=AUTOSCALER_ACTOR, **named).remote(settings)  # type: ignore[attr-defined]
    try:

        def second_gone() -> bool:
            try:
                ray.get_actor(ingestion_actor_name(1), namespace=namespace)
            except ValueError:
                return True
            return False

        assert wait_until(second_gone, timeout_s=30, interval_s=0.2)
        report = cast("ActorReport", ray.get(autoscaler.status.remote(), timeout=10))
        assert isinstance(report.detail, AutoscalerStatus)
        assert (report.detail.replicas, report.detail.changes) == (1, 1), report
        assert report.loop_error == "", report  # the failed stop is the replica's, not a failed round
        assert ray.get_actor(ingestion_actor_name(0), namespace=namespace)  # the first one is left alone
    finally:
        for handle in (*replicas, autoscaler):
            ray.kill(handle, no_restart=True)
