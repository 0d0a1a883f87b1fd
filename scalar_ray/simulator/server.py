"""Run the simulator: in a background thread (tests, benchmarks, the demo) or in the foreground (`scalar-ray sim`)."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Self

import httpx
import uvicorn

from scalar_ray.core.errors import LocalServiceError
from scalar_ray.simulator.app import FaultConfig, SimulatorState, build_app

__all__ = ["SimulatorServer"]


class SimulatorServer:
    """The simulator on ``127.0.0.1:port``; a context manager that starts it and waits until it answers."""

    def __init__(self, port: int, faults: FaultConfig | None = None, seed: int = 7) -> None:
        self.port = port
        self.app = build_app(faults, seed)
        self.state: SimulatorState = self.app.state.simulator
        # The standard asyncio loop: uvloop's close raised EBUSY now and then when the server thread stopped in a test.
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=port, log_level="warning", access_log=False, loop="asyncio"
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the prefix of every provider's simulated API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30) -> None:
        """Serve in a daemon thread and wait for ``/health``."""
        self._thread = threading.Thread(target=self._server.run, name="provider-simulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:  # noqa: PLR2004
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise LocalServiceError("simulator", f"not answering on port {self.port} after {timeout_s:.0f} s")

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted."""
        self._server.run()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object | TracebackType | None) -> None:
        self.stop()
