"""The market dashboard's SQL, as Grafana expands it, on the StarRocks double (and a real StarRocks when configured),
over real payloads written through the StarRocks adapter: ENTSO-E prices for France, Danish load, Swedish generation
per type, and JAO's long DST day for the local-day arithmetic.

Each panel's answer is checked against what the payload says, computed here independently in Python: the prices per
Paris day and their hour counts, the newest forecast issued *before* each interval (a later issue must not leak in),
and skill against the seasonal naive per Copenhagen day. ENTSO-E imbalance (A85/A86) has no recorded capture in the
repository: those panels are checked on rows built here.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import fmean
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from scalar_ray.core.forecasts import FORECAST_SCHEMA
from scalar_ray.core.window import Window
from scalar_ray.marketdata import grafana
from scalar_ray.providers.entsoe_parser import parse_entsoe
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse.starrocks import StarRocksWarehouse
from tests.doubles.starrocks import StarRocksDouble
from tests.grafana_macros import expand
from tests.integration.warehouse.conftest import double_settings, real_starrocks_settings
from tests.unit.providers.helpers import context, fixture_bytes

pytestmark = pytest.mark.integration

PARIS, COPENHAGEN = ZoneInfo("Europe/Paris"), ZoneInfo("Europe/Copenhagen")
LOAD = "entsoe/A65/DK1/load"
JAO_PRICE = "jao/auctions/IF1-FR-GB/auction_price"
ISSUED = datetime(2023, 12, 29, 10, tzinfo=UTC)  # the dk_demand issue the dashboard must use
LATE = datetime(2023, 12, 30, 14, tzinfo=UTC)  # an issue after every interval it covers: never "as forecast"


@pytest.fixture(scope="module", params=["starrocks-double", "starrocks"])
def warehouse(request: pytest.FixtureRequest, starrocks_double: StarRocksDouble) -> Iterator[StarRocksWarehouse]:
    database = f"dash{uuid.uuid4().hex[:8]}"
    if request.param == "starrocks-double":
        adapter = StarRocksWarehouse(double_settings(starrocks_double, database=database))
    else:
        adapter = StarRocksWarehouse(real_starrocks_settings(database))
    for name, dataset in (
        ("A44_dayahead_prices_FR.xml", "A44"),
        ("A65_actual_load_DK1.xml", "A65"),
        ("A75_actual_generation_per_type_SE4.xml", "A75"),
    ):
        adapter.write(parse_entsoe(fixture_bytes("entsoe", name), context("entsoe", dataset)))
    jao = fixture_bytes("jao", "auctionapi_getauctions_IF1-FR-GB_dst_long_2025-10-26.json")
    asked = Window(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC))
    adapter.write(parse_jao(jao, FetchContext("jao", "auctions", asked, datetime(2025, 10, 25, 10, tzinfo=UTC), "")))
    adapter.write(imbalance_rows())
    adapter.write_forecasts(load_forecasts(adapter))
    yield adapter
    adapter.close()


def imbalance_rows() -> pa.Table:
    """An hour of DK1 imbalance: the price (A85) and the volumes up and down (A86), per quarter-hour."""
    start = datetime(2025, 3, 1, tzinfo=UTC)
    tables = []
    for dataset, variables in (
        ("A85", {"imbalance_price": (50.0, "EUR/MWh")}),
        ("A86", {"imbalance_volume_up": (10.0, "MW"), "imbalance_volume_down": (-10.0, "MW")}),
    ):
        asked = Window(start, start + timedelta(hours=1))
        builder = ObservationBuilder(FetchContext("entsoe", dataset, asked, start, "DK1"))
        for step in range(4):
            for variable, (level, unit) in variables.items():
                builder.add(
                    area="DK1", variable=variable, ts=start + timedelta(minutes=15 * step), value=level * (step + 1),
                    issued_at=start, unit=unit, resolution="PT15M",
                )  # fmt: skip
        tables.append(builder.build())
    return pa.concat_tables(tables)


def actual_load(adapter: StarRocksWarehouse) -> dict[datetime, float]:
    rows = adapter.query(f"select ts, value from observations where series_id = '{LOAD}'").to_pylist()  # noqa: S608
    return {row["ts"].replace(tzinfo=UTC): row["value"] for row in rows}


def load_forecasts(adapter: StarRocksWarehouse) -> pa.Table:
    """dk_demand/DK1 issued at ISSUED for every actual interval after it (off by +5 MW), and a LATE issue (exact)."""
    actual = actual_load(adapter)
    rows = []
    for issued, error in ((ISSUED, 5.0), (LATE, 0.0)):
        for ts, value in actual.items():
            if ts > ISSUED:
                rows.append(
                    {
                        "family": "dk_demand", "zone": "DK1", "model_version": "v1", "target": LOAD,
                        "issued_at": issued, "ts": ts, "mean": value + error, "q10": value - 50, "q90": value + 50,
                    }
                )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=FORECAST_SCHEMA)


def run(adapter: StarRocksWarehouse, sql: str, zones: list[str], tz: str, start: datetime, end: datetime) -> pa.Table:
    """The panel's SQL as Grafana sends it for these variables and this range."""
    return adapter.query(expand(sql, zones, tz, int(start.timestamp()), int(end.timestamp())))


