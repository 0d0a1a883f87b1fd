"""docker-compose.yaml: valid against the Compose Specification (and accepted by docker-compose 1.29's `config`),
the seed's services, images, ports and start order, health-checked dependencies, and secrets only from `.env`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from scalar_ray.config import load_settings
from scalar_ray.core.errors import InvalidConfigurationError
from scalar_ray.serving.runtime import SERVE_PROCESS_ENVIRONMENT
from tests.conftest import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yaml"
# The Compose Specification's JSON schema, copied into the project with its SOURCE.md.
COMPOSE_SCHEMA = Path(__file__).parent / "schemas" / "compose" / "compose-spec.json"
# The seed's start order.
SEED_ORDER = [
    "starrocks-fe",
    "starrocks-be",
    "zookeeper",
    "pulsar-init",
    "bookie",
    "broker",
    "redis",
    "ray-head",
    "ray-worker",
    "otel-collector",
    "lgtm",
]
# What a user on the host needs: StarRocks HTTP, MySQL and the BE's Stream Load port, Redis, Pulsar's binary and admin
# ports, Grafana, OTLP. ZooKeeper (2181) stays inside: an open one lets anyone rewrite Pulsar's metadata.
SEED_PORTS = {8030, 9020, 9030, 8040, 6379, 6650, 8080, 3000, 4317, 4318}
INTERNAL_ONLY = {2181}
ONE_SHOTS = {"starrocks-init", "pulsar-init"}
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - containers listen beyond themselves; that is what is checked


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    # The spec declares draft-07, but its $schema URI lacks the trailing '#' that jsonschema keys drafts on.
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    validator.validate(compose)


def test_a_broken_compose_file_is_rejected_by_the_same_check(validator: jsonschema.Draft7Validator) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"services": {"pulsar": {"image": "x", "ports": {"not": "a list"}}}})


def docker_compose_config(tmp_path: Path, env_file: Path | None) -> subprocess.CompletedProcess[str]:
    """docker-compose 1.29's `config`.

    1.29 predates the top-level `name` (its `COMPOSE_PROJECT_NAME`), so that line goes.
    """
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: `make setup` installs it (Debian package docker-compose)"
    text = "\n".join(line for line in COMPOSE.read_text().splitlines() if not line.startswith("name: "))
    (tmp_path / "docker-compose.yaml").write_text(text)
    shutil.copytree(PROJECT_ROOT / "cluster", tmp_path / "cluster")
    command = [binary, "--project-directory", str(tmp_path), "-f", str(tmp_path / "docker-compose.yaml")]
    if env_file is not None:
        command += ["--env-file", str(env_file)]
    return subprocess.run([*command, "config", "-q"], capture_output=True, text=True, timeout=120, check=False)


def test_docker_compose_accepts_the_file_with_the_example_environment(tmp_path: Path) -> None:
    result = docker_compose_config(tmp_path, PROJECT_ROOT / ".env.example")
    assert result.returncode == 0, result.stderr


def test_without_the_env_file_compose_stops_and_names_the_missing_secret(tmp_path: Path) -> None:
    result = docker_compose_config(tmp_path, None)
    assert result.returncode != 0
    assert "set " in result.stderr and "in .env" in result.stderr


def test_the_seed_services_are_listed_and_started_in_the_seed_order(compose: dict[str, Any]) -> None:
    services = list(compose["services"])
    assert [name for name in services if name in SEED_ORDER] == SEED_ORDER
    # Every dependency is listed (and, with its condition, started) before its dependent.
    for index, name in enumerate(services):
        for dependency in compose["services"][name].get("depends_on", {}):
            assert services.index(dependency) < index, f"{name} depends on {dependency}, listed after it"
    seeded = [name for name in start_order(compose) if name in SEED_ORDER]
    assert seeded.index("starrocks-be") > seeded.index("starrocks-fe")
    assert seeded.index("broker") > seeded.index("bookie") > seeded.index("pulsar-init") > seeded.index("zookeeper")
    assert seeded.index("lgtm") > seeded.index("otel-collector") > seeded.index("ray-worker") > seeded.index("ray-head")


def start_order(compose: dict[str, Any]) -> list[str]:
    """A start order compose could take: a service after everything it depends on."""
    order: list[str] = []
    pending = list(compose["services"])
    while pending:
        ready = [n for n in pending if all(d in order for d in compose["services"][n].get("depends_on", {}))]
        assert ready, f"a dependency cycle among {pending}"
        order.append(ready[0])
        pending.remove(ready[0])
    return order


def test_dependencies_wait_for_health_checks_or_finished_one_shots(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        if name not in ONE_SHOTS:
            assert "healthcheck" in service, f"{name} has no health check"
        for dependency, rule in service.get("depends_on", {}).items():
            expected = "service_completed_successfully" if dependency in ONE_SHOTS else "service_healthy"
            assert rule["condition"] == expected, f"{name} → {dependency}"


def test_official_images_at_the_seed_versions_and_the_ray_image_from_the_project(compose: dict[str, Any]) -> None:
    images = {name: service.get("image", "") for name, service in compose["services"].items()}
    pom = (PROJECT_ROOT / "cluster" / "local" / "pulsar" / "pom.xml").read_text(encoding="utf-8")
    pulsar = pom.split("<pulsar.version>")[1].split("</pulsar.version>")[0]
    assert re.fullmatch(r"4\.0\.\d+", pulsar)
    assert {images[n] for n in ("zookeeper", "pulsar-init", "bookie", "broker")} == {f"apachepulsar/pulsar:{pulsar}"}
    assert re.fullmatch(r"starrocks/fe-ubuntu:3\.4\.\d+", images["starrocks-fe"])
    assert re.fullmatch(r"starrocks/be-ubuntu:3\.4\.\d+", images["starrocks-be"])
    assert images["redis"].startswith("redis/redis-stack-server:7.4.")
    assert images["lgtm"].startswith("grafana/otel-lgtm:")
    assert images["otel-collector"].startswith("otel/opentelemetry-collector-contrib:")
    assert compose["services"]["ray-head"]["build"]["dockerfile"] == "Dockerfile"
    assert images["ray-worker"] == images["ray-head"]


def test_the_seed_ports_are_published(compose: dict[str, Any]) -> None:
    published = {
        int(str(port).split(":")[0]) for service in compose["services"].values() for port in service.get("ports", [])
    }
    assert published >= SEED_PORTS
    assert not published & INTERNAL_ONLY


def test_secrets_come_only_from_the_env_file_and_the_example_names_them_all(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    optional = set(re.findall(r"\$\{([A-Z0-9_]+):-", text))
    example = dict(
        line.split("=", 1) for line in (PROJECT_ROOT / ".env.example").read_text().splitlines() if "=" in line
    )
    assert required <= set(example) and optional <= set(example)
    secretish = re.compile(r"PASSWORD|TOKEN|SECRET|API_KEYS")
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if secretish.search(key):
                assert str(value).startswith("${"), f"{name}.{key} is written in the file"
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored


def test_the_example_settings_are_settings_the_platform_accepts() -> None:
    example = dict(
        line.split("=", 1) for line in (PROJECT_ROOT / ".env.example").read_text().splitlines() if "=" in line
    )
    scalar = {key: value for key, value in example.items() if key.startswith("SCALAR_") and value}
    with pytest.raises(InvalidConfigurationError, match="SCALAR_SERVE__API_KEYS: an API key is still a placeholder"):
        load_settings({**scalar, "SCALAR_SERVE__HOST": ALL_INTERFACES})  # copied unchanged, the example is refused
    generated = {**scalar, "SCALAR_SERVE__API_KEYS": "Zx8q0vW3n5Rk2Lp7Tb4Yc9Hd"}
    settings = load_settings({**generated, "SCALAR_SERVE__HOST": ALL_INTERFACES})
    assert settings.serve.api_keys


def test_the_ray_containers_run_serve_as_the_platform_does_and_send_telemetry_to_the_collector(
    compose: dict[str, Any],
) -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    for name, value in SERVE_PROCESS_ENVIRONMENT.items():
        assert f"{name}={value}" in dockerfile
    environment = compose["services"]["ray-head"]["environment"]
    assert environment["SCALAR_TELEMETRY__OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert environment["SCALAR_SERVE__HOST"] == ALL_INTERFACES
    collector = compose["services"]["otel-collector"]
    assert "./cluster/otel/collector.yaml:/etc/otelcol/collector.yaml:ro" in collector["volumes"]


def test_the_broker_wants_a_token_from_every_client_and_the_platform_has_one(compose: dict[str, Any]) -> None:
    broker = compose["services"]["broker"]["environment"]

    assert broker["authenticationEnabled"] == "true" and broker["authorizationEnabled"] == "true"
    assert broker["authenticationProviders"].endswith("AuthenticationProviderToken")
    assert broker["tokenSecretKey"].startswith("data:;base64,${PULSAR_TOKEN_SECRET_KEY:?")  # from .env, never the file
    assert "Authorization" in " ".join(compose["services"]["broker"]["healthcheck"]["test"])
    for name in ("ray-head", "ray-worker"):
        assert compose["services"][name]["environment"]["SCALAR_BROKER__AUTH_TOKEN"].startswith("${PULSAR_CLIENT_TOKEN")
