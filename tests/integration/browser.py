"""Headless Debian chromium, driven by chromium-driver through Selenium, and what the explorer's tests read from it.

A test tool's own browser download cannot work on this machine (no internet): `make setup` installs Debian's
``chromium`` and ``chromium-driver`` and these helpers use exactly those. The explorer's ``#status`` element carries
``data-points`` (the plotted series' non-null points) and ``data-lines`` (lines with at least one point) for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WAIT_S = 30


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless chromium for the block; a missing browser fails (it is part of `make setup`), never skips."""
    if not (CHROMIUM.exists() and DRIVER.exists()):
        pytest.fail("chromium and chromium-driver are missing: `make setup` installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def status(driver: WebDriver) -> tuple[str, str]:
    """The plotted points and the status line's text."""
    element = driver.find_element(By.ID, "status")
    return element.get_attribute("data-points") or "", element.text


def lines(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "status").get_attribute("data-lines") or ""


def wait_for_points(driver: WebDriver, points: int) -> str:
    """The status line once the chart holds ``points`` points of the plotted series."""
    WebDriverWait(driver, WAIT_S).until(
        lambda d: status(d)[0] == str(points), f"never {points} points: {status(driver)}"
    )
    return status(driver)[1]


def wait_for_a_chart(driver: WebDriver) -> int:
    """The points of the first chart drawn (whatever their number)."""
    WebDriverWait(driver, WAIT_S).until(lambda d: status(d)[0] != "", f"no chart: {status(driver)}")
    return int(status(driver)[0])


def enter_key(driver: WebDriver, key: str) -> None:
    """Type the API key into the page, as a user does when keys are configured."""
    field = driver.find_element(By.ID, "key")
    field.clear()
    field.send_keys(key)
    driver.execute_script("arguments[0].dispatchEvent(new Event('change'))", field)
