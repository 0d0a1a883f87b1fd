"""`scalar-ray status` renders the operator's checklist from the supervisor's typed report."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from commands.platform import _forecast_lines
from scalar_ray.status import (
    AcquisitionStatus,
    ActorReport,
    ActorState,
    ApiStatus,
    AutoscalerStatus,
    BrokerStatus,
    DeploymentStatus,
    ForecastingStatus,
    ForecastModelStatus,
    IngestionStatus,
    PlatformStatus,
    TaskStatus,
    TopicBacklog,
)
from scalar_ray.status_text import render_status
from scalar_ray.telemetry.checklist import CHECKLIST
from scalar_ray.telemetry.snapshot import MetricPoint, checklist_lines

T = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def ingestion(**changes: object) -> IngestionStatus:
    counters = {
        "messages": 1200,
        "rows_written": 250000,
        "batches": 40,
        "dead_lettered": 1,
        "duplicates_dropped": 0,
        "redelivered": 3,
        "warehouse_errors": 0,
        "broker_errors": 0,
        "last_batch_rows": 12000,
        "last_batch_ms": 35.2,
        "last_commit_at": T,
        "last_error": "",
        "writing_blocked_since": T + timedelta(minutes=1),
        "freshness_p50_ms": 100.0,
        "freshness_p99_ms": 420.7,
        "cache_enabled": False,
        "cache_failures": 4,
    }
    return IngestionStatus(**{**counters, **changes})  # type: ignore[arg-type]


def model(name: str, last_issue: datetime | None, error: str | None, awaiting: bool = False) -> ForecastModelStatus:
    return ForecastModelStatus(name, None, last_issue, 0, 0, 0, error, awaiting, 0.0)


REPORT = PlatformStatus(
    actors=[
        ActorState("ingestion-0", "ALIVE", 2, 1),
        ActorState("acquisition-entsoe", "RESTARTING", 1, 2),
        ActorState("forecasting", "ALIVE", 0, 3),
        ActorState("autoscaler", "ALIVE", 0, 4),
    ],
    details={
        "ingestion-0": ActorReport(ingestion(), 60, 300),
        "autoscaler": ActorReport(
            AutoscalerStatus(3, 2, 6, 4_120, "backlog 4120 above 2000", changes=1, changed_at=T), 60, 150
        ),
        "acquisition-entsoe": ActorReport(
            AcquisitionStatus(
                provider="entsoe",
                tasks={"A44/DK1": TaskStatus(T, consecutive_errors=2), "A44/DK2": TaskStatus(T)},
                spooled=7,
                spooled_total=7,
                drained_total=0,
                requests=40,
                retries=5,
                throttled=2,
                http_failures=1,
            ),
            60,
            200,
        ),
        "forecasting": ActorReport(
            ForecastingStatus(
                (
                    model("dk_demand/DK1", T, None),
                    model("dk_demand/DK2", None, "dk_demand/DK2: files unreadable"),
                    model("dk_dayahead/DK1", None, None, awaiting=True),
                    replace(
                        model("dk_dayahead/DK2", T, None), fallbacks=3, fallback="entsoe/A44/DK2/price: stale: 9.0 h"
                    ),
                ),
                {},
            ),
            60,
            900,
        ),
    },
    broker=BrokerStatus({"entsoe": TopicBacklog(12, 0, 2, {0: 3, 1: 9}), "elia": TopicBacklog(0, 0, 2)}, 1),
    checklist=[],
    api=ApiStatus(
        "RUNNING",
        {
            "ForecastIngress": DeploymentStatus("HEALTHY", {"RUNNING": 1}),
            "ModelServer": DeploymentStatus("UPSCALING", {"RUNNING": 1, "STARTING": 1}),
        },
    ),
)


def test_every_checklist_item_is_on_the_page() -> None:
    text = render_status(REPORT)

    assert "acquisition-entsoe       RESTARTING        1" in text
    assert "2 tasks, 1 failing, 40 requests (5 retried, 2 throttled), spooled 7; failing: A44/DK1" in text
    assert "250,000 rows; last batch 12,000 rows at 2026-11-25T10:00:00+00:00 (35 ms)" in text
    assert "p99 freshness (5 min) 421 ms" in text
    assert "cache down (4)" in text
    assert "WRITES BLOCKED since 2026-11-25T10:01:00+00:00" in text
    assert "consumer backlog: entsoe 12 (p0 3, p1 9), elia 0" in text  # a partitioned topic, a plain one
    assert "dead letters awaiting review: 1" in text
    assert (
        "3 replicas (2-6), backlog 4,120, 1 changes, last change at 2026-11-25T10:00:00+00:00; "
        "backlog 4120 above 2000" in text
    )
    assert "forecast API: RUNNING (ForecastIngress 1 RUNNING, ModelServer 1 RUNNING 1 STARTING)" in text
    assert (
        "4 models, 2 issuing, last forecast at 2026-11-25T10:00:00+00:00; "
        "1 awaiting a first model (`scalar-ray train`); "
        "1 on the baseline (dk_dayahead/DK2: entsoe/A44/DK2/price: stale: 9.0 h); "
        "1 failing: dk_demand/DK2: files unreadable" in text
    )


def test_the_operators_checklist_from_the_metrics_ends_the_page() -> None:
    points = [
        MetricPoint("scalar.provider.errors", "counter", "{error}", {"scalar.provider": "entsoe"}, 3),
        MetricPoint("process.uptime", "gauge", "s", {"scalar.worker": "ingestion-0"}, 42),
    ]
    report = dataclasses.replace(REPORT, checklist=checklist_lines(points))

    lines = render_status(report).splitlines()
    start = lines.index("OPERATOR CHECKLIST (metrics; the Grafana dashboard shows the same items)")

    assert [line.split("  ")[1].strip() for line in lines[start + 1 :]] == [item.title for item in CHECKLIST]
    assert "  Provider errors      3  [entsoe 3]" in lines
    assert "  Worker uptime        shortest 0m42s  [ingestion-0 0m42s]" in lines
    assert "  Consumer backlog     no data yet" in lines


def test_the_demo_prints_a_forecast_and_an_error_body_as_they_came() -> None:
    forecast = {
        "issue_time": "2026-11-25T10:00:00Z",
        "source": "cache",
        "model_version": None,
        "targets": [
            {
                "target": "price",
                "unit": "EUR/MWh",
                "ts": ["2026-11-26T00:00:00Z", "2026-11-26T00:15:00Z"],
                "q10": [40.0, 41.0],
                "q50": [50.0, 51.5],
                "q90": [60.0, 61.0],
            }
        ],
    }

    shown = _forecast_lines(httpx.Response(200, json=forecast))
    error = _forecast_lines(httpx.Response(404, json={"error": {"code": "forecast_not_found", "message": "m"}}))

    assert shown.splitlines()[0] == "issued 2026-11-25T10:00:00Z (cache, version stored)"
    assert "price 2026-11-26T00:15:00Z:    51.50 EUR/MWh (q10 41.00, q90 61.00)" in shown
    assert "forecast_not_found" in error
