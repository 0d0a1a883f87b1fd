"""The data spine on real services: Pulsar, Redis, a DuckDB file, Ray actors, and the provider simulator."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pulsar
import pytest
import ray

from actors.supervisor import start_platform
from scalar_ray.broker.admin import PulsarAdmin
from scalar_ray.broker.envelope import Envelope
from scalar_ray.broker.topics import acquisition_topic
from scalar_ray.config import Settings, load_settings
from scalar_ray.local import RedisServer
from scalar_ray.local.process import wait_until
from scalar_ray.local.pulsar import PulsarStandalone
from scalar_ray.operations import acquisition_actor_name, platform_status, prepare_topics, stop_order
from scalar_ray.simulator import SimulatorServer
from scalar_ray.status import AcquisitionStatus, ActorReport, IngestionStatus, PlatformStatus, TaskStatus
from scalar_ray.warehouse.remote import RemoteWarehouse
from tests.integration.conftest import free_port
from tests.integration.providers.conftest import simulator_environment

Key = tuple[str, object, object]
AUDIT_SUBSCRIPTION = "audit"


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    """The provider simulator without faults."""
    with SimulatorServer(free_port()) as server:
        yield server


@pytest.fixture
def spine_environment(
    service_settings: Settings,
    pulsar_broker: PulsarStandalone,
    redis_server: RedisServer,
    simulator: SimulatorServer,
    ray_cluster: None,
    tmp_path: Path,
) -> dict[str, str]:
    """Variables for a platform of its own: a fresh tenant (its own topics), namespace and data directory."""
    run = uuid.uuid4().hex[:8]
    return {
        **simulator_environment(simulator.base_url),
        "SCALAR_BROKER__SERVICE_URL": service_settings.broker.service_url,
        "SCALAR_BROKER__ADMIN_URL": str(service_settings.broker.admin_url),
        "SCALAR_BROKER__TENANT": f"t{run}",
        "SCALAR_CACHE__URL": str(service_settings.cache.url),
        "SCALAR_LOCAL__DATA_DIR": str(tmp_path / "data"),
        "SCALAR_RAY__NAMESPACE": f"spine-{run}",
        "SCALAR_INGESTION__REPLICAS": "2",
        "SCALAR_ACQUISITION__POLL_INTERVAL_S": "0.5",
    }


def _tasks(report: ActorReport) -> list[TaskStatus]:
    return list(report.detail.tasks.values()) if isinstance(report.detail, AcquisitionStatus) else []


class Platform:
    """A started platform and the checks the tests make on it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.warehouse = RemoteWarehouse(settings.ray.namespace)

    def status(self) -> PlatformStatus:
        return platform_status(self.settings)

    def replicas(self) -> list[IngestionStatus]:
        """Every live ingestion replica's status."""
        return [report.detail for report in self.status().reports(IngestionStatus).values()]  # type: ignore[misc]

    def acquisition(self, provider: str) -> AcquisitionStatus:
        """One provider's acquisition status."""
        detail = self.status().reports(AcquisitionStatus)[f"acquisition-{provider}"].detail
        assert isinstance(detail, AcquisitionStatus)
        return detail

    def tasks_run(self) -> tuple[int, int]:
        """(tasks that succeeded at least once, all tasks) over every acquisition actor."""
        tasks = [task for report in self.status().reports(AcquisitionStatus).values() for task in _tasks(report)]
        return sum(task.last_success is not None for task in tasks), len(tasks)

    def describe(self) -> str:
        """A short account for assertion messages: tasks run, failing tasks, backlog, replica counters."""
        status = self.status()
        lines = [f"tasks run {self.tasks_run()}, backlog {status.broker}"]
        lines += [f"{actor.name}: {actor.state}, restarts {actor.restarts}" for actor in status.actors]
        for name, report in status.reports(IngestionStatus).items():
            lines.append(f"{name}: {dataclasses.replace(report.detail, last_error='')}")  # type: ignore[type-var]
            lines.append(f"{name} last error: {report.detail.last_error[:300]}")  # type: ignore[union-attr]
        for name, report in status.reports(AcquisitionStatus).items():
            for task, state in report.detail.tasks.items():  # type: ignore[union-attr]
                if state.last_success is None or state.last_error:
                    lines.append(f"{name} {task}: {state}")
        return "\n".join(lines)

    def run_now(self, provider: str, datasets: list[str] | None = None, since: datetime | None = None) -> list[str]:
        """An operator's "fetch now" on one provider's acquisition actor (back to ``since``): the tasks made due."""
        actor = ray.get_actor(acquisition_actor_name(provider), namespace=self.settings.ray.namespace)
        due: list[str] = ray.get(actor.run_now.remote(datasets, since), timeout=30)
        return due

    def backlog(self) -> int:
        return sum(entry.backlog for entry in platform_status(self.settings).broker.backlog.values())

    def settled(self, timeout_s: float = 240) -> bool:
        """Every task ran once, the backlog is empty and the warehouse count stopped moving."""

        def quiet() -> bool:
            done, total = self.tasks_run()
            if not total or done < total or self.backlog():
                return False
            before = self.warehouse.count()
            time.sleep(2)
            return self.warehouse.count() == before and not self.backlog()

        return wait_until(quiet, timeout_s, interval_s=1)

    def stored_keys(self) -> list[Key]:
        table = self.warehouse.query("select series_id, ts, issued_at from observations")
        return list(zip(*(table[c].to_pylist() for c in ("series_id", "ts", "issued_at")), strict=True))

    def published_keys(self, providers: list[str]) -> set[Key]:
        """Every key in every message on the providers' topics, read back through the audit subscription."""
        client = pulsar.Client(self.settings.broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
        keys: set[Key] = set()
        try:
            topics = [acquisition_topic(self.settings.broker.tenant, p) for p in providers]
            consumer = client.subscribe(topics, AUDIT_SUBSCRIPTION, consumer_type=pulsar.ConsumerType.Shared)
            # Called once the platform settled: everything is on the topics. The first message may take the
            # subscription's connection to come; after it the consumer's queue is prefetched, and a quiet second
            # means the end.
            wait_ms = 10_000
            while True:
                try:
                    message = consumer.receive(timeout_millis=wait_ms)
                except pulsar.Timeout:
                    break
                wait_ms = 1000
                envelope = Envelope.decode(message.data(), dict(message.properties()))
                table = envelope.observations
                keys |= set(zip(*(table[c].to_pylist() for c in ("series_id", "ts", "issued_at")), strict=True))
                # Not acknowledged: the audit subscription keeps every message, so the check can be repeated.
        finally:
            client.close()
        return keys


@pytest.fixture
def start_spine(spine_environment: dict[str, str]) -> Iterator[object]:
    """Start a platform with extra settings; stopped (actors killed) at the end of the test."""
    started: list[Settings] = []

    def start(**overrides: str) -> Platform:
        settings = load_settings({**spine_environment, **overrides})
        started.append(settings)
        # The audit subscription exists before anything is published, so the broker keeps every message for it
        # (acknowledged messages are otherwise deleted once their ledger rolls over, e.g. at a broker restart).
        prepare_topics(settings)
        with PulsarAdmin(str(settings.broker.admin_url)) as admin:
            for provider, _ in settings.providers:
                admin.ensure_subscription(acquisition_topic(settings.broker.tenant, provider), AUDIT_SUBSCRIPTION)
        start_platform(settings)
        return Platform(settings)

    yield start
    for settings in started:
        # Clean-up, not a test of stopping (the local stack's journey runs `platform stop`): killed at once, where an
        # orderly stop waits for each actor's round to end, 3 to 9 s a test.
        for name in stop_order(settings):
            with contextlib.suppress(ValueError):  # not started, or gone already
                ray.kill(ray.get_actor(name, namespace=settings.ray.namespace), no_restart=True)
