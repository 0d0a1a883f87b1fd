"""What the serving path remembers, and that it never serves a stale forecast: the newest stored issue per model and
AutoGluon's predictions per (version, inputs)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from scalar_ray.forecasting.issuing import PredictionMemo
from scalar_ray.serving.errors import ForecastNotFoundError
from tests.unit.forecasting.builders import NOW
from tests.unit.serving.fixtures import SECOND_ISSUE, issue_rows, platform, store_issue


def test_a_newer_issue_replaces_the_remembered_one_at_once(tmp_path: Path) -> None:
    served = platform(tmp_path)
    first = asyncio.run(served.backend.latest("test_demand", "DK1", None))
    third = NOW - timedelta(minutes=15)
    rows = issue_rows(served.spec, "DK1", third, 300.0)
    store_issue(served.warehouse, served.spec, "DK1", rows)

    again = asyncio.run(served.backend.latest("test_demand", "DK1", None))
    served.cache.update_forecasts(rows)
    newer = asyncio.run(served.backend.latest("test_demand", "DK1", None))

    assert first.issue_time == again.issue_time == SECOND_ISSUE
    assert again is first  # remembered: Redis still names the same issue
    assert newer.issue_time == third and newer.source == "cache"
    assert newer.table["mean"][0].as_py() == 300.0


def test_an_issue_older_than_the_look_back_in_the_cache_is_not_served(tmp_path: Path) -> None:
    served = platform(tmp_path, cached=False)
    stale = NOW - timedelta(days=30)
    served.cache.update_forecasts(issue_rows(served.spec, "DK2", stale, 1.0))

    with pytest.raises(ForecastNotFoundError):
        asyncio.run(served.backend.latest("test_demand", "DK2", None))


def frame(values: list[float]) -> pd.DataFrame:
    index = pd.date_range("2026-11-20", periods=len(values), freq="15min")
    return pd.DataFrame({"item_id": "load", "timestamp": index, "target": values})


def test_predictions_are_reused_only_for_the_same_version_and_inputs() -> None:
    memo = PredictionMemo(size=2)
    calls: list[int] = []

    def run() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"mean": [float(len(calls))]})

    first = memo.predict("v1", frame([1.0, 2.0]), None, run, threading.Lock())
    same = memo.predict("v1", frame([1.0, 2.0]), None, run, threading.Lock())
    changed = memo.predict("v1", frame([1.0, 2.5]), None, run, threading.Lock())
    other_version = memo.predict("v2", frame([1.0, 2.0]), None, run, threading.Lock())

    assert len(calls) == 3 and memo.hits == 1
    assert same["mean"][0] == first["mean"][0] == 1.0
    assert changed["mean"][0] == 2.0 and other_version["mean"][0] == 3.0
    same.loc[0, "mean"] = -1.0  # a caller changing its copy changes nothing remembered
    assert memo.predict("v1", frame([1.0, 2.5]), None, run, threading.Lock())["mean"][0] == 2.0


def test_the_memo_forgets_the_least_recently_used() -> None:
    memo = PredictionMemo(size=1)
    calls: list[int] = []

    def run() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"mean": [0.0]})

    memo.predict("v1", frame([1.0]), None, run, threading.Lock())
    memo.predict("v1", frame([2.0]), None, run, threading.Lock())
    memo.predict("v1", frame([1.0]), None, run, threading.Lock())

    assert len(calls) == 3


def test_one_predictor_predicts_for_one_caller_at_a_time_and_equal_inputs_run_once() -> None:
    # AutoGluon's models keep state while they predict: two predictions at once on one predictor fail. A Serve replica
    # calls from several threads, so the predictor's guard lets one in, and a caller that waited for the same inputs
    # takes the result instead of running again.
    memo = PredictionMemo()
    guard = threading.Lock()
    inside: list[int] = []
    overlaps: list[int] = []
    runs: list[int] = []

    def run() -> pd.DataFrame:
        inside.append(1)
        if len(inside) > 1:
            overlaps.append(1)
        time.sleep(0.05)
        runs.append(1)
        inside.pop()
        return pd.DataFrame({"mean": [1.0]})

    inputs = [[1.0], [1.0], [1.0], [2.0], [3.0], [2.0]]
    callers = [threading.Thread(target=memo.predict, args=("v1", frame(v), None, run, guard)) for v in inputs]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()

    assert overlaps == []
    assert len(runs) == 3 and memo.hits == 3
