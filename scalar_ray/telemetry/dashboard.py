"""The Grafana dashboard, generated from the checklist so that Grafana and `scalar-ray status` show the same items.

``python -m scalar_ray.telemetry.dashboard`` rewrites ``cluster/grafana/dashboards/scalar-ray-operations.json``; a unit
test keeps the committed file equal to this output. Queries use the Prometheus names the OTLP translation gives
(``prometheus_name``) and a datasource variable, so the dashboard works on otel-lgtm, AKS's managed Prometheus or
any Prometheus-compatible store.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from scalar_ray.telemetry.checklist import CHECKLIST, ChecklistItem, prometheus_name

__all__ = [
    "DASHBOARD_PATH",
    "DASHBOARD_UID",
    "checklist_query",
    "dashboard",
    "dashboard_json",
    "dashboard_text",
    "write_dashboard",
]

DASHBOARD_UID = "scalar-ray-operations"
DASHBOARD_PATH = Path("cluster/grafana/dashboards/scalar-ray-operations.json")
_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_WINDOW = "$__rate_interval"


def _label(attribute: str) -> str:
    return attribute.replace(".", "_")


def _selector(item: ChecklistItem) -> str:
    matchers = ",".join(f'{_label(key)}="{value}"' for key, value in sorted(item.where.items()))
    return f"{{{matchers}}}" if matchers else ""


def checklist_query(item: ChecklistItem) -> list[tuple[str, str]]:
    """The panel's PromQL queries with their legends, for one checklist item."""
    name, by = prometheus_name(item.metric, item.unit, item.kind), _label(item.by)
    legend = f"{{{{{by}}}}}"
    if item.kind == "histogram":
        buckets = f"rate({name}_bucket{_selector(item)}[{_WINDOW}])"
        return [
            (f"histogram_quantile({q}, sum by (le, {by}) ({buckets}))", f"p{round(q * 100)} {legend}")
            for q in (0.5, 0.99)
        ]
    if item.kind == "counter":
        return [(f"sum by ({by}) (increase({name}{_selector(item)}[{_WINDOW}]))", legend)]
    # Gauges as the item reads them: uptime's shortest per worker (a drop is a restart), the fullest spool.
    return [(f"{item.reads} by ({by}) ({name}{_selector(item)})", legend)]


def _panel(
    panel_id: int, title: str, description: str, queries: list[tuple[str, str]], unit: str, grid: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": _DATASOURCE,
        "gridPos": grid,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
            "tooltip": {"mode": "multi", "sort": "none"},
        },
        "targets": [
            {"refId": chr(ord("A") + index), "datasource": _DATASOURCE, "expr": expr, "legendFormat": legend}
            for index, (expr, legend) in enumerate(queries)
        ],
    }


def _row(panel_id: int, title: str, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
        "panels": [],
    }


# Ray's own metrics (its metrics export port, scraped by the collector), and the forecast API's.
_API_BUCKETS = f"rate(http_server_request_duration_seconds_bucket[{_WINDOW}])"
_PLATFORM_PANELS: list[tuple[str, str, list[tuple[str, str]], str]] = [
    (
        "Ray actors by state",
        "Actors of the cluster by state (the dashboard's Actors view, over time).",
        [('sum by (State) (ray_actors{Source="gcs"})', "{{State}}")],
        "short",
    ),
    (
        "Ray node CPU",
        "CPU utilisation per node.",
        [("avg by (instance) (ray_node_cpu_utilization)", "{{instance}}")],
        "percent",
    ),
    (
        "Ray node memory",
        "Memory used per node.",
        [("sum by (instance) (ray_node_mem_used_host)", "{{instance}}")],
        "bytes",
    ),
    (
        "Forecast API latency",
        "The forecast API's request duration by route (http.server.request.duration).",
        [
            (
                f"histogram_quantile(0.99, sum by (le, http_route) ({_API_BUCKETS}))",
                "p99 {{http_route}}",
            ),
            (
                f"histogram_quantile(0.5, sum by (le, http_route) ({_API_BUCKETS}))",
                "p50 {{http_route}}",
            ),
        ],
        "s",
    ),
    (
        "Forecast API requests",
        "Requests per second by status code.",
        [
            (
                f"sum by (http_response_status_code) (rate(http_server_request_duration_seconds_count[{_WINDOW}]))",
                "{{http_response_status_code}}",
            )
        ],
        "reqps",
    ),
    (
        "Ray Serve replicas",
        "Serve replicas per deployment (Ray's own metric).",
        [("sum by (application, deployment) (ray_serve_deployment_replica_healthy)", "{{deployment}}")],
        "short",
    ),
]

_UNITS = {
    "s": "s",
    "1": "percentunit",
    "{message}": "short",
    "{response}": "short",
    "{error}": "short",
    "{forecast}": "short",
}


def dashboard() -> dict[str, Any]:
    """The dashboard model: the checklist's panels first, in its order, then Ray and the API."""
    panels: list[dict[str, Any]] = [_row(1, "Operator checklist", 0)]
    next_id = 2
    for index, item in enumerate(CHECKLIST):
        grid = {"h": 8, "w": 8, "x": (index % 3) * 8, "y": 1 + (index // 3) * 8}
        unit = "s" if item.metric == "process.uptime" else _UNITS.get(item.unit, "short")
        panels.append(_panel(next_id, item.title, item.meaning, checklist_query(item), unit, grid))
        next_id += 1
    top = 1 + ((len(CHECKLIST) + 2) // 3) * 8
    panels.append(_row(next_id, "Ray cluster and forecast API", top))
    next_id += 1
    for index, (title, description, queries, unit) in enumerate(_PLATFORM_PANELS):
        grid = {"h": 8, "w": 8, "x": (index % 3) * 8, "y": top + 1 + (index // 3) * 8}
        panels.append(_panel(next_id, title, description, queries, unit, grid))
        next_id += 1
    return {
        "uid": DASHBOARD_UID,
        "title": "scalar-ray operations",
        "description": "The operator's checklist (as `scalar-ray status` prints it), Ray and the forecast API.",
        "tags": ["scalar-ray"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Metrics",
                    "type": "datasource",
                    "query": "prometheus",
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def dashboard_text(model: dict[str, Any]) -> str:
    """A dashboard model as its committed file holds it (stable key order, a final newline)."""
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def write_dashboard(text: str, default: Path, argv: list[str]) -> None:
    """Write a generated dashboard to ``argv[1]`` or its committed path (the generators' ``__main__``)."""
    target = Path(argv[1]) if len(argv) > 1 else default
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")


def dashboard_json() -> str:
    """The committed file's content."""
    return dashboard_text(dashboard())


if __name__ == "__main__":
    write_dashboard(dashboard_json(), DASHBOARD_PATH, sys.argv)
