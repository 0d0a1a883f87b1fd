"""docker-compose.yaml is checked against the Compose Specification schema (no Docker engine on these machines)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import PROJECT_ROOT, shared_file


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    # The spec declares draft-07, but its $schema URI lacks the trailing '#' that jsonschema keys drafts on.
    schema = json.loads(shared_file("schemas/compose/compose-spec.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))
    return loaded


def test_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    validator.validate(compose)


def test_a_broken_compose_file_is_rejected_by_the_same_check(validator: jsonschema.Draft7Validator) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"services": {"pulsar": {"image": "x", "ports": {"not": "a list"}}}})


def test_pulsar_image_matches_the_local_broker_version(compose: dict[str, Any]) -> None:
    pom = (PROJECT_ROOT / "cluster" / "local" / "pulsar" / "pom.xml").read_text(encoding="utf-8")
    local_version = pom.split("<pulsar.version>")[1].split("</pulsar.version>")[0]

    assert compose["services"]["pulsar"]["image"] == f"apachepulsar/pulsar:{local_version}"


def test_every_service_has_a_health_check(compose: dict[str, Any]) -> None:
    assert [name for name, service in compose["services"].items() if "healthcheck" not in service] == []
