"""The platform's actor names and the order they stop in (pure: from the configuration)."""

from __future__ import annotations

from scalar_ray.config import load_settings
from scalar_ray.operations import FORECASTING_ACTOR, WAREHOUSE_ACTOR, stop_order


def test_producers_stop_first_then_every_replica_then_the_warehouse() -> None:
    settings = load_settings({"SCALAR_INGESTION__REPLICAS": "20"})

    order = stop_order(settings)

    producers = [name for name in order if name == FORECASTING_ACTOR or name.startswith("acquisition-")]
    assert order[: len(producers)] == producers and "acquisition-entsoe" in producers
    assert order[len(producers) : -1] == [f"ingestion-{i}" for i in range(20)]  # beyond the default 16 too
    assert order[-1] == WAREHOUSE_ACTOR
    assert len(set(order)) == len(order)
