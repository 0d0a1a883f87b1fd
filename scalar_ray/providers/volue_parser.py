"""Volue Insight curve data → canonical rows. Pure: no I/O.

Series and instance answers share one shape (``{"id", "name", "frequency", "points": [[epoch_ms, value], ...]}``;
instances add ``issue_date``, tagged answers are a list of them). The vintage is the instance's issue date, or the
fetch time for plain series; HTTP 204 (no data) is an empty table. No real capture is public: the shape is the one
Volue's own Python client (wapi-python) reads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from scalar_ray.errors import PayloadError
from scalar_ray.providers.canonical import FetchContext, ObservationBuilder, empty_observations
from scalar_ray.providers.timeutil import parse_utc

__all__ = ["VOLUE_FREQUENCIES", "parse_volue"]

VOLUE_FREQUENCIES = {
    "MIN5": "PT5M",
    "MIN15": "PT15M",
    "MIN30": "PT30M",
    "H": "PT60M",
    "H1": "PT60M",
    "D": "P1D",
    "W": "P7D",
    "M": "P1M",
    "Y": "P1Y",
}


def parse_volue(payload: bytes, context: FetchContext) -> pa.Table:
    """Parse one curve answer; ``context.area`` and ``context.variable`` say what the curve measures."""
    if not payload.strip():
        return empty_observations()
    if not context.area:
        raise _error(context, "the catalogue names no area for this curve")
    try:
        document = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _error(context, f"malformed JSON: {exc}") from exc
    builder = ObservationBuilder(context)
    try:
        for curve in document if isinstance(document, list) else [document]:
            _curve(curve, builder)
    except (KeyError, TypeError, ValueError) as exc:
        raise _error(context, f"unexpected payload shape: {type(exc).__name__}: {exc}") from exc
    return builder.build()


def _curve(curve: dict[str, Any], builder: ObservationBuilder) -> None:
    frequency = str(curve["frequency"]).upper()
    resolution = VOLUE_FREQUENCIES.get(frequency)
    if resolution is None:
        raise ValueError(f"unknown frequency '{frequency}'")
    issued_at = parse_utc(curve["issue_date"]) if curve.get("issue_date") else builder.context.fetched_at
    variable = builder.context.variable or "value"
    if curve.get("tag"):
        variable += f"_{str(curve['tag']).lower()}"  # tagged curves: ensemble members, scenarios
    unit = str(curve.get("unit") or "")
    for epoch_ms, value in curve.get("points") or []:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"non-numeric value {value!r} at {epoch_ms}")
        ts = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
        builder.add(
            area=builder.context.area,
            variable=variable,
            ts=ts,
            value=float(value),
            issued_at=issued_at,
            unit=unit,
            resolution=resolution,
        )


def _error(context: FetchContext, problem: str) -> PayloadError:
    return PayloadError(context.provider, context.dataset, str(context.window), problem)
