"""Backfill planning and the per-window fetch it fans out (pure planning; the fetch is one provider call).

A backfill covers a date range for chosen datasets and areas in windows of ``piece`` (one day by default, split
further to each dataset's request limit by its client). Each window is fetched, validated like a live message, and
either handed on for writing or reported with its error; one failing window never stops the others.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from scalar_ray.acquisition.service import AcquisitionTask
from scalar_ray.broker.envelope import Envelope
from scalar_ray.core.areas import area_by_code_or_none
from scalar_ray.core.errors import ProviderError
from scalar_ray.core.observations import empty_observations
from scalar_ray.core.utc import local_day_window, parse_utc
from scalar_ray.core.window import Window
from scalar_ray.ingestion.validation import validate_envelope
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.client import ProviderClient

__all__ = ["BackfillItem", "BackfillTally", "WindowOutcome", "fetch_item", "plan_backfill"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackfillItem:
    """One (dataset, area, window) to fetch."""

    provider: str
    dataset_id: str
    area: str
    start: datetime
    end: datetime

    @property
    def window(self) -> Window:
        """The window to fetch."""
        return Window(self.start, self.end)

    @property
    def name(self) -> str:
        """``entsoe/A44/DK1 2026-11-01T00:00:00+00:00``."""
        return f"{self.provider}/{self.dataset_id}/{self.area} {self.start.isoformat()}"

    def as_row(self) -> dict[str, str]:
        """The item as a Ray Data row (text columns: a row crosses processes as Arrow, and text keeps the offset)."""
        return {
            "provider": self.provider,
            "dataset_id": self.dataset_id,
            "area": self.area,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> BackfillItem:
        """The item a Ray Data row holds."""
        return cls(
            str(row["provider"]),
            str(row["dataset_id"]),
            str(row["area"]),
            parse_utc(str(row["start"])),
            parse_utc(str(row["end"])),
        )


@dataclass(frozen=True)
class WindowOutcome:
    """What fetching one item gave: rows to write, or the error."""

    item: BackfillItem
    observations: pa.Table
    error: str | None = None


def plan_backfill(
    tasks: list[AcquisitionTask], window: Window, piece: timedelta = timedelta(days=1)
) -> list[BackfillItem]:
    """Every task for every window piece, oldest first.

    Daily pieces follow the area's local delivery days (clipped to ``window``): a provider answers a day document
    with one creation time, and a request spanning two local days would stamp the earlier day with the later one's.
    """
    items = []
    for task in tasks:
        for part in _pieces(window, piece, task.area):
            items.append(BackfillItem(task.spec.provider, task.spec.id, task.area, part.start, part.end))
    return sorted(items, key=lambda item: (item.start, item.provider, item.dataset_id, item.area))


def _pieces(window: Window, piece: timedelta, area: str) -> list[Window]:
    found = area_by_code_or_none(area.split(">", maxsplit=1)[0])
    if piece != timedelta(days=1) or found is None:
        return window.split(piece)
    cuts = [window.start]
    day = window.start.astimezone(found.zone).date()
    while True:
        _, day_end = local_day_window(day, found.timezone)
        if day_end >= window.end:
            break
        if day_end > cuts[-1]:
            cuts.append(day_end)
        day += timedelta(days=1)
    cuts.append(window.end)
    return [Window(start, end) for start, end in itertools.pairwise(cuts)]


def fetch_item(client: ProviderClient, item: BackfillItem, now: datetime | None = None) -> WindowOutcome:
    """Fetch and validate one item; provider failures and rejected windows become the outcome's error."""
    try:
        spec = load_catalogue().get(item.provider, item.dataset_id)
        window = item.window
        table = client.fetch(spec, item.area, window)
    except (ProviderError, KeyError, ValueError) as exc:  # a provider failure, or an item that makes no sense
        logger.warning("backfill %s failed: %s", item.name, exc)
        return WindowOutcome(item, empty_observations(), str(exc))
    verdict = validate_envelope(Envelope(item.provider, spec.key, window, item.name, table), now or datetime.now(UTC))
    if not verdict.accepted:
        return WindowOutcome(item, empty_observations(), "; ".join(verdict.reasons))
    return WindowOutcome(item, verdict.observations)


@dataclass
class BackfillTally:
    """Windows finished, rows per dataset and every failed window, as the fetch workers report them.

    The backfill job runs one as a Ray actor that the workers report to and the driver reads.
    """

    total: int
    done: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    errors: dict[str, str] = field(default_factory=dict)
    written: int = 0

    def report(self, name: str, dataset: str, rows: int, error: str | None) -> None:
        """One window finished."""
        self.done += 1
        self.rows[dataset] += rows
        if error:
            self.errors[name] = error

    def snapshot(self) -> BackfillTally:
        """A copy, for the driver (an actor's state does not leave it otherwise)."""
        return BackfillTally(self.total, self.done, Counter(self.rows), dict(self.errors), self.written)

    def progress_line(self) -> str:
        """``backfill: 12/16 windows, 4,608 rows, 1 failed``."""
        return (
            f"backfill: {self.done}/{self.total} windows, {sum(self.rows.values()):,} rows, {len(self.errors)} failed"
        )

    def summary_lines(self) -> list[str]:
        """Rows per dataset, then every failed window with its error."""
        lines = [f"  {dataset:<40} {rows:>12,} rows" for dataset, rows in sorted(self.rows.items())]
        return lines + [f"  FAILED {name}: {error}" for name, error in sorted(self.errors.items())]
