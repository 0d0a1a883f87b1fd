"""The message envelope: one fetched window as an Arrow IPC stream, with the properties of ARCHITECTURE.md.

Properties: ``schema_version``, ``provider``, ``dataset``, ``window_start``, ``window_end``, ``fetch_id`` and
``content_sha256``. The hash covers the payload bytes, so a consumer can tell a corrupted or tampered message from a
good one before it touches the warehouse, and a re-sent window is recognisable by its content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Self

import pyarrow as pa
from pyarrow import ipc

from scalar_ray.core.errors import PayloadError
from scalar_ray.core.observations import OBSERVATION_SCHEMA
from scalar_ray.core.utc import parse_utc
from scalar_ray.core.window import Window

__all__ = ["SCHEMA_VERSION", "Envelope"]

SCHEMA_VERSION = "1"
_REQUIRED = ("schema_version", "provider", "dataset", "window_start", "window_end", "fetch_id", "content_sha256")


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
        sink = pa.BufferOutputStream()
        with ipc.new_stream(sink, OBSERVATION_SCHEMA) as writer:  # type: ignore[no-untyped-call]  # untyped in stubs
            writer.write_table(self.observations.cast(OBSERVATION_SCHEMA))
        payload = sink.getvalue().to_pybytes()
        properties = {
            "schema_version": SCHEMA_VERSION,
            "provider": self.provider,
            "dataset": self.dataset,
            "window_start": _iso(self.window.start),
            "window_end": _iso(self.window.end),
            "fetch_id": self.fetch_id,
            "content_sha256": hashlib.sha256(payload).hexdigest(),
        }
        return payload, properties

    @classmethod
    def decode(cls, payload: bytes, properties: dict[str, str]) -> Self:
        """Check the properties, the hash and the schema; raise ``PayloadError`` saying which check failed."""
        provider, dataset = properties.get("provider", ""), properties.get("dataset", "")
        span = f"{properties.get('window_start', '?')}/{properties.get('window_end', '?')}"
        missing = [name for name in _REQUIRED if not properties.get(name)]
        if missing:
            raise PayloadError(provider, dataset, span, f"message lacks propert(ies) {', '.join(missing)}")
        if properties["schema_version"] != SCHEMA_VERSION:
            raise PayloadError(
                provider, dataset, span, f"schema_version {properties['schema_version']} is not {SCHEMA_VERSION}"
            )
        if hashlib.sha256(payload).hexdigest() != properties["content_sha256"]:
            raise PayloadError(provider, dataset, span, "content_sha256 does not match the payload")
        try:
            table = ipc.open_stream(payload).read_all()  # type: ignore[no-untyped-call]  # untyped in stubs
            window = Window(parse_utc(properties["window_start"]), parse_utc(properties["window_end"]))
        except (pa.ArrowInvalid, ValueError) as exc:
            raise PayloadError(provider, dataset, span, f"unreadable payload: {exc}") from exc
        if not table.schema.equals(OBSERVATION_SCHEMA):
            raise PayloadError(provider, dataset, span, "payload schema is not the observation schema")
        return cls(provider, dataset, window, properties["fetch_id"], table)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
