"""The Grafana dashboard and the OpenTelemetry Collector config: the dashboard is the checklist's (generated from it,
in `scalar-ray status`'s order), and the collector's pipelines are wired to components it defines."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from scalar_ray.status_text import render_checklist
from scalar_ray.telemetry.checklist import CHECKLIST, prometheus_name
from scalar_ray.telemetry.dashboard import DASHBOARD_PATH, dashboard_json
from scalar_ray.telemetry.snapshot import checklist_lines
from tests.conftest import PROJECT_ROOT

COLLECTOR = PROJECT_ROOT / "cluster/otel/collector.yaml"


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PROJECT_ROOT / DASHBOARD_PATH).read_text(encoding="utf-8"))
    return loaded


def test_the_committed_dashboard_is_the_generated_one() -> None:
    assert (PROJECT_ROOT / DASHBOARD_PATH).read_text(encoding="utf-8") == dashboard_json(), (
        "regenerate with `python -m scalar_ray.telemetry.dashboard`"
    )


def test_the_dashboard_and_status_show_the_same_checklist_in_the_same_order(dashboard: dict[str, Any]) -> None:
    panels = dashboard["panels"]
    first_row = panels[1 : 1 + len(CHECKLIST)]
    assert panels[0] == {**panels[0], "type": "row", "title": "Operator checklist"}
    status = render_checklist(checklist_lines([]))
    status_titles = [line.split("  ")[1].strip() for line in status[2:]]
    assert [panel["title"] for panel in first_row] == [item.title for item in CHECKLIST] == status_titles


def test_each_checklist_panel_queries_its_metric_under_its_prometheus_name(dashboard: dict[str, Any]) -> None:
    for item, panel in zip(CHECKLIST, dashboard["panels"][1:], strict=False):
        name = prometheus_name(item.metric, item.unit, item.kind)
        expressions = [target["expr"] for target in panel["targets"]]
        assert expressions and all(name in expr for expr in expressions), (item.title, expressions)
        for key, value in item.where.items():
            assert all(f'{key.replace(".", "_")}="{value}"' in expr for expr in expressions)


def test_the_collector_pipelines_use_only_components_it_defines() -> None:
    config = yaml.safe_load(COLLECTOR.read_text(encoding="utf-8"))
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == {"traces", "metrics", "logs"}
    for pipeline in pipelines.values():
        for kind in ("receivers", "processors", "exporters"):
            assert set(pipeline[kind]) <= set(config[kind]), (kind, pipeline[kind])
        assert pipeline["processors"][0] == "memory_limiter" and pipeline["processors"][-1] == "batch"
    assert set(config["service"]["extensions"]) <= set(config["extensions"])
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317") and protocols["http"]["endpoint"].endswith(":4318")


def test_grafana_provisioning_loads_the_dashboards_folder_that_compose_mounts() -> None:
    provider = yaml.safe_load((PROJECT_ROOT / "cluster/grafana/provisioning/scalar-ray.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())
    assert f"./cluster/grafana/dashboards:{path}:ro" in compose["services"]["lgtm"]["volumes"]
