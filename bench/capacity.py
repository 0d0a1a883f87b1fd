"""The capacity model behind docs/scaling.md: request budgets from the catalogue, and what full European coverage is.

Nothing here is timed. The request figures are counted from the catalogue (every dataset's schedule, areas and
largest window) against each provider's configured budget. The coverage figures multiply the series counts and
vintage rates below (assumptions, named and sourced in the table) and divide by the ingestion rates measured by
``bench/ingest.py`` (quoted with their run). ``python -m bench.capacity`` rewrites the generated part of
docs/scaling.md; the prose around it says what the numbers mean.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import markdown_table
from scalar_ray.config import load_settings
from scalar_ray.providers.catalogue import load_catalogue

DOC = Path(__file__).resolve().parents[1] / "docs" / "scaling.md"
START, END = "<!-- capacity:start -->", "<!-- capacity:end -->"
DAY = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday without a DST change: every schedule runs its usual day
BACKFILL_YEARS = 10

# Rates measured by bench/ingest.py (docs/benchmarks.md, "Ingestion", run of 2026-12-04 19:56 UTC, DuckDB, 2 CPUs):
# one replica drained a 9,984,000-row backlog at 678,231 rows/s; two replicas a 1,920,000-row one at 523,610 rows/s
# together (they split the two cores with the broker); a bulk load of 9,984,000 rows through Ray Data and the
# warehouse datasink (a back-fill's way) 299,825 rows/s, from one loader (a replay's) 567,685 rows/s.
REPLICA_ROWS_S = 260_000  # half the two-replica drain: a replica's share on a busy node, not its best alone
BULK_ROWS_S = 300_000  # the back-fill's own path, Ray Data on 2 CPUs


@dataclass(frozen=True)
class SeriesClass:
    """A kind of series in full European coverage: how many, and the rows each adds per day (all its vintages)."""

    name: str
    series: int
    rows_per_day: float  # points per day x vintages per day
    backfill_rows_per_day: float  # what a 10-year back-fill stores per series-day (the archive keeps fewer vintages)
    source: str


# Full coverage: the ~40 SDAC bidding zones at 15 minutes (96 points a day since the 15-minute MTU, Oct 2025).
ZONES, BORDERS, QH = 40, 90, 96
COVERAGE = (
    SeriesClass(
        "ENTSO-E actuals (load, generation per type, imbalance, flows)",
        ZONES * 24 + BORDERS * 2,
        QH * 2,
        QH,
        "A65/A75 (~18 types)/A85/A86/A84 per zone, A11 both ways per border; a published value and one revision",
    ),
    SeriesClass(
        "ENTSO-E forecasts (load, wind and solar day-ahead, intraday)",
        ZONES * 6,
        QH * 2 * 2,
        QH,
        "A65 forecast, A69 day-ahead and intraday: two days of horizon, two issues a day",
    ),
    SeriesClass(
        "Day-ahead and intraday prices (ENTSO-E, Nord Pool, Energinet, Elia)",
        ZONES * 4,
        QH,
        QH,
        "one auction result per zone and market a day",
    ),
    SeriesClass(
        "Vendor forecasts (Meteologica, Volue): wind, solar, demand",
        ZONES * 3 * 2,
        QH * 10 * 24,
        QH * 2,
        "10-day horizon re-issued hourly (Meteologica; Volue's 4 runs x ensemble members land in the same range)",
    ),
    SeriesClass(
        "Flow-based (JAO): capacities and critical branches",
        2_000,
        QH * 2,
        QH,
        "Core and Nordic flow-based domains, ~2,000 CNEC and border series, D-1 and D-2 runs",
    ),
    SeriesClass(
        "TSO real-time feeds (Elia, Energinet, 1-5 minute)",
        200,
        1_440,
        1_440,
        "minute and 5-minute system-state series",
    ),
)


def _runs_on(schedule_next: Callable[[datetime], datetime], day: datetime) -> list[datetime]:
    runs: list[datetime] = []
    moment = day - timedelta(microseconds=1)
    while (moment := schedule_next(moment)) < day + timedelta(days=1):
        runs.append(moment)
    return runs


def request_budgets() -> list[dict[str, object]]:
    """Per provider: tasks, requests a day, the busiest minute, the budget, and a 10-year back-fill's requests."""
    settings = load_settings({})
    daily: dict[str, int] = defaultdict(int)
    per_minute: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    tasks: dict[str, int] = defaultdict(int)
    backfill: dict[str, int] = defaultdict(int)
    span = timedelta(days=365.25 * BACKFILL_YEARS)
    for spec in load_catalogue().datasets:
        areas = len(spec.areas)
        tasks[spec.provider] += areas
        for run in _runs_on(spec.schedule.next_run, DAY):
            daily[spec.provider] += areas
            per_minute[spec.provider][run.replace(second=0, microsecond=0)] += areas
        backfill[spec.provider] += areas * math.ceil(span / _span_of(spec.max_window))
    rows = []
    for provider in sorted(tasks):
        budget = getattr(settings.providers, provider).requests_per_minute
        busiest = max(per_minute[provider].values(), default=0)
        rows.append(
            {
                "provider": provider,
                "tasks": tasks[provider],
                "requests/day": f"{daily[provider]:,}",
                "average/min": f"{daily[provider] / 1440:.1f}",
                "busiest minute": busiest,
                "budget/min": budget,
                "busiest/budget": f"{busiest / budget:.0%}",
                f"{BACKFILL_YEARS}-year back-fill requests": f"{backfill[provider]:,}",
                "back-fill at the budget": _minutes(backfill[provider] / budget),
            }
        )
    return rows


