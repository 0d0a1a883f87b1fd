"""The forecasting schedule around the model registry (the registry's own contract: test_registry_contract.py)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scalar_ray.broker.messaging import InMemoryBroker
from scalar_ray.broker.spool import DiskSpool
from scalar_ray.core.errors import NoChampionError
from scalar_ray.core.forecasts import empty_forecasts
from scalar_ray.core.window import Window
from scalar_ray.forecasting.issuing import ForecastService, IssuedForecast, ModelState
from scalar_ray.forecasting.registry import ModelRegistry, new_version
from scalar_ray.warehouse.base import InMemoryWarehouse
from tests.conftest import Captured
from tests.unit.forecasting.builders import NOW, entry, model_files, small_family


class CountingService(ForecastService):
    """The schedule without AutoGluon: predict returns an empty forecast and counts calls per zone."""

    calls: list[str]
    broken: frozenset[str] = frozenset()

    def predict(self, spec, zone, issue_time):  # type: ignore[no-untyped-def, override]
        entry = self.registry.champion(spec.name, zone)
        state = self._states.setdefault((spec.name, zone), ModelState(spec.name, zone))
        state.tried_version = entry.version if entry else None
        self.calls.append(zone)
        if entry is None:
            raise NoChampionError(spec.name, zone)
        if zone in self.broken:
            raise RuntimeError("the model's files are unreadable")
        return IssuedForecast(
            spec.name, zone, entry.version, issue_time, Window(NOW, NOW + timedelta(hours=1)), empty_forecasts()
        )


def test_families_run_on_schedule_and_a_new_champion_is_used_at_once(tmp_path: Path) -> None:
    registry = ModelRegistry(str(tmp_path / "registry"), tmp_path / "cache")
    spec = small_family(zones=["DK1", "DK2"], schedule={"every": "PT1H"})
    service = CountingService([spec], InMemoryWarehouse(), registry, None, "forecasts")
    service.calls = []
    start = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)

    assert service.run_due(start) == []  # first run: no champions yet, both tried
    assert service.calls == ["DK1", "DK2"]
    assert service.run_due(start + timedelta(minutes=1)) == []  # not due, nothing new
    assert service.calls == ["DK1", "DK2"]

    version = new_version(start)
    registry.register(entry(version, "DK2"), model_files(tmp_path / "m"))
    registry.promote("test_demand", "DK2", version, "first model")
    issued = service.run_due(start + timedelta(minutes=2))  # DK2's new champion forecasts now, DK1 waits

    assert [f.zone for f in issued] == ["DK2"]
    assert service.calls == ["DK1", "DK2", "DK2"]
    service.run_due(start + timedelta(minutes=3))
    assert service.calls == ["DK1", "DK2", "DK2"]
    service.run_due(start + timedelta(hours=1))  # the hourly schedule: every zone
    assert service.calls[-2:] == ["DK1", "DK2"]
    assert service.snapshot().next_runs == {"test_demand": datetime(2026, 11, 20, 12, tzinfo=UTC)}
    states = {s.model: s for s in service.snapshot().models}
    assert states["test_demand/DK1"].awaiting_model and states["test_demand/DK1"].error is None
    assert not states["test_demand/DK2"].awaiting_model and states["test_demand/DK2"].issued == 2


def test_no_champion_is_counted_as_its_own_outcome_not_as_a_failure(tmp_path: Path, captured: Captured) -> None:
    def outcomes() -> Counter[str]:
        counted: Counter[str] = Counter()
        for point in captured.telemetry.points():
            if point.metric == "scalar.forecast.completed" and point.attributes["scalar.family"] == spec.name:
                counted[point.attributes["scalar.outcome"]] += int(point.value)
        return counted

    registry = ModelRegistry(str(tmp_path / "registry"), tmp_path / "cache")
    spec = small_family(name=f"outcomes_{uuid.uuid4().hex[:6]}", zones=["DK1", "DK2", "SE3"])
    service = CountingService([spec], InMemoryWarehouse(), registry, None, "forecasts")
    service.calls, service.broken = [], frozenset({"SE3"})
    for zone in ("DK2", "SE3"):
        version = new_version(NOW)
        registry.register(entry(version, zone, family=spec.name), model_files(tmp_path / zone))
        registry.promote(spec.name, zone, version, "first model")
    before = outcomes()

    service.run_due(NOW)

    assert outcomes() - before == Counter({"no_model": 1, "ok": 1, "failed": 1})
    states = {s.model: s for s in service.snapshot().models}
    waiting = states[f"{spec.name}/DK1"]
    assert (waiting.awaiting_model, waiting.failures, waiting.error) == (True, 0, None)
    assert states[f"{spec.name}/SE3"].failures == 1
    assert "unreadable" in (states[f"{spec.name}/SE3"].error or "")


def test_a_forecast_issued_while_the_broker_is_away_waits_in_the_spool_and_goes_out_when_it_is_back(
    tmp_path: Path,
) -> None:
    registry = ModelRegistry(str(tmp_path / "registry"), tmp_path / "cache")
    spec = small_family(zones=["DK1"], schedule={"every": "PT1H"})
    version = new_version(NOW)
    registry.register(entry(version, "DK1"), model_files(tmp_path / "m"))
    registry.promote("test_demand", "DK1", version, "first model")
    broker, spool = InMemoryBroker(), DiskSpool(tmp_path / "spool")
    service = CountingService([spec], InMemoryWarehouse(), registry, broker, "forecasts", spool=spool)
    service.calls = []
    broker.available = False
    start = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)

    issued = service.run_due(start)

    assert [f.zone for f in issued] == ["DK1"] and len(spool) == 1  # it used to be lost
    assert "forecasts" not in broker.topics
    broker.available = True
    service.run_due(start + timedelta(minutes=1))
    (sent,) = broker.topics["forecasts"]
    assert sent.key == "scalar/test_demand/DK1" and len(spool) == 0
