"""The model registry: versioned AutoGluon predictors with their metadata, on any fsspec file system.

Layout under the registry URL (a local folder by default, ``abfs://models@account.dfs.core.windows.net/scalar`` or
any fsspec URL in production)::

    <family>/<zone>/versions/<version>/model/...      the AutoGluon predictor directory
    <family>/<zone>/versions/<version>/entry.json      metadata, metrics, data window, code version, decision
    <family>/<zone>/champion.json                      which version serves, since when and why

Versions are UTC timestamps plus a random suffix, so they sort by creation and never collide. An entry is written
after its model files, and the champion pointer after the entry: a reader never sees a pointer to a half-written
version. Every trained version is kept (rejected ones too, for the record); ``prune`` removes old rejected ones.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from scalar_ray.core.errors import ModelRegistryError
from scalar_ray.core.utc import parse_utc

__all__ = ["VERSION_PATTERN", "ChampionPointer", "ModelRegistry", "RegistryEntry", "new_version"]


@dataclass
class RegistryEntry:
    """One trained version of one family x zone model."""

    family: str
    zone: str
    version: str
    created_at: datetime
    status: str  # "champion", "rejected" ("promoted" at the moment of promotion is recorded in decision)
    decision: str
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    data_window: dict[str, datetime]  # start, end, train_end, issue_time
    rows: int
    config: dict[str, Any]
    code_version: str
    known_covariates: list[str]
    past_covariates: list[str]
    quantiles: list[float]
    horizon_steps: int
    resolution: str
    training_s: float
    notes: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    # The model of the predictor that forecasts (None: AutoGluon's best, usually the ensemble).
    serving_model: str | None = None
    # AutoGluon's best model and its backtest scores, also when the baseline serves instead.
    fitted_metrics: dict[str, Any] = field(default_factory=dict)
    # The forecast interval's backtest coverage and its conformal offsets (forecasting.calibration); None before.
    calibration: dict[str, Any] | None = None
    # The input checks that failed before training, when they did: this version's forecasts are the baseline's.
    fallback_reason: str | None = None

    @property
    def model_id(self) -> str:
        """``nordic_imbalance/DK1``."""
        return f"{self.family}/{self.zone}"

    def to_json(self) -> str:
        """The entry file's content (times as ISO 8601 with their offset)."""
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=_iso)

    @classmethod
    def from_json(cls, text: str) -> RegistryEntry:
        """An entry read back from its file."""
        fields = json.loads(text)
        fields["created_at"] = parse_utc(fields["created_at"])
        fields["data_window"] = {name: parse_utc(value) for name, value in fields["data_window"].items()}
        return cls(**fields)


@dataclass(frozen=True)
class ChampionPointer:
    """The champion of a family x zone."""

    version: str
    promoted_at: datetime
    reason: str

    def to_json(self) -> str:
        """The pointer file's content."""
        return json.dumps(asdict(self), indent=2, default=_iso)

    @classmethod
    def from_json(cls, text: str) -> ChampionPointer:
        """A pointer read back from its file."""
        fields = json.loads(text)
        return cls(fields["version"], parse_utc(fields["promoted_at"]), fields["reason"])


def _iso(value: object) -> str:
    """JSON for the one non-JSON type the registry's records hold."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# A version id is one path segment: letters, digits, "_", "." and "-", never a separator and never leading with a dot
# (new_version makes "20261126T010203Z-3fa9"; tests and hand promotions use short names like "v2").
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_EXAMPLE = "20261126T010203Z-3fa9"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # model families (dk_demand) and zones (DK1, DE-LU)


def new_version(now: datetime | None = None) -> str:
    """``20261126T010203Z-3fa9``: sortable by creation, unique."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


