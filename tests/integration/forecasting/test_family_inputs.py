"""Every family x zone finds its inputs: each target and required covariate is a series that the catalogue's dataset
serves for the zone, and the provider's client gets it from the simulator. The platform journey (test_local_stack.py)
trains every family on two countries' zones; this covers the configuration of all the others without a stack."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from scalar_ray.core.window import Window
from scalar_ray.forecasting.families import load_families
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.clients import build_client
from scalar_ray.simulator import SimulatorServer
from tests.integration.conftest import free_port
from tests.integration.providers.conftest import settings_for

pytestmark = pytest.mark.integration

DAY = Window(datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 10, 6, tzinfo=UTC))


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(free_port()) as server:
        yield server


def test_every_family_and_zone_gets_its_targets_and_required_covariates(simulator: SimulatorServer) -> None:
    wanted: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (provider, dataset key, area) -> series
    for spec in load_families().values():
        for zone in spec.zones:
            required = [*spec.targets, *(ref.template for ref in spec.covariates if not ref.optional)]
            for template in required:
                series = template.format(zone=zone)
                provider, key, area, _ = series.split("/")
                wanted[(provider, key, area)].add(series)

    # One document type can be several catalogue datasets (ENTSO-E's A65 is the actual load and the day-ahead one).
    catalogue = defaultdict(list)
    for dataset in load_catalogue():
        catalogue[(dataset.provider, dataset.key)].append(dataset)
    settings = settings_for(simulator.base_url)
    clients = {provider: build_client(provider, settings) for provider, _, _ in wanted}
    missing = []
    try:
        for (provider, key, area), series in sorted(wanted.items()):
            serving = [dataset for dataset in catalogue[(provider, key)] if area in dataset.areas]
            if not serving:
                missing.append(f"no {provider}/{key} dataset serves {area}: {sorted(series)}")
                continue
            fetched = {
                name
                for dataset in serving
                for name in clients[provider].fetch(dataset, area, DAY)["series_id"].to_pylist()
            }
            missing += [f"{name} is not in {provider}/{key}'s answer for {area}" for name in sorted(series - fetched)]
    finally:
        for client in clients.values():
            client.close()

    assert missing == []