def panel(title: str) -> grafana.MarketPanel:
    return next(member for _, members in grafana.PANELS for member in members if member.title.startswith(title))


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_day_ahead_prices_per_zone_are_the_payloads(warehouse: StarRocksWarehouse) -> None:
    start, end = datetime(2023, 5, 6, tzinfo=UTC), datetime(2023, 5, 9, tzinfo=UTC)
    answer = run(warehouse, panel("Day-ahead price").sql, ["FR", "DK1"], "Europe/Paris", start, end)
    payload = parse_entsoe(fixture_bytes("entsoe", "A44_dayahead_prices_FR.xml"), context("entsoe", "A44"))
    assert set(answer["metric"].to_pylist()) == {"FR"}
    assert answer["value"].to_pylist() == payload.sort_by("ts")["value"].to_pylist()
    assert [utc(ts) for ts in answer["time"].to_pylist()] == sorted(payload["ts"].to_pylist())


def test_daily_base_prices_are_per_local_day_with_their_hours(warehouse: StarRocksWarehouse) -> None:
    start, end = datetime(2023, 5, 6, tzinfo=UTC), datetime(2023, 5, 9, tzinfo=UTC)
    answer = run(warehouse, grafana.DAILY_PRICE, ["FR"], "Europe/Paris", start, end).to_pylist()
    payload = parse_entsoe(fixture_bytes("entsoe", "A44_dayahead_prices_FR.xml"), context("entsoe", "A44"))
    days: dict[datetime, list[float]] = defaultdict(list)
    for row in payload.to_pylist():
        local = row["ts"].astimezone(PARIS)
        days[datetime(local.year, local.month, local.day, tzinfo=PARIS).astimezone(UTC)].append(row["value"])
    assert [utc(row["time"]) for row in answer] == sorted(days)  # each Paris day starts at 22:00 UTC in May
    for row in answer:
        values = days[utc(row["time"])]
        assert row["base"] == pytest.approx(fmean(values))
        assert row["hours"] == row["intervals"] == len(values) == 24


def test_a_local_day_of_the_long_dst_change_holds_25_hours(warehouse: StarRocksWarehouse) -> None:
    local_day = grafana.local_day("ts")
    sql = f"""SELECT {local_day} AS day_start, COUNT(DISTINCT DATE_TRUNC('hour', ts)) AS hours
              FROM observations_latest WHERE series_id = '{JAO_PRICE}' AND $__timeFilter(ts) AND area IN ($zone)
              GROUP BY day_start ORDER BY day_start"""  # noqa: S608 - constants
    start, end = datetime(2025, 10, 25, 22, tzinfo=UTC), datetime(2025, 10, 26, 23, tzinfo=UTC)
    answer = run(warehouse, sql, ["IF1-FR-GB"], "Europe/Paris", start, end).to_pylist()
    assert [(utc(row["day_start"]), row["hours"]) for row in answer] == [(start, 25)]  # 00:00 CEST = 22:00 UTC


