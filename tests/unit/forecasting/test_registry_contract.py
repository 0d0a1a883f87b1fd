"""One contract for the model registry on every kind of store: a local folder and an fsspec ``memory://`` store
(the stand-in for Azure Blob's ``abfs://``, whose versions are downloaded into a local cache)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from scalar_ray.core.errors import ModelRegistryError
from scalar_ray.forecasting.registry import ModelRegistry, new_version
from tests.unit.forecasting.builders import NOW, entry, model_files


@pytest.fixture(params=["local", "memory"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> ModelRegistry:
    url = str(tmp_path / "registry") if request.param == "local" else f"memory://registry-{uuid.uuid4().hex}"
    return ModelRegistry(url, tmp_path / "cache")


def test_versions_are_stored_promoted_and_fetched(registry: ModelRegistry, tmp_path: Path) -> None:
    first, second = new_version(NOW), new_version(NOW + timedelta(seconds=1))

    registry.register(entry(first), model_files(tmp_path / "m1"))
    registry.register(entry(second), model_files(tmp_path / "m2"))
    registry.promote("test_demand", "DK1", first, "first model")
    registry.promote("test_demand", "DK1", second, "better")

    assert [e.version for e in registry.versions("test_demand", "DK1")] == [first, second]
    assert registry.champion_pointer("test_demand", "DK1").version == second  # type: ignore[union-attr]
    assert registry.entry("test_demand", "DK1", second).status == "champion"
    stored = registry.entry("test_demand", "DK1", second)
    # Times come back as the same UTC instants they were stored as, datetimes rather than text.
    assert (stored.created_at, stored.data_window) == (entry(second).created_at, entry(second).data_window)
    assert registry.champion_pointer("test_demand", "DK1").promoted_at.tzinfo is not None  # type: ignore[union-attr]
    retired = registry.entry("test_demand", "DK1", first)
    assert retired.status == "retired"
    assert f"replaced by {second}" in retired.decision
    assert registry.models() == [("test_demand", "DK1")]
    local = registry.model_dir(registry.entry("test_demand", "DK1", second))
    assert (local / "predictor.pkl").read_bytes() == b"model"
    assert (local / "nested" / "weights.bin").read_bytes() == b"weights"
    if not registry.is_local:
        assert str(local).startswith(str(tmp_path / "cache"))  # downloaded once, then read from the cache
        assert registry.model_dir(registry.entry("test_demand", "DK1", second)) == local


def test_an_empty_registry_has_no_models_no_versions_and_no_champion(registry: ModelRegistry) -> None:
    assert registry.models() == []
    assert registry.versions("test_demand", "DK1") == []
    assert registry.champion_pointer("test_demand", "DK1") is None
    assert registry.champion("test_demand", "DK1") is None


def test_an_unknown_version_is_a_clear_error(registry: ModelRegistry) -> None:
    with pytest.raises(ModelRegistryError, match="no version v9"):
        registry.entry("test_demand", "DK1", "v9")
    with pytest.raises(ModelRegistryError, match="no version v9"):
        registry.promote("test_demand", "DK1", "v9", "never registered")


def test_old_rejected_versions_are_pruned_and_champions_kept(registry: ModelRegistry, tmp_path: Path) -> None:
    versions = [new_version(NOW + timedelta(seconds=i)) for i in range(4)]
    for version in versions:
        registry.register(entry(version), model_files(tmp_path / version))
    registry.promote("test_demand", "DK1", versions[0], "first")

    removed = registry.prune("test_demand", "DK1", keep_rejected=1)

    assert removed == versions[1:3]
    assert [e.version for e in registry.versions("test_demand", "DK1")] == [versions[0], versions[3]]
    assert registry.champion_pointer("test_demand", "DK1").version == versions[0]  # type: ignore[union-attr]


def test_models_of_several_families_and_zones_are_listed_apart(registry: ModelRegistry, tmp_path: Path) -> None:
    for family, zone in (("test_demand", "DK2"), ("test_demand", "DK1"), ("other", "SE3")):
        version = new_version(NOW)
        registry.register(entry(version, zone, family), model_files(tmp_path / family / zone))

    assert registry.models() == [("other", "SE3"), ("test_demand", "DK1"), ("test_demand", "DK2")]


def test_an_unknown_protocol_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelRegistryError, match="cannot open the registry"):
        ModelRegistry("nosuchprotocol://bucket/models", tmp_path / "cache")
