"""Helpers for provider parser tests: the recorded payloads in tests/fixtures/providers and a fetch context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from scalar_ray.core.window import Window
from scalar_ray.providers.parsing import FetchContext
from tests.conftest import fixture_file

FETCHED_AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WIDE = Window(datetime(2015, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))


def fixture_bytes(provider: str, name: str) -> bytes:
    return fixture_file(f"providers/{provider}/{name}").read_bytes()


def context(provider: str, dataset: str, window: Window = WIDE, area: str = "", variable: str = "") -> FetchContext:
    return FetchContext(provider, dataset, window, FETCHED_AT, area, variable)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def series(table: pa.Table, series_id: str) -> list[dict[str, Any]]:
    """Rows of one series, in time order."""
    rows = [row for row in table.to_pylist() if row["series_id"] == series_id]
    return sorted(rows, key=lambda row: (row["ts"], row["issued_at"]))


def value_at(table: pa.Table, series_id: str, ts: datetime) -> float:
    matches = [row["value"] for row in series(table, series_id) if row["ts"] == ts]
    assert len(matches) == 1, f"{len(matches)} rows for {series_id} at {ts}"
    return float(matches[0])


@dataclass(frozen=True)
class Period:
    """One ``Period`` of an ENTSO-E time series: its interval, resolution and points by position."""

    start: str
    end: str
    resolution: str
    points: dict[int, float]


def a44_document(*periods: Period, curve: str = "A01", domain: str = "10YDK-1--------W") -> bytes:
    """A minimal A44 price document (synthetic, in the shape of the recorded ones) with one time series."""
    body = "".join(
        f"<Period><timeInterval><start>{period.start}</start><end>{period.end}</end></timeInterval>"
        f"<resolution>{period.resolution}</resolution>"
        + "".join(
            f"<Point><position>{p}</position><price.amount>{v}</price.amount></Point>" for p, v in period.points.items()
        )
        + "</Period>"
        for period in periods
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Publication_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3">
<type>A44</type><createdDateTime>2025-10-25T11:00:00Z</createdDateTime>
<TimeSeries><in_Domain.mRID codingScheme="A01">{domain}</in_Domain.mRID>
<out_Domain.mRID codingScheme="A01">{domain}</out_Domain.mRID><curveType>{curve}</curveType>
{body}</TimeSeries></Publication_MarketDocument>""".encode()
