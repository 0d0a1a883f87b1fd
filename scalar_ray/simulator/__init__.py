"""A local HTTP simulator of the seven providers' APIs, in their real wire formats, with injectable faults."""

from __future__ import annotations

from scalar_ray.simulator.app import FaultConfig, build_app
from scalar_ray.simulator.server import SimulatorServer

__all__ = ["FaultConfig", "SimulatorServer", "build_app"]
