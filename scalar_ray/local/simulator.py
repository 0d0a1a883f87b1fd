"""The provider simulator as a local service: `scalar-ray sim` in the background, on the providers' default port."""

from __future__ import annotations

import sys

import httpx

from scalar_ray.config.settings import Settings
from scalar_ray.local.process import ProcessSpec
from scalar_ray.local.service import ProcessService

__all__ = ["ProviderSimulator"]


class ProviderSimulator(ProcessService):
    """All seven providers' APIs on ``127.0.0.1:<simulator_port>``, so the platform runs without credentials."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("simulator", settings.data_dir, settings.local.start_timeout_s)
        self.port = settings.local.simulator_port
        self.faults = settings.local.simulator_faults

    def ports(self) -> list[tuple[int, str]]:
        """The simulator's port."""
        return [(self.port, "SCALAR_LOCAL__SIMULATOR_PORT")]

    def endpoint(self) -> str:
        """The URL prefix of every simulated provider."""
        return f"http://127.0.0.1:{self.port}/<provider>"

    def prepare(self) -> ProcessSpec:
        """``python -m commands.main sim`` with this interpreter."""
        half = str(self.faults / 2)
        argv = [
            sys.executable,
            "-m",
            "commands.main",
            "sim",
            "--port",
            str(self.port),
            "--rate-429",
            half,
            "--rate-5xx",
            half,
        ]
        return ProcessSpec(self.name, argv, self.data_dir, self.log_file, self._process.spec.pid_file)

    def probe(self) -> tuple[bool, str]:
        """``/health`` answers with the request count."""
        try:
            body = httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=3).json()
        except (httpx.HTTPError, ValueError) as exc:
            return False, f"not answering: {type(exc).__name__}"
        return True, f"7 providers, {body.get('requests', 0)} requests served"