def test_generation_mix_is_each_production_type(warehouse: StarRocksWarehouse) -> None:
    start, end = datetime(2025, 10, 20, tzinfo=UTC), datetime(2025, 10, 24, tzinfo=UTC)
    answer = run(warehouse, panel("Generation mix").sql, ["SE4"], "Europe/Stockholm", start, end)
    payload = parse_entsoe(fixture_bytes("entsoe", "A75_actual_generation_per_type_SE4.xml"), context("entsoe", "A75"))
    expected = {f"SE4 {variable.removeprefix('generation_')}" for variable in payload["variable"].to_pylist()}
    assert set(answer["metric"].to_pylist()) == expected
    assert answer.num_rows == payload.num_rows
    assert pc.sum(answer["value"]).as_py() == pytest.approx(pc.sum(payload["value"]).as_py())


def test_load_against_its_forecast_takes_the_newest_issue_made_before_each_interval(
    warehouse: StarRocksWarehouse,
) -> None:
    start, end = datetime(2023, 12, 28, tzinfo=UTC), datetime(2023, 12, 31, tzinfo=UTC)
    actual = actual_load(warehouse)
    observed = run(warehouse, panel("Load against").sql, ["DK1"], "Europe/Copenhagen", start, end)
    assert set(observed["metric"].to_pylist()) == {"DK1 load"} and observed.num_rows == len(actual)
    forecast = run(warehouse, grafana.LOAD_FORECAST, ["DK1"], "Europe/Copenhagen", start, end).to_pylist()
    assert {row["metric"] for row in forecast} == {"DK1 dk_demand mean"}
    assert [utc(row["time"]) for row in forecast] == sorted(ts for ts in actual if ts > ISSUED)
    for row in forecast:  # the ISSUED forecast (+5 MW), never the LATE one issued after the interval
        assert row["value"] == pytest.approx(actual[utc(row["time"])] + 5.0)


def test_skill_against_the_seasonal_naive_per_local_day(warehouse: StarRocksWarehouse) -> None:
    start, end = datetime(2023, 12, 28, tzinfo=UTC), datetime(2023, 12, 31, tzinfo=UTC)
    answer = run(warehouse, grafana.SKILL, ["DK1"], "Europe/Copenhagen", start, end).to_pylist()
    actual = actual_load(warehouse)
    scored: dict[datetime, list[tuple[float, float]]] = defaultdict(list)
    for ts, value in actual.items():
        naive = actual.get(ts - timedelta(days=1))
        if ts > ISSUED and naive is not None:
            local = ts.astimezone(COPENHAGEN)
            day = datetime(local.year, local.month, local.day, tzinfo=COPENHAGEN).astimezone(UTC)
            scored[day].append((5.0, abs(naive - value)))
    assert scored, "the payload holds intervals with a forecast and the day before"
    assert [utc(row["time"]) for row in answer] == sorted(scored)
    for row in answer:
        errors = scored[utc(row["time"])]
        expected = 1 - fmean(e for e, _ in errors) / fmean(n for _, n in errors)
        assert row["metric"] == "dk_demand DK1"
        assert row["value"] == pytest.approx(expected)


