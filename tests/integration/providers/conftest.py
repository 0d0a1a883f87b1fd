"""The provider simulator and settings that point every provider's client at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scalar_ray.config import Settings, load_settings
from scalar_ray.simulator import FaultConfig, SimulatorServer
from tests.integration.conftest import free_port

# Each provider's real path structure, under the simulator's /<provider> prefix.
PATHS = {
    "elia": ("/api/explore/v2.1", None, None),
    "entsoe": ("/api", None, None),
    "nordpool": ("/api/v2", "/portal/api", "/connect/token"),
    "energinet": ("", None, None),
    "meteologica": ("/api/v1", None, None),
    "volue": ("", None, "/oauth2/token"),
    "jao": ("", "/OWSMP", None),
}


def settings_for(base_url: str) -> Settings:
    return load_settings(simulator_environment(base_url))


def simulator_environment(base_url: str) -> dict[str, str]:
    """SCALAR_PROVIDERS__* variables that point every provider at a simulator on ``base_url``."""
    environment = {}
    for provider, (path, secondary, auth) in PATHS.items():
        prefix = f"SCALAR_PROVIDERS__{provider.upper()}__"
        environment[prefix + "BASE_URL"] = f"{base_url}/{provider}{path}"
        if secondary:
            environment[prefix + "SECONDARY_URL"] = f"{base_url}/{provider}{secondary}"
        if auth:
            environment[prefix + "AUTH_URL"] = f"{base_url}/{provider}{auth}"
        environment[prefix + "REQUESTS_PER_MINUTE"] = "100000"
    return environment


@pytest.fixture(scope="session")
def faulty_simulator() -> Iterator[SimulatorServer]:
    """The simulator answering 8 % of requests with 429 (Retry-After: 1) and 8 % with 503."""
    with SimulatorServer(free_port(), FaultConfig(rate_429=0.08, rate_5xx=0.08, retry_after_s=1, seed=3)) as server:
        yield server
