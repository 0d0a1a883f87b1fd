"""Helpers for provider parser tests: the recorded payloads in tests/fixtures/providers and a fetch context."""

from __future__ import annotations

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