@pytest.mark.parametrize(("title", "metrics"), [("Imbalance price", {"DK1"}), ("Imbalance volumes", None)])
def test_imbalance_prices_and_volumes(warehouse: StarRocksWarehouse, title: str, metrics: set[str] | None) -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    answer = run(warehouse, panel(title).sql, ["DK1"], "Europe/Copenhagen", start, start + timedelta(hours=1))
    expected = metrics or {"DK1 imbalance_volume_up", "DK1 imbalance_volume_down"}
    assert set(answer["metric"].to_pylist()) == expected
    assert answer.num_rows == 4 * len(expected)
    outside = run(warehouse, panel(title).sql, ["DK2"], "Europe/Copenhagen", start, start + timedelta(hours=1))
    assert outside.num_rows == 0  # another zone selected: nothing of DK1's


def test_the_zone_variables_query_lists_the_zones_with_prices(warehouse: StarRocksWarehouse) -> None:
    zone = next(v for v in grafana.dashboard()["templating"]["list"] if v["name"] == "zone")
    assert warehouse.query(zone["query"])["area"].to_pylist() == ["FR"]


# Each panel over the range its recorded payload covers (the zones and days differ: they are what was captured).
MAY, OCTOBER = datetime(2023, 5, 6, 22, tzinfo=UTC), datetime(2025, 10, 20, tzinfo=UTC)
DECEMBER = datetime(2023, 12, 28, tzinfo=UTC)
RENDERED = [
    ("Day-ahead price", ["FR"], "Europe/Paris", MAY, MAY + timedelta(days=2)),
    ("Generation mix", ["SE4"], "Europe/Stockholm", OCTOBER, OCTOBER + timedelta(days=4)),
    ("Load against", ["DK1"], "Europe/Copenhagen", DECEMBER, DECEMBER + timedelta(days=3)),
    ("Skill against", ["DK1"], "Europe/Copenhagen", DECEMBER, DECEMBER + timedelta(days=3)),
]


def test_the_panels_render_from_their_own_sql(warehouse: StarRocksWarehouse, tmp_path: Path) -> None:
    """The README's picture of the market dashboard: the panels' SQL on the double, drawn with matplotlib (Grafana
    cannot run here). ``MARKET_DASHBOARD_IMAGE=docs/images/market-dashboard.png`` writes it where the README shows it.
    """
    import matplotlib as mpl

    mpl.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(14, 8), constrained_layout=True)
    for axis, (title, zones, tz, start, end) in zip(axes.flat, RENDERED, strict=True):
        member = panel(title)
        frames = [run(warehouse, sql, zones, tz, start, end).to_pandas() for sql in [member.sql, *extra(member)]]
        for frame in frames:
            assert not frame.empty, member.title
            pivot = frame.pivot_table(index="time", columns="metric", values="value", aggfunc="first")
            if member.style == "stacked":
                axis.stackplot(pivot.index, pivot.fillna(0).T.to_numpy(), labels=pivot.columns, alpha=0.8)
            elif member.style == "bars":
                for offset, column in enumerate(pivot.columns):
                    axis.bar(pivot.index + timedelta(hours=2 * offset), pivot[column], width=0.3, label=column)
            else:
                for column in pivot.columns:
                    axis.plot(pivot.index, pivot[column], label=column, linewidth=1.2)
        axis.set_title(f"{member.title.replace('$tz', tz)} ({', '.join(zones)})", fontsize=10)
        axis.set_ylabel("skill (0: the naive's error)" if member.unit == "percentunit" else member.unit.split(": ")[-1])
        axis.legend(fontsize=7, loc="upper left")
        axis.grid(alpha=0.3)
    figure.suptitle(
        "scalar-ray market dashboard: its panels' SQL on the StarRocks double over recorded payloads "
        "(UTC; the dk_demand forecast is this test's, actual + 5 MW)"
    )
    target = Path(os.environ.get("MARKET_DASHBOARD_IMAGE") or tmp_path / "market-dashboard.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=90)
    plt.close(figure)
    assert target.stat().st_size > 10_000


def extra(member: grafana.MarketPanel) -> list[str]:
    return [grafana.LOAD_FORECAST] if member.title.startswith("Load against") else []
