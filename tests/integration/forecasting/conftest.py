"""A provider simulator and eight days of its history in a DuckDB warehouse (through the warehouse actor, as the
platform has it), shared by the module's tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.warehouse import ensure_warehouse_actor
from scalar_ray.config import Settings, load_settings
from scalar_ray.forecasting.families import load_families
from scalar_ray.simulator.server import SimulatorServer
from scalar_ray.warehouse.remote import RemoteWarehouse
from tests.integration.conftest import free_port
from tests.integration.forecasting.history import forecasting_environment, load_history
from tests.integration.providers.conftest import simulator_environment

HISTORY_DAYS = 8


@pytest.fixture(scope="module")
def dk_history(ray_cluster: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a platform whose warehouse holds DK1's inputs of the DK families for the last eight days."""
    families = [load_families()[name] for name in ("dk_demand", "dk_dayahead")]
    data_dir: Path = tmp_path_factory.mktemp("forecasting")
    with SimulatorServer(free_port()) as simulator:
        settings = load_settings(
            {
                **simulator_environment(simulator.base_url),
                **forecasting_environment(families, ["DK1"]),
                "SCALAR_LOCAL__DATA_DIR": str(data_dir),
                "SCALAR_RAY__NAMESPACE": f"forecasting-{uuid.uuid4().hex[:8]}",
            }
        )
        ensure_warehouse_actor(settings)
        load_history(settings, RemoteWarehouse(settings.ray.namespace), HISTORY_DAYS)
    yield settings
