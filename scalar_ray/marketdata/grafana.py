"""Grafana's market dashboard, generated from code over the warehouse's SQL views (Grafana's MySQL data source).

Day-ahead prices, the generation mix, load against its forecasts, imbalance prices and volumes, and forecast skill
against a seasonal naive.

``python -m scalar_ray.marketdata.grafana`` rewrites ``cluster/grafana/dashboards/scalar-ray-market.json``; a unit test
keeps the committed file equal to this output and valid against Grafana's dashboard JSON model, and an integration
test runs every panel's SQL, as Grafana expands it, on the StarRocks double over real payloads.

The SQL is StarRocks' (the production warehouse; its MySQL protocol is what Grafana speaks): window functions for
"the newest issue", no ``QUALIFY``, no ``ASOF JOIN``. DATETIME columns hold UTC and the data source's session time
zone is UTC (cluster/grafana/provisioning/starrocks.yaml), so ``$__timeFilter`` compares UTC with UTC. Charts show
instants (Grafana draws them in the viewer's zone); a *local day* is a day in the ``tz`` variable's zone, so a
Copenhagen day of the long DST change holds 25 hours and the "hours" column says so.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalar_ray.telemetry.dashboard import dashboard_text, write_dashboard

__all__ = [
    "DAILY_PRICE",
    "LOAD_FORECAST",
    "MARKET_DASHBOARD_PATH",
    "MARKET_DASHBOARD_UID",
    "PANELS",
    "SKILL",
    "MarketPanel",
    "dashboard",
    "dashboard_json",
    "local_day",
]

MARKET_DASHBOARD_UID = "scalar-ray-market"
MARKET_DASHBOARD_PATH = Path("cluster/grafana/dashboards/scalar-ray-market.json")
DATASOURCE = {"type": "mysql", "uid": "${datasource}"}
DEFAULT_ZONE = "DK1"
TIME_ZONES = ("Europe/Copenhagen", "Europe/Brussels", "Europe/Paris", "Europe/Berlin", "Europe/Helsinki", "UTC")


def local_day(column: str) -> str:
    """The UTC instant at which ``column``'s local day (in ``$tz``) begins: 23, 24 or 25 hours after the one before."""
    return f"CONVERT_TZ(DATE_TRUNC('day', CONVERT_TZ({column}, 'UTC', '$tz')), '$tz', 'UTC')"


def _series(dataset: str, variable: str, metric: str = "area") -> str:
    """One ENTSO-E variable per selected zone, newest vintage, over the dashboard's range."""
    return f"""SELECT ts AS time, {metric} AS metric, value
FROM observations_latest
WHERE provider = 'entsoe' AND dataset = '{dataset}' AND {variable} AND area IN ($zone) AND $__timeFilter(ts)
ORDER BY ts"""


# The newest issue of each stored forecast made before its interval began: what a user of the forecast had.
_NEWEST_ISSUE = """SELECT family, zone, target, ts, mean, q10, q90 FROM (
    SELECT f.family, f.zone, f.target, f.ts, f.mean, f.q10, f.q90,
           ROW_NUMBER() OVER (PARTITION BY f.family, f.zone, f.target, f.ts ORDER BY f.issued_at DESC) AS issue_rank
    FROM forecasts f
    WHERE f.zone IN ($zone) AND f.issued_at <= f.ts AND $__timeFilter(f.ts){family}
) issues WHERE issue_rank = 1"""

DAILY_PRICE = f"""SELECT day_start AS time, area AS metric, AVG(value) AS base, COUNT(*) AS intervals,
       COUNT(DISTINCT DATE_TRUNC('hour', ts)) AS hours
FROM (
    SELECT {local_day("ts")} AS day_start, area, ts, value
    FROM observations_latest
    WHERE provider = 'entsoe' AND dataset = 'A44' AND variable = 'price' AND area IN ($zone) AND $__timeFilter(ts)
) prices
GROUP BY day_start, area
ORDER BY day_start, area"""

