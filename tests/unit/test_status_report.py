"""`scalar-ray status` renders the operator's checklist from the supervisor's report."""

from __future__ import annotations

from dataclasses import asdict

import httpx

from commands.platform import _forecast_lines, render_status
from scalar_ray.telemetry.checklist import CHECKLIST
from scalar_ray.telemetry.snapshot import MetricPoint, checklist_lines

REPORT = {
    "actors": [
        {"name": "ingestion-0", "state": "ALIVE", "restarts": 2, "pid": 1},
        {"name": "acquisition-entsoe", "state": "RESTARTING", "restarts": 1, "pid": 2},
        {"name": "forecasting", "state": "ALIVE", "restarts": 0, "pid": 3},
    ],
    "details": {
        "ingestion-0": {
            "messages": 1200,
            "rows_written": 250000,
            "last_batch_rows": 12000,
            "last_commit_at": "2026-11-25T10:00:00+00:00",
            "last_batch_ms": 35.2,
            "freshness_p99_ms": 420.7,
            "redelivered": 3,
            "dead_lettered": 1,
            "cache_enabled": False,
            "cache_failures": 4,
            "writing_blocked_since": "2026-11-25T10:01:00+00:00",
        },
        "acquisition-entsoe": {
            "tasks": {"A44/DK1": {"consecutive_errors": 2}, "A44/DK2": {"consecutive_errors": 0}},
            "requests": 40,
            "retries": 5,
            "throttled": 2,
            "spooled": 7,
        },
        "forecasting": {
            "models": [
                {"model": "dk_demand/DK1", "last_issue": "2026-11-25T10:00:00+00:00", "error": None},
                {"model": "dk_demand/DK2", "last_issue": None, "error": "dk_demand/DK2: files unreadable"},
                {"model": "dk_dayahead/DK1", "last_issue": None, "error": None, "awaiting_model": True},
            ]
        },
    },
    "broker": {"backlog": {"entsoe": {"backlog": 12}, "elia": {"backlog": 0}}, "dead_letters": 1},
    "api": {
        "state": "RUNNING",
        "deployments": {
            "ForecastIngress": {"status": "HEALTHY", "replicas": {"RUNNING": 1}},
            "ModelServer": {"status": "UPSCALING", "replicas": {"RUNNING": 1, "STARTING": 1}},
        },
    },
}


def test_every_checklist_item_is_on_the_page() -> None:
    text = render_status(REPORT)

    assert "acquisition-entsoe       RESTARTING        1" in text
    assert "2 tasks, 1 failing, 40 requests (5 retried, 2 throttled), spooled 7; failing: A44/DK1" in text
    assert "250,000 rows; last batch 12,000 rows at 2026-11-25T10:00:00+00:00 (35 ms)" in text
    assert "p99 freshness (5 min) 421 ms" in text
    assert "cache down (4)" in text
    assert "WRITES BLOCKED since 2026-11-25T10:01:00+00:00" in text
    assert "consumer backlog: entsoe 12, elia 0" in text
    assert "dead letters awaiting review: 1" in text
    assert "forecast API: RUNNING (ForecastIngress 1 RUNNING, ModelServer 1 RUNNING 1 STARTING)" in text
    assert (
        "3 models, 1 issuing, last forecast at 2026-11-25T10:00:00+00:00; "
        "1 awaiting a first model (`scalar-ray train`); 1 failing: dk_demand/DK2: files unreadable" in text
    )


def test_the_operators_checklist_from_the_metrics_ends_the_page() -> None:
    points = [
        MetricPoint("scalar.provider.errors", "counter", "{error}", {"scalar.provider": "entsoe"}, 3),
        MetricPoint("process.uptime", "gauge", "s", {"scalar.worker": "ingestion-0"}, 42),
    ]
    report = {**REPORT, "checklist": [asdict(line) for line in checklist_lines(points)]}

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
