from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from scalar_ray.config import load_settings
from scalar_ray.core.errors import ConfigurationError, LocalServiceError, PortInUseError
from scalar_ray.local import PulsarStandalone, RayHead, RedisServer
from scalar_ray.local.pulsar import find_java, java_major_version
from scalar_ray.local.service import loopback_port


def fake_jdk(tmp_path: Path, version_line: str) -> Path:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return home


@pytest.mark.parametrize(
    ("version_line", "major"),
    [
        pytest.param('openjdk version "17.0.15" 2025-04-15', 17, id="openjdk_17"),
        pytest.param('openjdk version "25" 2025-09-16', 25, id="temurin_25"),
        pytest.param('java version "1.8.0_412"', 8, id="java_8_legacy_scheme"),
    ],
)
def test_java_major_version_reads_every_version_scheme(tmp_path: Path, version_line: str, major: int) -> None:
    assert java_major_version(fake_jdk(tmp_path, version_line) / "bin" / "java") == major


def test_an_old_java_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(LocalServiceError, match=r"Java 11, Pulsar 4.0 needs 17\+.*SCALAR_LOCAL__JAVA_HOME"):
        find_java(fake_jdk(tmp_path, 'openjdk version "11.0.2" 2019-01-15'))


def test_a_java_home_without_java_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LocalServiceError, match="no java at"):
        find_java(tmp_path)


def test_missing_java_on_path_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(LocalServiceError, match=r"executable 'java' not found.*openjdk-17-jre-headless"):
        find_java(None)


def test_remote_urls_are_not_started_locally() -> None:
    with pytest.raises(ConfigurationError) as caught:
        loopback_port("pulsar://broker.prod:6650", "SCALAR_BROKER__SERVICE_URL")

    assert caught.value.setting == "SCALAR_BROKER__SERVICE_URL"
    assert "only runs services on 127.0.0.1" in str(caught.value)


def test_default_ports_follow_the_scheme() -> None:
    assert loopback_port("redis://localhost/0", "X") == 6379
    assert loopback_port("pulsar://127.0.0.1", "X") == 6650


def test_a_taken_port_is_reported_with_the_setting_that_moves_it(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = load_settings(
            {"SCALAR_CACHE__URL": f"redis://127.0.0.1:{port}/0", "SCALAR_LOCAL__DATA_DIR": str(tmp_path)}
        )

        with pytest.raises(PortInUseError) as caught:
            RedisServer(settings).start()

    assert caught.value.port == port
    assert "SCALAR_CACHE__URL" in str(caught.value)
    assert not (tmp_path / "run" / "redis.pid").exists()


def test_redis_password_goes_to_a_private_config_file_not_the_command_line(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "SCALAR_CACHE__PASSWORD": "p4ss",
            "SCALAR_LOCAL__DATA_DIR": str(tmp_path),
            "SCALAR_LOCAL__REDIS_SERVER": "/bin/true",
        }
    )

    spec = RedisServer(settings).prepare()

    conf = tmp_path / "redis" / "redis.conf"
    assert "requirepass p4ss" in conf.read_text()
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert not any("p4ss" in arg for arg in spec.argv)


def test_pulsar_configuration_takes_its_ports_from_the_broker_urls(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "SCALAR_BROKER__SERVICE_URL": "pulsar://127.0.0.1:16650",
            "SCALAR_BROKER__ADMIN_URL": "http://localhost:18080",
            "SCALAR_LOCAL__DATA_DIR": str(tmp_path),
        }
    )
    pulsar = PulsarStandalone(settings)

    conf = pulsar._standalone_conf()

    assert "brokerServicePort=16650" in conf.splitlines()
    assert "webServicePort=18080" in conf.splitlines()
    assert "bindAddress=127.0.0.1" in conf.splitlines()
    assert [p for p, _ in pulsar.ports()] == [16650, 18080]


def test_the_ray_head_gives_serves_haproxy_the_ports_of_its_settings(tmp_path: Path) -> None:
    # Serve's HAProxy binds 9101 and 8404 on every interface unless told otherwise: two heads on one machine (a
    # developer's stack beside the tests' own) would clash on them the moment the second API is deployed.
    settings = load_settings(
        {
            "SCALAR_RAY__HAPROXY_METRICS_PORT": "19101",
            "SCALAR_RAY__HAPROXY_STATS_PORT": "18404",
            "SCALAR_LOCAL__DATA_DIR": str(tmp_path),
            "SCALAR_RAY__AUTH_TOKEN": "unit-token",
        }
    )
    head = RayHead(settings)

    environment = head.prepare().env or {}

    assert environment["RAY_SERVE_HAPROXY_METRICS_PORT"] == "19101"
    assert environment["RAY_SERVE_HAPROXY_STATS_PORT"] == "18404"
    assert {(19101, "SCALAR_RAY__HAPROXY_METRICS_PORT"), (18404, "SCALAR_RAY__HAPROXY_STATS_PORT")} <= set(head.ports())
