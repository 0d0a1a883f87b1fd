"""A forecast on the wire: JSON (columnar per target), CSV, or an Arrow IPC stream.

JSON is the default. ``?format=csv|arrow`` or an ``Accept`` header of ``text/csv`` or
``application/vnd.apache.arrow.stream`` selects the others; both carry one row per target and interval with the
model, issue time, source and any fallback as columns (CSV) or schema metadata (Arrow), so a file stands on its own.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from scalar_ray.core.arrow_ipc import to_ipc
from scalar_ray.serving.forecasts import Forecast

__all__ = ["ARROW_MEDIA_TYPE", "CSV_MEDIA_TYPE", "JSON_MEDIA_TYPE", "Format", "choose_format", "negotiate", "render"]

Format = Literal["json", "csv", "arrow"]
_F = TypeVar("_F", bound=str)

JSON_MEDIA_TYPE = "application/json"
CSV_MEDIA_TYPE = "text/csv"
ARROW_MEDIA_TYPE = "application/vnd.apache.arrow.stream"
_MEDIA_TYPES: dict[str, Format] = {JSON_MEDIA_TYPE: "json", CSV_MEDIA_TYPE: "csv", ARROW_MEDIA_TYPE: "arrow"}


def choose_format(requested: Format | None, accept: str | None) -> Format:
    """The query parameter wins; else the first media type of ``Accept`` that we serve; else JSON."""
    return negotiate(requested, accept, _MEDIA_TYPES, "json")


def negotiate(requested: _F | None, accept: str | None, served: Mapping[str, _F], default: _F) -> _F:
    """``requested`` if given, else the first media type of ``Accept`` in ``served``, else ``default``."""
    if requested is not None:
        return requested
    for part in (accept or "").split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type in served:
            return served[media_type]
    return default


def render(forecast: Forecast, step: timedelta, fmt: Format) -> tuple[bytes, str]:
    """The forecast's body and media type."""
    if fmt == "csv":
        return _csv(forecast), f"{CSV_MEDIA_TYPE}; charset=utf-8"
    if fmt == "arrow":
        return _arrow(forecast), ARROW_MEDIA_TYPE
    return json.dumps(as_json(forecast, step), separators=(",", ":")).encode(), JSON_MEDIA_TYPE


def as_json(forecast: Forecast, step: timedelta) -> dict[str, Any]:
    """``{model, issue_time, horizon, targets: [{target, unit, ts: [...], mean: [...], q10: [...], ...}]}``."""
    table = forecast.table
    value_columns = [name for name in table.column_names if name not in ("target", "ts")]
    targets = []
    first: datetime | None = None
    last: datetime | None = None
    for target in dict.fromkeys(table["target"].to_pylist()):
        rows = table.filter(pc.equal(table["target"], target))
        stamps: list[datetime] = rows["ts"].to_pylist()
        if stamps:
            first = min(first or stamps[0], stamps[0])
            last = max(last or stamps[-1], stamps[-1])
        entry: dict[str, Any] = {
            "target": target,
            "unit": forecast.units.get(target, ""),
            "ts": [_iso(ts) for ts in stamps],
        }
        for name in value_columns:
            entry[name] = rows[name].to_pylist()
        targets.append(entry)
    return {
        "model": forecast.model_id,
        "family": forecast.family,
        "zone": forecast.zone,
        "issue_time": _iso(forecast.issue_time),
        "model_version": forecast.model_version,
        # Not null: an input check failed and this baseline issued the forecast instead of the version's model.
        "fallback": {"model": forecast.fallback, "reason": forecast.fallback_reason} if forecast.fallback else None,
        "source": forecast.source,
        "resolution": forecast.resolution,
        "quantiles": list(forecast.quantiles),
        "horizon": {
            "start": _iso(first) if first else None,
            "end": _iso(last + step) if last else None,
            "steps": forecast.steps if targets else 0,
        },
        "targets": targets,
    }


def _long_table(forecast: Forecast) -> pa.Table:
    rows = forecast.table.num_rows
    head = pa.table(
        {
            "model": pa.array([forecast.model_id] * rows, pa.string()),
            "issue_time": pa.array([forecast.issue_time] * rows, pa.timestamp("us", tz="UTC")),
            "source": pa.array([forecast.source] * rows, pa.string()),
        }
    )
    for name in forecast.table.column_names:
        head = head.append_column(name, forecast.table[name])
    return head.append_column("fallback", pa.array([forecast.fallback] * rows, pa.string()))


def _csv(forecast: Forecast) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(_long_table(forecast), sink)  # type: ignore[attr-defined]
    return sink.getvalue()


def _arrow(forecast: Forecast) -> bytes:
    table = _long_table(forecast)
    metadata = {
        "model": forecast.model_id,
        "issue_time": _iso(forecast.issue_time),
        "source": forecast.source,
        "model_version": forecast.model_version or "",
        "fallback": forecast.fallback or "",
        "fallback_reason": forecast.fallback_reason or "",
        "resolution": forecast.resolution,
        "units": json.dumps(forecast.units),
    }
    table = table.replace_schema_metadata(metadata)
    return to_ipc(table)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
