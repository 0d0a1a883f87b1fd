"""Both Grafana dashboards against Grafana's dashboard JSON model, and the market dashboard's SQL and variables.

The schemas are Grafana's (tests/unit/deploy/schemas/grafana/SOURCE.md). The market dashboard's queries must parse as
StarRocks SQL once Grafana has expanded its macros and variables; they run on the StarRocks double over real payloads
in tests/integration/warehouse/test_market_dashboard.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import sqlglot
import yaml

from scalar_ray.marketdata import grafana
from scalar_ray.telemetry.dashboard import DASHBOARD_PATH
from tests.conftest import PROJECT_ROOT
from tests.grafana_macros import expand

SCHEMAS = PROJECT_ROOT / "tests/unit/deploy/schemas/grafana"
DASHBOARDS = [DASHBOARD_PATH, grafana.MARKET_DASHBOARD_PATH]


def schema(name: str, definition: str | None = None) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.jsonschema.json").read_text(encoding="utf-8"))
    return {"$ref": f"#/definitions/{definition}", "definitions": loaded["definitions"]} if definition else loaded


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PROJECT_ROOT / path).read_text(encoding="utf-8"))
    return loaded


def errors(instance: object, against: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in jsonschema.Draft7Validator(against).iter_errors(instance)]


def test_the_committed_market_dashboard_is_the_generated_one() -> None:
    committed = (PROJECT_ROOT / grafana.MARKET_DASHBOARD_PATH).read_text(encoding="utf-8")
    assert committed == grafana.dashboard_json(), "regenerate with `python -m scalar_ray.marketdata.grafana`"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_each_dashboard_follows_grafanas_dashboard_json_model(path: Path) -> None:
    model = load(path)
    assert errors(model, schema("dashboard")) == []
    for panel in model["panels"]:
        if panel["type"] == "timeseries":
            assert errors(panel["options"], schema("timeseries", "Options")) == [], panel["title"]
            custom = panel["fieldConfig"]["defaults"].get("custom", {})
            assert errors(custom, schema("timeseries", "FieldConfig")) == [], panel["title"]
    ids = [panel["id"] for panel in model["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"


def test_the_schema_check_itself_refuses_what_grafana_would() -> None:
    broken = load(grafana.MARKET_DASHBOARD_PATH)
    broken["templating"]["list"][0]["current"] = {}  # a variable's current option without text and value
    broken["panels"][1]["gridPos"] = {"x": 0}
    assert len(errors(broken, schema("dashboard"))) >= 2


def market_targets() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["rawSql"])
        for panel in load(grafana.MARKET_DASHBOARD_PATH)["panels"]
        for target in panel.get("targets", [])
    ]


@pytest.mark.parametrize(("title", "sql"), market_targets(), ids=[title for title, _ in market_targets()])
def test_every_market_query_is_starrocks_sql_over_the_selected_zones(title: str, sql: str) -> None:
    assert "$zone" in sql and "$__timeFilter(" in sql, title  # the zone variable and the dashboard's range
    expanded = expand(sql, ["DK1", "DK2"], "Europe/Copenhagen", 1_761_436_800, 1_761_523_200)
    assert "$" not in expanded
    parsed = sqlglot.parse_one(expanded, read="starrocks")
    assert parsed.find(sqlglot.exp.Select) is not None
    assert "QUALIFY" not in expanded.upper() and "ASOF" not in expanded.upper()  # StarRocks has neither
    if "local day" in title:
        assert "CONVERT_TZ" in expanded and "'Europe/Copenhagen'" in expanded


def test_the_variables_are_a_zone_list_from_the_warehouse_and_iana_time_zones() -> None:
    variables = {variable["name"]: variable for variable in load(grafana.MARKET_DASHBOARD_PATH)["templating"]["list"]}
    assert variables["datasource"]["query"] == "mysql"
    zone = variables["zone"]
    assert zone["type"] == "query" and zone["multi"] and "FROM series" in zone["query"]
    zones = variables["tz"]["query"].split(",")
    assert [ZoneInfo(name).key for name in zones] == zones  # every one a zone the tz database knows
    assert variables["tz"]["current"]["value"] == "Europe/Copenhagen"


def test_compose_provisions_the_starrocks_data_source_in_utc_without_a_password_in_the_file() -> None:
    provisioning = PROJECT_ROOT / "cluster/grafana/provisioning/starrocks.yaml"
    source = yaml.safe_load(provisioning.read_text(encoding="utf-8"))["datasources"][0]
    assert source["type"] == "mysql" and source["url"] == "starrocks-fe:9030"
    assert source["jsonData"]["database"] == "scalar" and source["jsonData"]["timezone"] == "+00:00"
    assert re.fullmatch(r"\$\{?STARROCKS_ROOT_PASSWORD\}?", source["secureJsonData"]["password"])
    lgtm = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))["services"]["lgtm"]
    mounted = "./cluster/grafana/provisioning/starrocks.yaml:/otel-lgtm/grafana/conf/provisioning/datasources/"
    assert any(volume.startswith(mounted) for volume in lgtm["volumes"])
    assert "STARROCKS_ROOT_PASSWORD" in lgtm["environment"]
    assert (PROJECT_ROOT / grafana.MARKET_DASHBOARD_PATH).parent == PROJECT_ROOT / "cluster/grafana/dashboards"