class ModelRegistry:
    """Store, list, promote and fetch model versions."""

    def __init__(self, url: str, cache_dir: Path) -> None:
        self.url = url
        try:
            self._fs, self._root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:  # an unknown protocol or a missing fsspec driver (adlfs for abfs)
            raise ModelRegistryError(url, f"cannot open the registry: {exc}") from exc
        self._root = self._root.rstrip("/")
        self._cache_dir = cache_dir
        self._lock = threading.Lock()

    @property
    def is_local(self) -> bool:
        """Whether versions are read in place (no download)."""
        return isinstance(self._fs, LocalFileSystem)

    def register(self, entry: RegistryEntry, model_dir: Path) -> RegistryEntry:
        """Upload the predictor directory and then its entry."""
        base = self._version_path(entry.family, entry.zone, entry.version)
        try:
            self._fs.makedirs(base, exist_ok=True)
            self._fs.put(str(model_dir).rstrip("/") + "/", f"{base}/model", recursive=True)
            self._write(f"{base}/entry.json", entry.to_json())
        except OSError as exc:
            raise ModelRegistryError(entry.model_id, f"cannot store version {entry.version}: {exc}") from exc
        return entry

    def promote(self, family: str, zone: str, version: str, reason: str) -> ChampionPointer:
        """Make ``version`` the champion (the previous champion's entry says it was replaced)."""
        entry = self.entry(family, zone, version)
        pointer = ChampionPointer(version, datetime.now(UTC).replace(microsecond=0), reason)
        previous = self.champion_pointer(family, zone)
        entry.status = "champion"
        self._write(f"{self._version_path(family, zone, version)}/entry.json", entry.to_json())
        self._write(f"{self._model_path(family, zone)}/champion.json", pointer.to_json())
        if previous is not None and previous.version != version:
            old = self.entry(family, zone, previous.version)
            old.status = "retired"
            old.decision += f"; replaced by {version} at {pointer.promoted_at.isoformat()}"
            self._write(f"{self._version_path(family, zone, previous.version)}/entry.json", old.to_json())
        return pointer

    def champion_pointer(self, family: str, zone: str) -> ChampionPointer | None:
        """The champion pointer, or None before the first promotion."""
        text = self._read(f"{self._model_path(family, zone)}/champion.json")
        return ChampionPointer.from_json(text) if text is not None else None

    def champion(self, family: str, zone: str) -> RegistryEntry | None:
        """The champion's entry, or None."""
        pointer = self.champion_pointer(family, zone)
        return self.entry(family, zone, pointer.version) if pointer else None

    def entry(self, family: str, zone: str, version: str) -> RegistryEntry:
        """One version's entry; ``ModelRegistryError`` if there is none."""
        text = self._read(f"{self._version_path(family, zone, version)}/entry.json")
        if text is None:
            raise ModelRegistryError(f"{family}/{zone}", f"no version {version}")
        return RegistryEntry.from_json(text)

    def versions(self, family: str, zone: str) -> list[RegistryEntry]:
        """Every version of a model, oldest first."""
        base = f"{self._model_path(family, zone)}/versions"
        if not self._fs.exists(base):
            return []
        names = sorted(Path(path).name for path in self._fs.ls(base, detail=False))
        return [self.entry(family, zone, name) for name in names if self._fs.exists(f"{base}/{name}/entry.json")]

    def models(self) -> list[tuple[str, str]]:
        """Every (family, zone) with at least one version."""
        found: list[tuple[str, str]] = []
        if not self._fs.exists(self._root):
            return found
        for family_path in sorted(self._fs.ls(self._root, detail=False)):
            if not self._fs.isdir(family_path):
                continue
            for zone_path in sorted(self._fs.ls(family_path, detail=False)):
                if self._fs.exists(f"{zone_path}/versions"):
                    found.append((Path(family_path).name, Path(zone_path).name))
        return found

    def model_dir(self, entry: RegistryEntry) -> Path:
        """A local directory with the version's predictor (downloaded once into the cache for remote registries)."""
        remote = f"{self._version_path(entry.family, entry.zone, entry.version)}/model"
        if self.is_local:
            return Path(remote)
        local = self._cache_dir / entry.family / entry.zone / entry.version
        with self._lock:
            if not (local / ".complete").exists():
                shutil.rmtree(local, ignore_errors=True)
                local.mkdir(parents=True)
                try:
                    self._fs.get(remote + "/", str(local) + "/", recursive=True)
                except OSError as exc:
                    raise ModelRegistryError(entry.model_id, f"cannot fetch version {entry.version}: {exc}") from exc
                (local / ".complete").touch()
        return local

    def prune(self, family: str, zone: str, keep_rejected: int = 10) -> list[str]:
        """Delete all but the newest ``keep_rejected`` rejected versions; champions and retired ones stay."""
        rejected = [e for e in self.versions(family, zone) if e.status == "rejected"]
        doomed = [e.version for e in rejected[: max(len(rejected) - keep_rejected, 0)]]
        for version in doomed:
            self._fs.rm(self._version_path(family, zone, version), recursive=True)
        return doomed

    def _model_path(self, family: str, zone: str) -> str:
        for name in (family, zone):
            if not _NAME.fullmatch(name):
                raise ModelRegistryError(f"{family}/{zone}", f"'{name[:80]}' is not a model family or zone name")
        return f"{self._root}/{family}/{zone}"

    def _version_path(self, family: str, zone: str, version: str) -> str:
        # Versions come from requests (a named version to predict with): checked by pattern, so that a version id
        # is never a path ("../../other_family/DK1/versions/…" once loaded another model's pickle).
        if not VERSION_PATTERN.fullmatch(version):
            raise ModelRegistryError(f"{family}/{zone}", f"'{version[:80]}' is not a version id (like {_EXAMPLE})")
        return f"{self._model_path(family, zone)}/versions/{version}"

    def _write(self, path: str, text: str) -> None:
        # Written beside and moved into place, so a reader sees the old file or the new one, never half of one.
        temporary = f"{path}.{secrets.token_hex(4)}.tmp"
        try:
            self._fs.pipe_file(temporary, text.encode())
            self._fs.mv(temporary, path)
        except OSError as exc:
            raise ModelRegistryError(path, f"cannot write: {exc}") from exc

    def _read(self, path: str) -> str | None:
        try:
            with self._fs.open(path, "rb") as handle:
                data: bytes = handle.read()
        except FileNotFoundError:
            return None
        return data.decode()
