"""The model registry on fsspec file systems, and the forecasting schedule around it."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scalar_ray.core.errors import ModelRegistryError, NoChampionError
from scalar_ray.core.observations import empty_observations
from scalar_ray.core.window import Window
from scalar_ray.forecasting.issuing import ForecastService, IssuedForecast, ModelState
from scalar_ray.forecasting.registry import ModelRegistry, RegistryEntry, new_version
from scalar_ray.warehouse.base import InMemoryWarehouse
from tests.conftest import Captured
from tests.unit.forecasting.builders import NOW, small_family


def entry(version: str, zone: str = "DK1", family: str = "test_demand") -> RegistryEntry:
    return RegistryEntry(
        family=family,
        zone=zone,
        version=version,
        created_at=NOW.isoformat(),
        status="rejected",
        decision="first model",
        metrics={"wql": 0.1},
        baseline_metrics={"wql": 0.2},
        champion_metrics=None,
        data_window={"start": "a", "end": "b", "train_end": "a"},
        rows=10,
        config={},
        code_version="0.1.0",
        known_covariates=[],
        past_covariates=[],
        quantiles=[0.5],
        horizon_steps=16,
        resolution="PT15M",
        training_s=1.0,
    )


def model_files(root: Path) -> Path:
    (root / "nested").mkdir(parents=True)
    (root / "predictor.pkl").write_bytes(b"model")
    (root / "nested" / "weights.bin").write_bytes(b"weights")
    return root


@pytest.mark.parametrize("remote", [False, True])
def test_versions_are_stored_promoted_and_fetched(tmp_path: Path, remote: bool) -> None:
    url = f"memory://registry-{uuid.uuid4().hex}" if remote else str(tmp_path / "registry")
    registry = ModelRegistry(url, tmp_path / "cache")
    first, second = new_version(NOW), new_version(NOW + timedelta(seconds=1))

    registry.register(entry(first), model_files(tmp_path / "m1"))
    registry.register(entry(second), model_files(tmp_path / "m2"))
    registry.promote("test_demand", "DK1", first, "first model")
    registry.promote("test_demand", "DK1", second, "better")

    assert registry.is_local is not remote
    assert [e.version for e in registry.versions("test_demand", "DK1")] == [first, second]
    assert registry.champion_pointer("test_demand", "DK1").version == second  # type: ignore[union-attr]
    assert registry.entry("test_demand", "DK1", second).status == "champion"
    retired = registry.entry("test_demand", "DK1", first)
    assert retired.status == "retired"
    assert f"replaced by {second}" in retired.decision
    assert registry.models() == [("test_demand", "DK1")]
    local = registry.model_dir(registry.entry("test_demand", "DK1", second))
    assert (local / "predictor.pkl").read_bytes() == b"model"
    assert (local / "nested" / "weights.bin").read_bytes() == b"weights"
    if remote:
        assert str(local).startswith(str(tmp_path / "cache"))


def test_an_unknown_version_and_an_unknown_protocol_are_clear_errors(tmp_path: Path) -> None:
    registry = ModelRegistry(str(tmp_path / "registry"), tmp_path / "cache")

    with pytest.raises(ModelRegistryError, match="no version v9"):
        registry.entry("test_demand", "DK1", "v9")
    with pytest.raises(ModelRegistryError, match="cannot open the registry"):
        ModelRegistry("nosuchprotocol://bucket/models", tmp_path / "cache")


def test_old_rejected_versions_are_pruned_and_champions_kept(tmp_path: Path) -> None:
    registry = ModelRegistry(str(tmp_path / "registry"), tmp_path / "cache")
    versions = [new_version(NOW + timedelta(seconds=i)) for i in range(4)]
    for version in versions:
        registry.register(entry(version), model_files(tmp_path / version))
    registry.promote("test_demand", "DK1", versions[0], "first")

    removed = registry.prune("test_demand", "DK1", keep_rejected=1)

    assert removed == versions[1:3]
    assert [e.version for e in registry.versions("test_demand", "DK1")] == [versions[0], versions[3]]
    pointer = json.loads((tmp_path / "registry/test_demand/DK1/champion.json").read_text())
    assert pointer["version"] == versions[0]


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
            spec.name, zone, entry.version, issue_time, Window(NOW, NOW + timedelta(hours=1)), empty_observations()
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
    assert service.next_runs() == {"test_demand": "2026-11-20T12:00:00+00:00"}
    states = {s["model"]: s for s in service.snapshot()}
    assert states["test_demand/DK1"]["awaiting_model"] and states["test_demand/DK1"]["error"] is None
    assert not states["test_demand/DK2"]["awaiting_model"] and states["test_demand/DK2"]["issued"] == 2


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
    states = {s["model"]: s for s in service.snapshot()}
    assert states[f"{spec.name}/DK1"] | {"duration_s": 0} == {
        **states[f"{spec.name}/DK1"],
        "awaiting_model": True,
        "failures": 0,
        "error": None,
        "duration_s": 0,
    }
    assert states[f"{spec.name}/SE3"]["failures"] == 1
    assert "unreadable" in states[f"{spec.name}/SE3"]["error"]
