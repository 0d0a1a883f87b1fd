"""The embedded warehouse's DuckDB file: nothing to run, but `local up` creates it and `local status` checks it."""

from __future__ import annotations

import duckdb

from scalar_ray.config.settings import Settings
from scalar_ray.core.errors import LocalServiceError
from scalar_ray.local.service import LocalService, ServiceState, ServiceStatus

__all__ = ["DuckDBFile"]


class DuckDBFile(LocalService):
    """The DuckDB database file under the data directory."""

    def __init__(self, settings: Settings) -> None:
        self.name = "duckdb"
        self.path = settings.duckdb_path

    def start(self) -> bool:
        """Create the database file if it does not exist yet."""
        if self.path.exists():
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            duckdb.connect(str(self.path)).close()
        except duckdb.Error as exc:
            raise LocalServiceError(self.name, f"cannot create {self.path}: {exc}") from exc
        return True

    def wait_ready(self) -> None:
        """A file is ready as soon as it exists."""

    def stop(self) -> bool:
        """The file stays: it is the warehouse."""
        return False

    def status(self) -> ServiceStatus:
        """Open the file read-only and report its size; a lock held by a writer is still a healthy file."""
        if not self.path.exists():
            return ServiceStatus(self.name, ServiceState.STOPPED, "no database file yet", str(self.path))
        size_mb = self.path.stat().st_size / 1e6
        try:
            with duckdb.connect(str(self.path), read_only=True) as connection:
                version = connection.execute("select version()").fetchone()
        except duckdb.IOException as exc:
            # DuckDB allows one writing process; an ingestion actor holding the lock is the normal case.
            if "lock" in str(exc).lower():
                return ServiceStatus(
                    self.name, ServiceState.AVAILABLE, f"{size_mb:.1f} MB, open by a writer", str(self.path)
                )
            return ServiceStatus(self.name, ServiceState.UNHEALTHY, str(exc), str(self.path))
        except duckdb.Error as exc:
            return ServiceStatus(self.name, ServiceState.UNHEALTHY, str(exc), str(self.path))
        label = version[0] if version else "?"
        return ServiceStatus(self.name, ServiceState.AVAILABLE, f"DuckDB {label}, {size_mb:.1f} MB", str(self.path))
