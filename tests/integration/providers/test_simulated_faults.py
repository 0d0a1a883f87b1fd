"""Faults that retries cannot fix must surface as typed errors; slow answers must simply arrive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scalar_ray.core.errors import PayloadError
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.client import ClientOptions
from scalar_ray.providers.clients import build_client
from scalar_ray.providers.http import RetryPolicy
from scalar_ray.simulator import FaultConfig, SimulatorServer
from tests.integration.conftest import free_port
from tests.integration.providers.conftest import settings_for

pytestmark = pytest.mark.integration

DAY = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC))


@pytest.mark.parametrize("provider, dataset", [("entsoe", "A44"), ("energinet", "DayAheadPrices"), ("jao", "atc")])
def test_a_malformed_body_is_a_typed_error_naming_the_request(provider: str, dataset: str) -> None:
    with SimulatorServer(free_port(), FaultConfig(rate_malformed=1.0)) as simulator:
        spec = load_catalogue().get(provider, dataset)
        client = build_client(provider, settings_for(simulator.base_url))

        with pytest.raises(PayloadError) as caught:
            client.fetch(spec, spec.areas[0], DAY)
        requests = client.http.stats.requests
        client.close()

    assert (caught.value.provider, caught.value.dataset) == (provider, spec.key)
    assert caught.value.window == "2026-10-01T00:00Z/2026-10-02T00:00Z"
    assert requests == 1  # a parse failure is not retried blindly: the same bytes would fail again


def test_slow_answers_are_waited_for() -> None:
    with SimulatorServer(free_port(), FaultConfig(rate_slow=1.0, slow_s=0.5)) as simulator:
        spec = load_catalogue().get("entsoe", "A65-actual")
        client = build_client(
            "entsoe", settings_for(simulator.base_url), ClientOptions(policy=RetryPolicy(attempts=1), timeout_s=10)
        )
        table = client.fetch(spec, "DK1", DAY)
        client.close()

    assert table.num_rows == 96