LOAD_FORECAST = f"""SELECT ts AS time, CONCAT(zone, ' ', family, ' mean') AS metric, mean AS value
FROM ({_NEWEST_ISSUE.format(family=" AND f.family = 'dk_demand'")}) newest
ORDER BY ts"""

# Skill = 1 - MAE(forecast) / MAE(seasonal naive), per local day: above 0 the model beats repeating the value of the
# same interval one day earlier (the daily seasonal naive, the baseline every family's backtest runs).
SKILL = f"""SELECT day_start AS time, CONCAT(family, ' ', zone) AS metric,
       1 - AVG(ABS(mean - actual)) / NULLIF(AVG(ABS(naive - actual)), 0) AS value
FROM (
    SELECT {local_day("f.ts")} AS day_start, f.family, f.zone, f.mean, a.value AS actual, n.value AS naive
    FROM ({_NEWEST_ISSUE.format(family="")}) f
    JOIN observations_latest a ON a.series_id = f.target AND a.ts = f.ts
    JOIN observations_latest n ON n.series_id = f.target AND n.ts = DATE_SUB(f.ts, INTERVAL 1 DAY)
) scored
GROUP BY day_start, family, zone
ORDER BY day_start"""


_GENERATION_TYPE = "CONCAT(area, ' ', REPLACE(variable, 'generation_', ''))"


@dataclass(frozen=True)
class MarketPanel:
    """One panel: its SQL (StarRocks, Grafana macros and variables unexpanded) and how Grafana draws it."""

    title: str
    description: str
    sql: str
    unit: str
    kind: str = "timeseries"  # or "table"
    style: str = "line"  # line, bars, stacked


PANELS: list[tuple[str, list[MarketPanel]]] = [
    (
        "Day-ahead prices",
        [
            MarketPanel(
                "Day-ahead price",
                "The SDAC day-ahead price per zone (ENTSO-E A44), newest vintage.",
                _series("A44", "variable = 'price'"),
                "suffix: EUR/MWh",
            ),
            MarketPanel(
                "Daily base price per local day ($tz)",
                "The mean price of each local day in $tz, with its intervals and hours: a DST day has 23 or 25.",
                DAILY_PRICE,
                "suffix: EUR/MWh",
                kind="table",
            ),
        ],
    ),
    (
        "Generation and load",
        [
            MarketPanel(
                "Generation mix",
                "Actual generation per production type (ENTSO-E A75), stacked.",
                _series("A75", "variable LIKE 'generation%'", _GENERATION_TYPE),
                "MW",
                style="stacked",
            ),
            MarketPanel(
                "Load against its forecasts",
                "Actual load (A65), the TSO's day-ahead forecast (A65 load_da) and the platform's dk_demand forecast"
                " (the newest issue made before each interval).",
                _series("A65", "variable IN ('load', 'load_da')", "CONCAT(area, ' ', variable)"),
                "MW",
            ),
        ],
    ),
    (
        "Imbalance",
        [
            MarketPanel(
                "Imbalance price",
                "The imbalance settlement price (ENTSO-E A85).",
                _series("A85", "variable = 'imbalance_price'"),
                "suffix: EUR/MWh",
            ),
            MarketPanel(
                "Imbalance volumes",
                "The total imbalance volume, up and down (ENTSO-E A86).",
                _series("A86", "variable LIKE 'imbalance_volume%'", "CONCAT(area, ' ', variable)"),
                "MW",
                style="bars",
            ),
        ],
    ),
    (
        "Forecast skill",
        [
            MarketPanel(
                "Skill against the seasonal naive per local day ($tz)",
                "1 - MAE(forecast) / MAE(same interval the day before), newest issue before delivery against the"
                " newest actual: above 0 the model beats the baseline.",
                SKILL,
                "percentunit",
                style="bars",
            ),
        ],
    ),
]
# The load panel shows two queries: the observations above and the platform's forecast.
_EXTRA_TARGETS = {"Load against its forecasts": [LOAD_FORECAST]}


