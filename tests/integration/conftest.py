"""Real services for the integration tests, started once per test session through the same launchers that
`scalar-ray local up` uses, on free loopback ports and a temporary data directory."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pulsar
import pytest
import redis
from selenium.webdriver.remote.webdriver import WebDriver

from scalar_ray.broker import PulsarAdmin
from scalar_ray.config import Settings, load_settings
from scalar_ray.local import LocalService, PulsarStandalone, RedisServer
from scalar_ray.serving.runtime import LOCAL_SERVE_PROCESS_ENVIRONMENT
from tests.integration.browser import chromium

# What the session's services reported, printed in the terminal summary so the log shows what was tested.
SERVICE_VERSIONS: dict[str, str] = {}


@contextmanager
def running(service: LocalService) -> Iterator[None]:
    """Start ``service``, wait until it answers, and stop it afterwards whatever happens."""
    service.start()
    try:
        service.wait_ready()
        yield
    finally:
        service.stop()


# Ports for the services the tests start, below Linux's ephemeral range (32768-60999): a port the kernel picked for
# the probe could be handed to any outgoing connection (the Pulsar client opens one per partition) before the
# service binds it, as happened to HAProxy's metrics port once.
_SERVICE_PORTS = range(20_000, 32_768)
_handed_out: set[int] = set()


def free_port() -> int:
    """A port free on every interface a moment ago, outside the ephemeral range, not handed out before here."""
    for port in random.sample(_SERVICE_PORTS, 500):
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))  # noqa: S104 - probing what a service binding every interface needs
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port in 20000-32767")


@pytest.fixture(scope="session")
def service_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("scalar-data")
    return load_settings(
        {
            "SCALAR_LOCAL__DATA_DIR": str(data_dir),
            "SCALAR_BROKER__SERVICE_URL": f"pulsar://127.0.0.1:{free_port()}",
            "SCALAR_BROKER__ADMIN_URL": f"http://127.0.0.1:{free_port()}",
            "SCALAR_CACHE__URL": f"redis://127.0.0.1:{free_port()}/0",
            "SCALAR_LOCAL__PULSAR_HEAP_MB": "768",
        }
    )


@pytest.fixture(scope="session")
def pulsar_broker(service_settings: Settings) -> Iterator[PulsarStandalone]:
    """A real Apache Pulsar standalone broker."""
    broker = PulsarStandalone(service_settings)
    with running(broker), PulsarAdmin(service_settings.broker.admin_url) as admin:
        SERVICE_VERSIONS["Apache Pulsar broker (admin API /brokers/version)"] = admin.version()
        yield broker


@pytest.fixture(scope="session")
def pulsar_admin(pulsar_broker: PulsarStandalone, service_settings: Settings) -> Iterator[PulsarAdmin]:
    with PulsarAdmin(service_settings.broker.admin_url) as admin:
        yield admin


@pytest.fixture(scope="session")
def pulsar_client(pulsar_broker: PulsarStandalone, service_settings: Settings) -> Iterator[pulsar.Client]:
    # The C++ client logs every connection at INFO on stdout; route it through Python logging instead.
    client = pulsar.Client(service_settings.broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
    yield client
    client.close()


@pytest.fixture(scope="session")
def redis_server(service_settings: Settings) -> Iterator[RedisServer]:
    """A real Redis server."""
    server = RedisServer(service_settings)
    with running(server):
        SERVICE_VERSIONS["Redis server (INFO server)"] = server.status().detail
        yield server


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One real local Ray instance for the whole session (never the developer's running cluster)."""
    import ray

    # Serve as the platform runs it (HAProxy before direct-ingress replicas); Ray's processes inherit this.
    monkeypatch = pytest.MonkeyPatch()
    for name, value in LOCAL_SERVE_PROCESS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    # Serve's HAProxy binds fixed ports by default: free ones, never a local stack's (another worker may run one).
    monkeypatch.setenv("RAY_SERVE_HAPROXY_METRICS_PORT", str(free_port()))
    monkeypatch.setenv("RAY_SERVE_HAPROXY_STATS_PORT", str(free_port()))
    ray.init(
        address="local",
        num_cpus=2,
        # The state API (actor states and restarts in `scalar-ray status`) is served by the dashboard, on a free port:
        # never the one of a Ray a developer runs beside the tests.
        include_dashboard=True,
        dashboard_port=free_port(),
        namespace="scalar-tests",
        configure_logging=False,
        log_to_driver=False,
    )
    SERVICE_VERSIONS["Ray (local instance)"] = ray.__version__
    yield
    ray.shutdown()
    monkeypatch.undo()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SERVICE_VERSIONS:
        terminalreporter.section("real services under test")
        for name, version in SERVICE_VERSIONS.items():
            terminalreporter.write_line(f"{name}: {version}")


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless Debian chromium for a module's browser tests (tests/integration/browser.py)."""
    with chromium() as driver:
        yield driver
