"""The message envelopes: a fetched window, or one model's forecast issue, as an Arrow IPC stream with properties.

``Envelope`` (acquisition topics) carries canonical observations. Properties (ARCHITECTURE.md): ``schema_version``,
``provider``, ``dataset``, ``window_start``, ``window_end``, ``fetch_id`` and ``content_sha256``.

``ForecastEnvelope`` (the forecasts topic) carries forecasts-table rows of one issue, and says so with
``kind=forecast``; it adds ``area`` (the zone), ``model_version`` and ``issue_time``, with ``dataset`` the family.

The hash covers the payload bytes, so a consumer can tell a corrupted or tampered message from a good one before it
touches the warehouse, and a re-sent window is recognisable by its content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Self

import pyarrow as pa

from scalar_ray.core.arrow_ipc import from_ipc, to_ipc
from scalar_ray.core.errors import PayloadError
from scalar_ray.core.forecasts import FORECAST_PROVIDER, FORECAST_SCHEMA
from scalar_ray.core.observations import OBSERVATION_SCHEMA
from scalar_ray.core.utc import parse_utc
from scalar_ray.core.window import Window

__all__ = ["FORECAST_KIND", "SCHEMA_VERSION", "Envelope", "ForecastEnvelope", "is_forecast_message"]

SCHEMA_VERSION = "1"
FORECAST_KIND = "forecast"
_REQUIRED = ("schema_version", "provider", "dataset", "window_start", "window_end", "fetch_id", "content_sha256")
_FORECAST_REQUIRED = (*_REQUIRED, "area", "model_version", "issue_time")


def is_forecast_message(properties: dict[str, str]) -> bool:
    """Whether a message is a ``ForecastEnvelope`` (messages without ``kind`` are observation windows)."""
    return properties.get("kind") == FORECAST_KIND


@dataclass(frozen=True)
class Envelope:
    """A canonical table with where it came from; ``encode``/``decode`` map it to a Pulsar payload and properties."""

    provider: str
    dataset: str
    window: Window
    fetch_id: str
    observations: pa.Table

    def encode(self) -> tuple[bytes, dict[str, str]]:
        """The Arrow IPC stream of the observations and the message properties."""
        payload = to_ipc(self.observations, OBSERVATION_SCHEMA)
        return payload, _properties(payload, self.provider, self.dataset, self.window, self.fetch_id)

    @classmethod
    def decode(cls, payload: bytes, properties: dict[str, str]) -> Self:
        """Check the properties, the hash and the schema; raise ``PayloadError`` saying which check failed."""
        table, window = _decode(payload, properties, _REQUIRED, OBSERVATION_SCHEMA, "observation")
        return cls(properties["provider"], properties["dataset"], window, properties["fetch_id"], table)


@dataclass(frozen=True)
class ForecastEnvelope:
    """One model's forecast issue: forecasts-table rows of one family, zone, model version and issue time."""

    family: str
    zone: str
    model_version: str
    issue_time: datetime
    window: Window
    fetch_id: str
    forecasts: pa.Table

    def encode(self) -> tuple[bytes, dict[str, str]]:
        """The Arrow IPC stream of the rows and the message properties."""
        payload = to_ipc(self.forecasts, FORECAST_SCHEMA)
        properties = _properties(payload, FORECAST_PROVIDER, self.family, self.window, self.fetch_id)
        return payload, properties | {
            "kind": FORECAST_KIND,
            "area": self.zone,
            "model_version": self.model_version,
            "issue_time": _iso(self.issue_time),
        }

    @classmethod
    def decode(cls, payload: bytes, properties: dict[str, str]) -> Self:
        """Check the properties, the hash and the schema; raise ``PayloadError`` saying which check failed."""
        table, window = _decode(payload, properties, _FORECAST_REQUIRED, FORECAST_SCHEMA, "forecast")
        try:
            issue_time = parse_utc(properties["issue_time"])
        except ValueError as exc:
            span = f"{properties['window_start']}/{properties['window_end']}"
            raise PayloadError(FORECAST_PROVIDER, properties["dataset"], span, f"bad issue_time: {exc}") from exc
        family, zone = properties["dataset"], properties["area"]
        return cls(family, zone, properties["model_version"], issue_time, window, properties["fetch_id"], table)


def _properties(payload: bytes, provider: str, dataset: str, window: Window, fetch_id: str) -> dict[str, str]:
    return {
        "schema_version": SCHEMA_VERSION,
        "provider": provider,
        "dataset": dataset,
        "window_start": _iso(window.start),
        "window_end": _iso(window.end),
        "fetch_id": fetch_id,
        "content_sha256": hashlib.sha256(payload).hexdigest(),
    }


def _decode(
    payload: bytes, properties: dict[str, str], required: tuple[str, ...], schema: pa.Schema, kind: str
) -> tuple[pa.Table, Window]:
    provider, dataset = properties.get("provider", ""), properties.get("dataset", "")
    span = f"{properties.get('window_start', '?')}/{properties.get('window_end', '?')}"
    missing = [name for name in required if not properties.get(name)]
    if missing:
        raise PayloadError(provider, dataset, span, f"message lacks propert(ies) {', '.join(missing)}")
    if properties["schema_version"] != SCHEMA_VERSION:
        raise PayloadError(
            provider, dataset, span, f"schema_version {properties['schema_version']} is not {SCHEMA_VERSION}"
        )
    if hashlib.sha256(payload).hexdigest() != properties["content_sha256"]:
        raise PayloadError(provider, dataset, span, "content_sha256 does not match the payload")
    try:
        table = from_ipc(payload)
        window = Window(parse_utc(properties["window_start"]), parse_utc(properties["window_end"]))
    except (pa.ArrowInvalid, ValueError) as exc:
        raise PayloadError(provider, dataset, span, f"unreadable payload: {exc}") from exc
    if not table.schema.equals(schema):
        upgraded = _from_earlier_release(table, schema)
        if upgraded is None:
            raise PayloadError(provider, dataset, span, f"payload schema is not the {kind} schema")
        table = upgraded
    return table, window


def _from_earlier_release(table: pa.Table, schema: pa.Schema) -> pa.Table | None:
    """An earlier release's table (``schema``'s fields less nullable ones added since) with those columns null.

    None for any other schema. Messages still in a backlog at an upgrade are read this way.
    """
    count = len(table.schema)
    if count >= len(schema) or not pa.schema(list(schema)[:count]).equals(table.schema):
        return None
    added = list(schema)[count:]
    if any(not field.nullable for field in added):
        return None
    for field in added:
        table = table.append_column(field, pa.nulls(table.num_rows, field.type))
    return table


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