def _field_config(panel: MarketPanel) -> dict[str, Any]:
    if panel.kind == "table":
        return {"defaults": {"unit": panel.unit}, "overrides": []}
    custom: dict[str, Any] = {"drawStyle": "bars" if panel.style == "bars" else "line", "lineWidth": 1}
    if panel.style == "stacked":
        custom |= {"fillOpacity": 60, "stacking": {"mode": "normal", "group": "A"}}
    else:
        custom |= {"fillOpacity": 10, "spanNulls": False}
    return {"defaults": {"unit": panel.unit, "custom": custom}, "overrides": []}


def _options(panel: MarketPanel) -> dict[str, Any]:
    if panel.kind == "table":
        return {"showHeader": True}
    return {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
        "tooltip": {"mode": "multi", "sort": "none"},
    }


def _panel(panel_id: int, panel: MarketPanel, grid: dict[str, int]) -> dict[str, Any]:
    sqls = [panel.sql, *_EXTRA_TARGETS.get(panel.title, [])]
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": grid,
        "fieldConfig": _field_config(panel),
        "options": _options(panel),
        "targets": [
            {
                "refId": chr(ord("A") + index),
                "datasource": DATASOURCE,
                "editorMode": "code",
                "format": "table" if panel.kind == "table" else "time_series",
                "rawQuery": True,
                "rawSql": sql,
            }
            for index, sql in enumerate(sqls)
        ],
    }


def _variables() -> list[dict[str, Any]]:
    first_tz = TIME_ZONES[0]
    return [
        {"name": "datasource", "label": "StarRocks", "type": "datasource", "query": "mysql", "hide": 0},
        {
            "name": "zone",
            "label": "Zone",
            "type": "query",
            "datasource": DATASOURCE,
            # The zones the warehouse holds prices for; the list follows what was acquired.
            "query": "SELECT DISTINCT area FROM series WHERE provider = 'entsoe' AND dataset = 'A44' ORDER BY area",
            "definition": "zones with day-ahead prices",
            "refresh": 1,
            "multi": True,
            "includeAll": False,
            "sort": 1,
            "current": {"text": [DEFAULT_ZONE], "value": [DEFAULT_ZONE]},
            "hide": 0,
        },
        {
            "name": "tz",
            "label": "Local days in",
            "type": "custom",
            "query": ",".join(TIME_ZONES),
            "options": [{"text": zone, "value": zone, "selected": zone == first_tz} for zone in TIME_ZONES],
            "current": {"text": first_tz, "value": first_tz},
            "multi": False,
            "hide": 0,
        },
    ]


def dashboard() -> dict[str, Any]:
    """The dashboard model: a row per theme, two panels a row."""
    panels: list[dict[str, Any]] = []
    next_id, y = 1, 0
    for row_title, members in PANELS:
        panels.append(
            {
                "id": next_id,
                "type": "row",
                "title": row_title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id, y = next_id + 1, y + 1
        width = 24 // len(members)
        for index, member in enumerate(members):
            panels.append(_panel(next_id, member, {"h": 9, "w": width, "x": index * width, "y": y}))
            next_id += 1
        y += 9
    return {
        "uid": MARKET_DASHBOARD_UID,
        "title": "scalar-ray market",
        "description": "Day-ahead prices, generation, load against forecasts, imbalance and forecast skill, from the "
        "warehouse's views (observations_latest, forecasts) through the MySQL data source on StarRocks.",
        "tags": ["scalar-ray", "market"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "5m",
        "time": {"from": "now-7d", "to": "now+1d"},
        "templating": {"list": _variables()},
        "annotations": {"list": []},
        "panels": panels,
    }


def dashboard_json() -> str:
    """The committed file's content."""
    return dashboard_text(dashboard())


if __name__ == "__main__":
    write_dashboard(dashboard_json(), MARKET_DASHBOARD_PATH, sys.argv)
