"""Which models the API serves and what the registry says about them.

The catalogue is the families' configuration (which family x zone exists) joined with the registry (which version is
champion, with what backtest metrics). A request for a model outside the configuration is an ``UnknownModelError``,
whatever the registry holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalar_ray.core.errors import ModelRegistryError
from scalar_ray.forecasting.families import FamilySpec
from scalar_ray.forecasting.registry import ModelRegistry, RegistryEntry
from scalar_ray.serving.errors import UnknownModelError, UnknownVersionError

__all__ = ["ModelCatalogue", "model_key", "parse_model_key", "version_summary"]


def model_key(family: str, zone: str, version: str) -> str:
    """``dk_demand/DK1@20261126T010203Z-3fa9``: one loadable version (the Serve multiplexing id)."""
    return f"{family}/{zone}@{version}"


def parse_model_key(key: str) -> tuple[str, str, str]:
    """(family, zone, version) of a model key; ``ValueError`` for anything else."""
    model, _, version = key.partition("@")
    family, _, zone = model.partition("/")
    if not (family and zone and version) or "/" in zone:
        raise ValueError(f"not a model key: {key!r} (expected family/zone@version)")
    return family, zone, version


@dataclass(frozen=True)
class ModelCatalogue:
    """The configured family x zone models and their registry entries."""

    families: dict[str, FamilySpec]
    registry: ModelRegistry
    zones: tuple[str, ...] | None = None

    @classmethod
    def of(cls, families: list[FamilySpec], registry: ModelRegistry, zones: list[str] | None) -> ModelCatalogue:
        """From the selected families (``forecast_families``) and zones."""
        return cls({spec.name: spec for spec in families}, registry, tuple(zones) if zones else None)

    def model_ids(self) -> list[str]:
        """Every served ``family/zone``."""
        return [f"{spec.name}/{zone}" for spec in self.families.values() for zone in self._zones(spec)]

    def spec(self, family: str, zone: str) -> FamilySpec:
        """The family of a served model; ``UnknownModelError`` otherwise."""
        spec = self.families.get(family)
        if spec is None or zone not in self._zones(spec):
            raise UnknownModelError(family, zone, self.model_ids())
        return spec

    def champion_version(self, family: str, zone: str) -> str | None:
        """The champion's version (read from the registry on each call), or None before the first promotion."""
        pointer = self.registry.champion_pointer(family, zone)
        return pointer.version if pointer else None

    def entry(self, family: str, zone: str, version: str) -> RegistryEntry:
        """One version's registry entry; ``UnknownVersionError`` if the registry has none."""
        self.spec(family, zone)
        try:
            return self.registry.entry(family, zone, version)
        except ModelRegistryError as exc:
            raise UnknownVersionError(f"{family}/{zone}", version) from exc

    def summary(self, family: str, zone: str, *, with_versions: bool = False) -> dict[str, Any]:
        """A model as the models endpoint lists it: configuration, champion with its metrics, versions."""
        spec = self.spec(family, zone)
        pointer = self.registry.champion_pointer(family, zone)
        champion = self.registry.entry(family, zone, pointer.version) if pointer else None
        summary: dict[str, Any] = {
            "model": f"{family}/{zone}",
            "family": family,
            "zone": zone,
            "description": spec.description,
            "targets": [series.split("/")[-1] for series in spec.target_ids(zone)],
            "resolution": spec.resolution,
            "horizon": spec.horizon,
            "horizon_steps": spec.horizon_steps,
            "quantiles": list(spec.quantiles),
            "champion": None,
        }
        if champion is not None and pointer is not None:
            summary["champion"] = {
                **version_summary(champion),
                "promoted_at": pointer.promoted_at,
                "promotion_reason": pointer.reason,
            }
        if with_versions:
            summary["versions"] = [version_summary(entry) for entry in self.registry.versions(family, zone)]
        return summary

    def _zones(self, spec: FamilySpec) -> list[str]:
        return [zone for zone in spec.zones if self.zones is None or zone in self.zones]


def version_summary(entry: RegistryEntry) -> dict[str, Any]:
    """What a user compares versions by: status, backtest metrics against the baseline, data window, serving model."""
    baseline_wql = entry.baseline_metrics.get("wql")
    wql = entry.metrics.get("wql")
    skill = 1 - wql / baseline_wql if wql is not None and baseline_wql else None
    return {
        "version": entry.version,
        "status": entry.status,
        "created_at": entry.created_at,
        "serving_model": entry.serving_model or entry.fitted_metrics.get("model"),
        "metrics": entry.metrics,
        "baseline_metrics": entry.baseline_metrics,
        "skill": round(skill, 4) if skill is not None else None,
        "data_window": entry.data_window,
        "training_s": entry.training_s,
        "decision": entry.decision,
        "code_version": entry.code_version,
    }
