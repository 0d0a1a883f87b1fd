"""Volue Insight curve data → canonical rows. Pure: no I/O.

Series and instance answers share one shape (``{"id", "name", "frequency", "points": [[epoch_ms, value], ...]}``;
instances add ``issue_date``, tagged answers are a list of them). The vintage is the instance's issue date, or the
fetch time for plain series; HTTP 204 (no data) is an empty table. No real capture is public: the shape is the one
Volue's own Python client (wapi-python) reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from scalar_ray.core.observations import empty_observations
from scalar_ray.core.utc import parse_utc
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.providers.payloads import decode_json, payload_error, payload_parser, reading

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


@payload_parser
def parse_volue(payload: bytes, context: FetchContext) -> pa.Table:
    """Parse one curve answer; ``context.area`` and ``context.variable`` say what the curve measures."""
    if not payload.strip():
        return empty_observations()
    if not context.area:
        raise payload_error(context, "the catalogue names no area for this curve")
    document = decode_json(payload, context)
    builder = ObservationBuilder(context)
    with reading(context):
        for curve in document if isinstance(document, list) else [document]:
            _curve(curve, builder)
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
        ts = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
        builder.add_reading(builder.context.area, variable, ts, value, issued_at, unit, resolution)
