"""Meteologica "API markets" content data → canonical rows. Pure: no I/O.

Rows give local wall-clock ``From``/``To`` times with explicit ``UTC offset`` columns, which settles DST without
guessing; values are strings. Deterministic columns (``forecast``, ``perc10``, ``perc90``) and ensemble columns
(``Average``, ``Bottom``, ``Top``, ``ENSnn``) each become a series; the model-run columns are metadata. The vintage
is the content's ``issue_date``. The area comes from the catalogue (content names are free text). Only rows that
start inside the request's window are kept (the client would trim the others).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa

from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.providers.payloads import decode_json, payload_error, payload_parser

__all__ = ["parse_meteologica"]

_COLUMNS = {
    "forecast": "forecast",
    "perc10": "forecast_p10",
    "perc90": "forecast_p90",
    "Average": "forecast_ens_mean",
    "Bottom": "forecast_ens_min",
    "Top": "forecast_ens_max",
}
_ENSEMBLE_MEMBER = re.compile(r"^ENS(?P<member>\d+)$")
_OFFSET = re.compile(r"^UTC(?P<sign>[+-])(?P<hours>\d{2})(?P<minutes>\d{2})$")
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
_FROM, _TO = "From yyyy-mm-dd hh:mm", "To yyyy-mm-dd hh:mm"
_OFFSET_FROM, _OFFSET_TO = "UTC offset from (UTC+/-hhmm)", "UTC offset to (UTC+/-hhmm)"


@payload_parser
def parse_meteologica(payload: bytes, context: FetchContext) -> pa.Table:
    """Parse one ``/contents/{id}/data`` answer; ``context.area`` names the zone the content covers."""
    if not context.area:
        raise payload_error(context, "the catalogue names no area for this content")
    document = decode_json(payload, context)
    if isinstance(document, dict) and "data" not in document and "message" in document:
        raise payload_error(context, f"Meteologica answered: {document['message']}")
    builder = ObservationBuilder(context)
    try:
        issued_at = datetime.strptime(document["issue_date"], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        unit = str(document.get("unit") or "MW")
        for row in document["data"]:
            _row(row, issued_at, unit, builder)
    except (KeyError, TypeError, ValueError) as exc:
        raise payload_error(context, f"unexpected payload shape: {type(exc).__name__}: {exc}") from exc
    return builder.build()


def _row(row: dict[str, Any], issued_at: datetime, unit: str, builder: ObservationBuilder) -> None:
    start = _moment(row[_FROM], row[_OFFSET_FROM])
    window = builder.context.window
    if not window.start <= start < window.end:
        # Outside the request: a month archive answers a day's window with every issue of the month, and the
        # client keeps only the window's rows; building the others would be most of a backfill's work.
        return
    end = _moment(row[_TO], row[_OFFSET_TO])
    resolution = f"PT{int((end - start).total_seconds() // 60)}M"
    prefix = f"{builder.context.variable}_" if builder.context.variable else ""
    for column, text in row.items():
        variable = _COLUMNS.get(column)
        if variable is None and (member := _ENSEMBLE_MEMBER.match(column)):
            variable = f"forecast_ens{int(member['member']):02d}"
        if variable is None or text in (None, ""):
            continue
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"non-numeric {column} value {text!r} at {row[_FROM]}") from None
        builder.add(
            area=builder.context.area,
            variable=prefix + variable,
            ts=start,
            value=value,
            issued_at=issued_at,
            unit=unit,
            resolution=resolution,
        )


def _moment(local: str, offset: str) -> datetime:
    # ``fromisoformat`` after a strict shape check: strptime costs ~30 µs a call, and a day of a content is thousands.
    if not isinstance(local, str) or _LOCAL.match(local) is None:
        raise ValueError(f"'{local}' is not a local time such as 2026-10-25 02:00")
    return datetime.fromisoformat(local).replace(tzinfo=_zone(offset)).astimezone(UTC)


@functools.lru_cache(maxsize=64)
def _zone(offset: str) -> timezone:
    """``UTC+0100`` → that fixed offset (a content has two or three distinct offsets at most)."""
    match = _OFFSET.match(offset.strip())
    if match is None:
        raise ValueError(f"'{offset}' is not a UTC offset such as UTC+0100")
    sign = 1 if match["sign"] == "+" else -1
    return timezone(timedelta(hours=int(match["hours"]), minutes=int(match["minutes"])) * sign)
