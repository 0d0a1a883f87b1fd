"""What every embedded local service offers the stack: start, wait until ready, stop, and report its status."""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from scalar_ray.core.errors import ConfigurationError, LocalServiceError, PortInUseError, ServiceStartTimeoutError
from scalar_ray.local.process import ManagedProcess, ProcessSpec, StopStage, port_is_free, wait_until

__all__ = [
    "LocalService",
    "ProcessService",
    "ServiceState",
    "ServiceStatus",
    "find_executable",
    "loopback_port",
]

_DEFAULT_PORTS = {"pulsar": 6650, "pulsar+ssl": 6651, "http": 80, "https": 443, "redis": 6379, "rediss": 6379}


class ServiceState(StrEnum):
    """How a local service is doing."""

    RUNNING = "running"
    AVAILABLE = "available"  # healthy, but nothing runs: a database file
    UNHEALTHY = "unhealthy"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ServiceStatus:
    """One line of `scalar-ray local status`."""

    name: str
    state: ServiceState
    detail: str
    endpoint: str
    pid: int | None = None
    log_file: Path | None = None

    @property
    def healthy(self) -> bool:
        """Whether the service is up and answering."""
        return self.state in (ServiceState.RUNNING, ServiceState.AVAILABLE)


class LocalService(ABC):
    """An embedded service of the one-machine stack."""

    name: str

    def preflight(self) -> None:  # noqa: B027 - optional hook: services with nothing to check inherit the no-op
        """Check what must hold before anything is launched (free ports, executables); raise if not."""

    @abstractmethod
    def start(self) -> bool:
        """Launch the service unless it already runs; True if this call launched it. Does not wait."""

    @abstractmethod
    def wait_ready(self) -> None:
        """Block until the service answers; raise ``LocalServiceError`` if it dies or times out."""

    @abstractmethod
    def stop(self) -> bool:
        """Stop the service; True if something was running."""

    @abstractmethod
    def status(self) -> ServiceStatus:
        """Probe the service now."""


class ProcessService(LocalService):
    """A local service that is one detached process, health-checked through its own protocol."""

    def __init__(self, name: str, data_dir: Path, start_timeout_s: float) -> None:
        self.name = name
        self.data_dir = data_dir
        self.start_timeout_s = start_timeout_s
        self.log_file = data_dir / "logs" / f"{name}.log"
        self._process = ManagedProcess(
            ProcessSpec(
                name=name,
                argv=(),
                cwd=data_dir,
                log_file=self.log_file,
                pid_file=data_dir / "run" / f"{name}.pid",
            )
        )

    @abstractmethod
    def ports(self) -> list[tuple[int, str]]:
        """The loopback ports the service binds, each with the setting that chooses it."""

    @abstractmethod
    def endpoint(self) -> str:
        """Where clients reach the service."""

    @abstractmethod
    def prepare(self) -> ProcessSpec:
        """Check prerequisites, write configuration files and return how to run the process."""

    @abstractmethod
    def probe(self) -> tuple[bool, str]:
        """Ask the running service whether it is ready; (ready, detail such as its version)."""

    def preflight(self) -> None:
        """Unless ours already runs, every port must be free: a port held by a stranger is an error."""
        if self._process.pid() is not None:
            return
        for port, setting in self.ports():
            if not port_is_free(port):
                raise PortInUseError(self.name, port, setting)

    def start(self) -> bool:
        """Launch the process unless ours already runs."""
        if self._process.pid() is not None:
            return False
        self.preflight()
        self._process = ManagedProcess(self.prepare())
        self._process.start()
        return True

    def wait_ready(self) -> None:
        """Poll the probe until ready; fail fast if the process exits, with the log's path."""
        if wait_until(lambda: self.probe()[0], self.start_timeout_s, interval_s=0.5, give_up=self._died):
            return
        if self._died():
            raise LocalServiceError(self.name, "exited during start-up", "read the log", str(self.log_file))
        raise ServiceStartTimeoutError(self.name, self.start_timeout_s, self.endpoint(), str(self.log_file))

    def _died(self) -> bool:
        return self._process.pid() is None

    def stop(self) -> bool:
        """Stop our process (never a stranger's)."""
        return self._process.stop(self.stop_timeout_s, self.stop_stages())

    # How long each stop stage waits for SIGTERM to work before SIGKILL.
    stop_timeout_s = 60.0

    def stop_stages(self) -> Sequence[StopStage]:
        """The order in which the service's processes stop (default: all at once)."""
        return ()

    def status(self) -> ServiceStatus:
        """Running and answering, running but not answering, or stopped."""
        pid = self._process.pid()
        if pid is None:
            return ServiceStatus(self.name, ServiceState.STOPPED, "not running", self.endpoint(), None, self.log_file)
        ready, detail = self.probe()
        state = ServiceState.RUNNING if ready else ServiceState.UNHEALTHY
        return ServiceStatus(self.name, state, detail, self.endpoint(), pid, self.log_file)


def loopback_port(url: str, setting: str) -> int:
    """The port of ``url``, which must point at this machine: `local up` never starts remote services."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        raise ConfigurationError(
            setting,
            f"points at {parts.hostname}, but the local stack only runs services on 127.0.0.1",
            "unset it to use the embedded default, or do not run `scalar-ray local` against a remote service",
        )
    return parts.port or _DEFAULT_PORTS[parts.scheme]


def find_executable(name_or_path: str, service: str, fix: str) -> Path:
    """Resolve an executable by path or on PATH, or fail with an install hint."""
    found = shutil.which(name_or_path)
    if found is None:
        raise LocalServiceError(service, f"executable '{name_or_path}' not found", fix)
    return Path(found)