def _span_of(duration: str) -> timedelta:
    """A request's largest window as a span (a year as 365 days: the count only needs to be near)."""
    match = re.fullmatch(r"P(\d+)([YMD])", duration)
    if match is None:
        raise ValueError(f"no span for max_window {duration}")
    return timedelta(days=int(match[1]) * {"Y": 365, "M": 31, "D": 1}[match[2]])


def _minutes(minutes: float) -> str:
    return f"{minutes:,.0f} min" if minutes < 120 else f"{minutes / 60:,.1f} h"  # over two hours: in hours


def coverage() -> tuple[list[dict[str, object]], float, float]:
    """The coverage table, rows a day in all, and the 10-year back-fill's rows."""
    rows, per_day, archive = [], 0.0, 0.0
    for kind in COVERAGE:
        daily = kind.series * kind.rows_per_day
        back = kind.series * kind.backfill_rows_per_day * 365.25 * BACKFILL_YEARS
        per_day, archive = per_day + daily, archive + back
        rows.append(
            {
                "series": kind.name,
                "count": f"{kind.series:,}",
                "rows/series/day": f"{kind.rows_per_day:,.0f}",
                "rows/day": f"{daily:,.0f}",
                f"{BACKFILL_YEARS}-year back-fill": f"{back / 1e9:,.2f} B",
                "assumption": kind.source,
            }
        )
    return rows, per_day, archive


def render() -> str:
    """The generated part of docs/scaling.md."""
    budgets = request_budgets()
    table, per_day, archive = coverage()
    live = per_day / 86_400
    burst = 10 * live  # the morning's day-ahead and forecast issues land within minutes: size for ten times the mean
    replicas_live = max(2, math.ceil(burst / REPLICA_ROWS_S))
    backfill_duckdb_h = archive / BULK_ROWS_S / 3600
    return "\n".join(
        [
            START,
            "### Request budgets (counted from the catalogue; `python -m bench.capacity`)",
            "",
            markdown_table(budgets, list(budgets[0])),
            "",
            "### Full European coverage (a model: the assumptions are in the last column)",
            "",
            markdown_table(table, list(table[0])),
            "",
            f"In all: **{sum(k.series for k in COVERAGE):,} series, {per_day / 1e6:,.0f} million rows a day** "
            f"({live:,.0f} rows/s on average, ~{burst:,.0f} rows/s in the morning's bursts) and "
            f"**{archive / 1e9:,.1f} billion rows** for a {BACKFILL_YEARS}-year back-fill.",
            "",
            f"- Live: at ~{REPLICA_ROWS_S:,} rows/s per ingestion replica (measured, DuckDB), bursts need "
            f"{replicas_live} replicas; the autoscaler covers them between `replicas: 2` and `max_replicas`.",
            f"- Back-fill on one DuckDB writer ({BULK_ROWS_S:,} rows/s, its bulk load measured through Ray Data on 2 "
            "CPUs): "
            f"{backfill_duckdb_h:,.1f} h of writing; on StarRocks the write spreads over the BEs.",
            END,
        ]
    )


def main() -> None:
    """Rewrite the generated part of docs/scaling.md."""
    text = DOC.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    DOC.write_text(pattern.sub(lambda _: render(), text), encoding="utf-8")
    print(render())


if __name__ == "__main__":
    main()
