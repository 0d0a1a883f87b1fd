"""The platform's actor names and the order they stop in (pure: from the configuration)."""

from __future__ import annotations

from scalar_ray.config import load_settings
from scalar_ray.operations import AUTOSCALER_ACTOR, FORECASTING_ACTOR, WAREHOUSE_ACTOR, stop_order


def test_the_autoscaler_stops_first_then_producers_then_every_replica_then_the_warehouse() -> None:
    settings = load_settings({"SCALAR_INGESTION__REPLICAS": "20"})

    order = stop_order(settings)

    assert order[0] == AUTOSCALER_ACTOR  # else it would start replicas again while they stop
    producers = [name for name in order if name == FORECASTING_ACTOR or name.startswith("acquisition-")]
    assert order[1 : 1 + len(producers)] == producers and "acquisition-entsoe" in producers
    assert order[1 + len(producers) : -1] == [f"ingestion-{i}" for i in range(20)]  # beyond the default 16 too
    assert order[-1] == WAREHOUSE_ACTOR
    assert len(set(order)) == len(order)


def test_every_replica_the_autoscaler_may_start_is_stopped() -> None:
    settings = load_settings({"SCALAR_INGESTION__REPLICAS": "2", "SCALAR_INGESTION__MAX_REPLICAS": "24"})

    assert "ingestion-23" in stop_order(settings)
