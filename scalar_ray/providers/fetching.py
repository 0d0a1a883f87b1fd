"""One-off fetches by hand (`scalar-ray fetch`): a catalogue dataset for an area and window, with its summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from scalar_ray.config.settings import Settings
from scalar_ray.core.durations import add_duration, parse_duration
from scalar_ray.core.utc import parse_utc
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec, load_catalogue
from scalar_ray.providers.clients import build_client
from scalar_ray.providers.summary import SeriesSummary, summarize

__all__ = ["FetchResult", "fetch_dataset", "window_from"]


@dataclass(frozen=True)
class FetchResult:
    """The rows of one fetch, their summary and what the fetch cost."""

    spec: DatasetSpec
    area: str
    table: pa.Table
    summaries: list[SeriesSummary]
    requests: int
    retries: int

    def write(self, path: Path) -> None:
        """Write the rows as Parquet or CSV, by the file's suffix."""
        if path.suffix == ".parquet":
            pq.write_table(self.table, path)  # type: ignore[no-untyped-call]  # pyarrow's stubs leave it untyped
        elif path.suffix == ".csv":
            pa_csv.write_csv(self.table, path)  # type: ignore[attr-defined]  # exported at run time, not in the stubs
        else:
            raise ValueError(f"'{path}': write .parquet or .csv")


def window_from(start: str | None, end: str | None, last: str | None, now: datetime | None = None) -> Window | None:
    """The window the user asked for, or None for the dataset's scheduled window."""
    if start is None and end is None and last is None:
        return None
    upper = parse_utc(end) if end else (now or datetime.now(UTC))
    if start:
        return Window(parse_utc(start), upper)
    if last is None:
        raise ValueError("give --start or --last with --end")
    return Window(add_duration(upper, parse_duration(last), -1), upper)


def fetch_dataset(
    settings: Settings, provider: str, dataset: str, area: str | None, window: Window | None
) -> FetchResult:
    """Fetch ``dataset`` of ``provider`` for ``area`` (default: its first) over ``window`` (default: scheduled)."""
    spec = load_catalogue().get(provider, dataset)
    chosen = area or spec.areas[0]
    if chosen not in spec.areas:
        raise KeyError(f"{provider}/{dataset} has no area '{chosen}'; known: {', '.join(spec.areas)}")
    client = build_client(provider, settings)
    try:
        table = client.fetch(spec, chosen, window or spec.fetch_window(datetime.now(UTC)))
    finally:
        client.close()
    stats = client.stats()
    return FetchResult(spec, chosen, table, summarize(table), stats.requests, stats.retries)
