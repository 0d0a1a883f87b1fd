"""The explorer page in a real browser: Debian's chromium, driven by chromium-driver through Selenium, against the API
over a real DuckDB file and a real Redis change feed, with API keys on.

The data is a real JAO answer for the long day of 2025-10-26 (25 hourly auction prices): in Paris time the page must
plot 25 points for that one local day, one for its daily mean, and a copied link must reproduce the view in a fresh
tab (the key is not in the link: the new tab asks for it again). A batch committed while a chart is open, its change
published as ingestion publishes it, must reach the chart through the live push.

``EXPLORER_SCREENSHOT=docs/images/explorer.png`` also writes the README's screenshot.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import uvicorn
from pydantic import SecretStr
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from scalar_ray.core.window import Window
from scalar_ray.feed import change_events
from scalar_ray.feed.redis import RedisChangeFeed
from scalar_ray.local import RedisServer
from scalar_ray.marketdata import MarketData
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.serving.api import build_api
from scalar_ray.serving.explorer_page import EXPLORER_ASSETS
from scalar_ray.warehouse import DuckDBWarehouse
from tests.conftest import FIXTURES
from tests.integration.browser import WAIT_S, enter_key, lines, status, wait_for_points
from tests.integration.conftest import free_port
from tests.unit.serving.fixtures import platform
from tests.unit.spine_helpers import forecast_issue

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "explorer-key-0123456789abcdef"
PRICE = "jao/auctions/IF1-FR-GB/auction_price"
DK1_PRICE = "entsoe/A44/DK1/price"
LONG_DAY = "auctionapi_getauctions_IF1-FR-GB_dst_long_2025-10-26.json"


@dataclass
class Explorer:
    url: str
    warehouse: DuckDBWarehouse
    feed: RedisChangeFeed
    stored: pa.Table  # the canonical rows written


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[Explorer]:
    """The API with keys over a DuckDB file holding the real JAO long day, on a free port, with a Redis change feed."""
    folder = tmp_path_factory.mktemp("explorer")
    warehouse = DuckDBWarehouse(folder / "explorer.duckdb")
    raw = (FIXTURES / "providers" / "jao" / LONG_DAY).read_bytes()
    asked = Window(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC))
    stored = parse_jao(raw, FetchContext("jao", "auctions", asked, datetime(2025, 10, 25, 10, tzinfo=UTC), ""))
    warehouse.write(stored)
    # A revision of the day's first 6 prices an hour later (a second vintage), and a stored forecast of the price
    # over the day's 96 quarter-hours, with its quantiles (the band).
    revised = stored.filter(pa.compute.equal(stored["series_id"], PRICE)).slice(0, 6)
    revised = revised.set_column(
        revised.schema.get_field_index("value"), "value", pa.compute.add(revised["value"], 5.0)
    )
    later = pa.compute.add(revised["issued_at"], pa.scalar(timedelta(hours=1)))
    warehouse.write(revised.set_column(revised.schema.get_field_index("issued_at"), "issued_at", later))
    day_start = datetime(2025, 10, 25, 22, tzinfo=UTC)
    # The day-ahead model's forecast of the DK1 price, issued at the gate (12:00 CEST the day before), and the DK1
    # auction's hourly prices (no recorded DK1 capture of that day: built here) for the strategy's bids.
    issue = forecast_issue(
        day_start - timedelta(hours=12), "v1", 30.0, family="dk_dayahead", start=day_start, steps=100,
        targets=(DK1_PRICE,),
    )  # fmt: skip
    warehouse.write_forecasts(issue)
    long_day = Window(day_start, day_start + timedelta(hours=25))
    builder = ObservationBuilder(FetchContext("entsoe", "A44", long_day, day_start, "DK1"))
    for hour in range(25):
        builder.add(
            area="DK1", variable="price", ts=day_start + timedelta(hours=hour), value=35.0 + 2 * hour,
            issued_at=day_start - timedelta(hours=11), unit="EUR/MWh", resolution="PT60M",
        )  # fmt: skip
    warehouse.write(builder.build())
    feed = RedisChangeFeed(f"redis://127.0.0.1:{redis_server.port}/0", key=f"explorer:{uuid.uuid4().hex[:8]}")
    app = build_api(
        platform(folder).backend, [SecretStr(KEY)], champion_poll_s=3600, market=MarketData(warehouse), feed=feed
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the API did not start"
    yield Explorer(f"http://127.0.0.1:{port}", warehouse, feed, stored)
    server.should_exit = True
    thread.join(timeout=10)
    feed.close()
    warehouse.close()


def test_the_page_and_its_assets_come_from_the_server_without_a_key(explorer: Explorer, browser: WebDriver) -> None:
    assert (EXPLORER_ASSETS / "vendor" / "uPlot.iife.min.js").is_file(), "make setup vendors uPlot"
    browser.get(f"{explorer.url}/explorer")
    assert browser.title == "scalar-ray explorer"
    assert browser.execute_script("return typeof uPlot") == "function"  # served here: the machine has no internet
    scripts = [element.get_attribute("src") for element in browser.find_elements(By.TAG_NAME, "script")]
    assert all(str(src).startswith(explorer.url) for src in scripts), scripts


def test_search_then_plot_in_local_time_and_a_copied_link_reproduces_the_view(
    explorer: Explorer, browser: WebDriver
) -> None:
    browser.get(f"{explorer.url}/explorer")
    browser.find_element(By.ID, "q").send_keys("IF1-FR-GB price")
    browser.find_element(By.CSS_SELECTOR, "#search button").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: "401" in d.find_element(By.ID, "total").text)  # keys are on
    enter_key(browser, KEY)
    browser.find_element(By.CSS_SELECTOR, "#search button").click()
    row = WebDriverWait(browser, WAIT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, f'tr[data-id="{PRICE}"]'))
    row.find_element(By.TAG_NAME, "button").click()
    wait_for_points(browser, 25)  # the series' last week in UTC: its only day, 25 hours

    # The long day in Paris time: one local day, 25 hourly points; then its daily mean: one point.
    browser.find_element(By.ID, "tz").clear()
    browser.find_element(By.ID, "tz").send_keys("Europe/Paris")
    for field in ("start", "end"):
        browser.execute_script("arguments[0].value = '2025-10-26'", browser.find_element(By.ID, field))
    browser.find_element(By.CSS_SELECTOR, "#controls button[type=submit]").click()
    assert "25 points of 1 series in Europe/Paris" in wait_for_points(browser, 25)
    browser.execute_script("document.getElementById('frequency').value = 'P1D'")
    browser.find_element(By.CSS_SELECTOR, "#controls button[type=submit]").click()
    wait_for_points(browser, 1)
    screenshot = os.environ.get("EXPLORER_SCREENSHOT")

    link = browser.current_url
    assert KEY not in link
    assert f"id={PRICE.replace('/', '%2F')}" in link and "tz=Europe%2FParis" in link and "frequency=P1D" in link

    browser.switch_to.new_window("tab")  # a fresh tab: no key in its session storage
    browser.get(link)
    WebDriverWait(browser, WAIT_S).until(lambda d: "401" in status(d)[1], "the link alone must not carry the key")
    enter_key(browser, KEY)
    assert "1 points of 1 series in Europe/Paris" in wait_for_points(browser, 1)
    assert browser.find_element(By.ID, "frequency").get_attribute("value") == "P1D"
    assert browser.find_elements(By.CSS_SELECTOR, "#chart canvas"), "uPlot drew no canvas"

    # Back to hourly for the picture: the long day's two 02:00 hours in Paris time.
    browser.execute_script("document.getElementById('frequency').value = ''")
    browser.find_element(By.CSS_SELECTOR, "#controls button[type=submit]").click()
    wait_for_points(browser, 25)
    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(screenshot)
    browser.close()
    browser.switch_to.window(browser.window_handles[0])


def test_a_link_without_days_opens_the_series_last_week(explorer: Explorer, browser: WebDriver) -> None:
    # Before the live push below adds a later interval. The README's link names no days either.
    browser.get(f"{explorer.url}/explorer?id={PRICE}&tz=Europe%2FParis")
    enter_key(browser, KEY)
    wait_for_points(browser, 25)
    days = [browser.find_element(By.ID, field).get_attribute("value") for field in ("start", "end")]
    assert days == ["2025-10-20", "2025-10-26"]  # the week up to the day of the series' last interval, in Paris
    assert "start=2025-10-20" in browser.current_url  # and the link now names them


def test_a_committed_change_reaches_an_open_chart_through_the_live_push(explorer: Explorer, browser: WebDriver) -> None:
    view = f"id={PRICE}&tz=Europe%2FParis&start=2025-10-26&end=2025-10-27&live=1"
    browser.get(f"{explorer.url}/explorer?{view}")
    enter_key(browser, KEY)
    wait_for_points(browser, 25)
    time.sleep(1.0)  # the page's stream is open (it subscribes after the first plot)

    prices = explorer.stored.filter(pa.compute.equal(explorer.stored["series_id"], PRICE))
    one = prices.slice(0, 1)
    later = pa.compute.add(one["ts"], pa.scalar(timedelta(hours=25)))  # 25 h after the long day began: 27 Oct 00:00
    batch = one.set_column(one.schema.get_field_index("ts"), "ts", later)
    explorer.warehouse.write(batch)
    explorer.feed.publish(change_events(batch))  # what the ingestion worker does after the commit

    wait_for_points(browser, 26)


@pytest.mark.parametrize(
    ("overlay", "expected_lines"),
    [
        ("vintages", 1 + 2),
        ("staircase", 1 + 1),
        ("forecast", 1 + 3),
    ],  # the price, then two issues; a staircase; q90, mean, q10
)
def test_overlays_draw_vintages_a_staircase_and_a_forecast_band(
    explorer: Explorer, browser: WebDriver, overlay: str, expected_lines: int
) -> None:
    view = f"id={PRICE}&tz=Europe%2FParis&start=2025-10-26&end=2025-10-26&overlay={overlay}&lead=PT1H"
    browser.get(f"{explorer.url}/explorer?{view}&forecast=dk_dayahead%2FDK1")
    enter_key(browser, KEY)
    wait_for_points(browser, 25)
    WebDriverWait(browser, WAIT_S).until(lambda d: lines(d) == str(expected_lines), f"lines: {lines(browser)}")
    if overlay == "forecast":  # the q10-q90 band is filled between its two lines
        assert browser.execute_script("return window.explorerChart.bands.length") == 1


def test_the_battery_strategys_bids_against_the_cleared_prices(explorer: Explorer, browser: WebDriver) -> None:
    view = "tz=Europe%2FCopenhagen&start=2025-10-26&end=2025-10-26&overlay=strategy&forecast=dk_dayahead%2FDK1"
    browser.get(f"{explorer.url}/explorer?id={DK1_PRICE}&{view}")
    enter_key(browser, KEY)
    wait_for_points(browser, 25)  # the long day's 25 hourly prices in Copenhagen time
    WebDriverWait(browser, WAIT_S).until(lambda d: lines(d) == "3", f"lines: {lines(browser)}")  # price, limit, MW
    labels = browser.execute_script("return window.explorerChart.series.map((s) => s.label)")
    assert labels[2:] == ["DK1 bid limit", "DK1 cleared MW"]
    assert browser.execute_script("return window.explorerChart.series[3].scale") == "mw"  # on its own axis
    cleared = browser.execute_script("return window.explorerChart.data[3].filter((v) => v != null)")
    assert len(cleared) == 100 and any(cleared)  # every quarter-hour settled, some traded
