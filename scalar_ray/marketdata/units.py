"""What aggregating a series does to its unit: power is averaged, energy summed, prices never summed.

A sum of power (MW) over time is energy: each value counts for its interval's hours, and the result is in MWh. A sum
of per-interval energy (MWh) stays MWh. Prices, shares and temperatures are intensive: a sum of them means nothing,
so it is refused rather than answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from scalar_ray.core.errors import ReadRequestError

__all__ = ["AGGREGATIONS", "Aggregated", "Aggregation", "aggregated", "default_aggregation"]

Aggregation = Literal["mean", "sum", "min", "max", "first", "last"]
AGGREGATIONS: tuple[Aggregation, ...] = ("mean", "sum", "min", "max", "first", "last")

_POWER_TO_ENERGY = {"kW": "kWh", "MW": "MWh", "GW": "GWh"}
_ENERGY = set(_POWER_TO_ENERGY.values())


@dataclass(frozen=True)
class Aggregated:
    """How one series is aggregated: the function, the factor each value is taken by first, the result's unit."""

    aggregation: Aggregation
    factor_per_hour: bool  # sum of power: each value times its interval's hours
    unit: str


def default_aggregation(unit: str) -> Aggregation:
    """Energy per interval is summed; power, prices and every other unit averaged."""
    return "sum" if unit in _ENERGY else "mean"


def aggregated(unit: str, aggregation: Aggregation | None, native_step: timedelta | None) -> Aggregated:
    """The aggregation of a series in ``unit`` (``aggregation`` None: its default), or ``ReadRequestError``."""
    chosen = aggregation or default_aggregation(unit)
    if chosen != "sum" or unit in _ENERGY:
        return Aggregated(chosen, factor_per_hour=False, unit=unit)
    if unit in _POWER_TO_ENERGY:
        if native_step is None:
            raise ReadRequestError("aggregation", f"a sum of {unit} needs a series of fixed resolution")
        return Aggregated("sum", factor_per_hour=True, unit=_POWER_TO_ENERGY[unit])
    raise ReadRequestError(
        "aggregation", f"a sum of {unit} means nothing (an intensive quantity): ask for mean, min, max, first or last"
    )
