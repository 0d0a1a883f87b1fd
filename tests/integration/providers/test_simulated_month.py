"""Every catalogue dataset, a 30-day window each, against the provider simulator with 429 and 5xx faults on."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec, load_catalogue
from scalar_ray.providers.client import ClientOptions
from scalar_ray.providers.clients import build_client
from scalar_ray.providers.http import RetryPolicy
from scalar_ray.simulator import SimulatorServer
from scalar_ray.simulator.grid import intervals, step_of
from tests.integration.providers.conftest import settings_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# October 2026: 15-minute day-ahead products, and the autumn DST change (25 October) inside the window.
MONTH = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
# Elspotprices ended with the switch to 15-minute products on 2025-10-01.
HISTORY = {("energinet", "Elspotprices"): Window(datetime(2025, 8, 15, tzinfo=UTC), datetime(2025, 9, 14, tzinfo=UTC))}
# Forecast feeds where several issues legitimately cover the same interval.
VINTAGED = {"meteologica", "volue"}


def test_every_dataset_gets_a_complete_duplicate_free_month(faulty_simulator: SimulatorServer) -> None:
    datasets = [(spec.provider, spec.id) for spec in load_catalogue()]
    # The clients fetch and parse in processes of their own while the simulator answers in this one: the month is CPU
    # work on both sides, which one process would do on one core. Four of them also overlap the Retry-After waits.
    with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("spawn")) as pool:
        fetched = list(pool.map(_fetch_and_check, [faulty_simulator.base_url] * len(datasets), datasets))
    problems = [problem for found, _ in fetched for problem in found]
    throttled = sum(count for _, count in fetched)
    injected = faulty_simulator.state.injected

    assert problems == []
    assert injected["429"] > 10 and injected["5xx"] > 10, injected  # the faults really happened
    assert throttled > 0


def _fetch_and_check(base_url: str, dataset: tuple[str, str]) -> tuple[list[str], int]:
    """In a worker process: fetch the dataset's month (or its history window) and check it; (problems, 429s met)."""
    spec = load_catalogue().get(*dataset)
    options = ClientOptions(policy=RetryPolicy(attempts=8, backoff_initial_s=0.05, backoff_max_s=0.5))
    client = build_client(spec.provider, settings_for(base_url), options)
    try:
        window = HISTORY.get(dataset, MONTH)
        return _check(spec, client.fetch(spec, spec.areas[0], window), window), client.stats().throttled
    finally:
        client.close()


def _check(spec: DatasetSpec, table: pa.Table, window: Window) -> list[str]:
    name = f"{spec.provider}/{spec.id}"
    if table.num_rows == 0:
        return [f"{name}: no rows"]
    problems = []
    rows = table.select(["series_id", "ts", "issued_at", "resolution"]).to_pylist()
    keys = Counter((row["series_id"], row["ts"], row["issued_at"]) for row in rows)
    if duplicates := [key for key, count in keys.items() if count > 1]:
        problems.append(f"{name}: {len(duplicates)} duplicate keys, e.g. {duplicates[0]}")
    by_series: dict[str, set[datetime]] = {}
    resolution: dict[str, str] = {}
    for row in rows:
        by_series.setdefault(row["series_id"], set()).add(row["ts"])
        resolution[row["series_id"]] = row["resolution"]
    if spec.provider not in VINTAGED:
        per_interval = Counter((row["series_id"], row["ts"]) for row in rows)
        if several := [key for key, count in per_interval.items() if count > 1]:
            problems.append(f"{name}: {len(several)} intervals with more than one vintage, e.g. {several[0]}")
    for series, stamps in by_series.items():
        expected = set(intervals(window.start, window.end, step_of(resolution[series])))
        if missing := expected - stamps:
            problems.append(f"{series}: {len(missing)} of {len(expected)} intervals missing, first {min(missing)}")
        if extra := stamps - expected:
            problems.append(f"{series}: {len(extra)} intervals off the grid or outside the window, e.g. {min(extra)}")
    return problems


def test_the_dst_change_day_has_100_quarter_hours_in_a_simulated_series(faulty_simulator: SimulatorServer) -> None:
    spec = load_catalogue().get("entsoe", "A44")
    client = build_client(
        "entsoe",
        settings_for(faulty_simulator.base_url),
        ClientOptions(policy=RetryPolicy(attempts=8, backoff_initial_s=0.05, backoff_max_s=0.5)),
    )
    # 2026-10-25 in Copenhagen runs from 22:00 UTC on the 24th to 23:00 UTC on the 25th.
    day = Window(datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC))

    table = client.fetch(spec, "DK1", day)
    client.close()

    assert table.num_rows == 100
    assert table["ts"].to_pylist()[-1] == datetime(2026, 10, 25, 22, 45, tzinfo=UTC)
    assert min(table["value"].to_pylist()) < max(table["value"].to_pylist())  # a real price curve, not a constant
    assert len(set(table["issued_at"].to_pylist())) == 1
    assert day.end - day.start == timedelta(hours=25)
