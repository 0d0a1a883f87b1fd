"""The acquisition spools' fill as a metric: ``scalar.acquisition.spool.fill``, one point per provider.

OpenTelemetry keeps the first callback of an instrument name and drops a second one, so the gauge is created once per
process and reads every spool registered with it (a process that builds several providers' services reports each).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from scalar_ray.telemetry.checklist import CHECKLIST
from scalar_ray.telemetry.instruments import observe_gauge

__all__ = ["observe_spool"]

_METRIC = "scalar.acquisition.spool.fill"
_fills: dict[str, Callable[[], float]] = {}
_lock = threading.Lock()


def observe_spool(provider: str, fill: Callable[[], float]) -> None:
    """Report ``fill()`` (0 empty … 1 full) as ``provider``'s spool fill from now on (the latest registration wins)."""
    with _lock:
        first = not _fills
        _fills[provider] = fill
    if first:
        item = next(item for item in CHECKLIST if item.metric == _METRIC)
        observe_gauge(_METRIC, item.unit, item.meaning, _read)


def _read() -> list[tuple[float, dict[str, str]]]:
    with _lock:
        fills = dict(_fills)
    return [(fill(), {"scalar.provider": provider}) for provider, fill in sorted(fills.items())]
