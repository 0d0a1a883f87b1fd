"""The explorer's page and assets: served without a key (they hold no data), from a fixed list only, and a clear 503
when `make setup` has not vendored the chart library."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from scalar_ray.marketdata import MarketData
from scalar_ray.serving import explorer_page
from scalar_ray.serving.api import build_api
from scalar_ray.warehouse.base import InMemoryWarehouse
from tests.unit.serving.fixtures import platform


@pytest.fixture
def api(tmp_path: Path) -> TestClient:
    """The platform's API with keys configured: the page stays open, the data routes do not."""
    app = build_api(
        platform(tmp_path).backend,
        [SecretStr("explorer-key-0123456789")],
        champion_poll_s=3600,
        market=MarketData(InMemoryWarehouse()),
    )
    return TestClient(app)


def test_the_page_and_its_own_assets_are_served_without_a_key(api: TestClient) -> None:
    page = api.get("/explorer")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert 'src="/explorer/vendor/uPlot.iife.min.js"' in page.text  # the chart library comes from here, not a CDN
    assert "https://" not in page.text
    script = api.get("/explorer/explorer.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert api.get("/v1/series").status_code == 401  # the data it asks for still needs the key


@pytest.mark.parametrize("name", ["../api.py", "vendor/../../api.py", "index.html.bak", "vendor/uPlot.LICENSE2"])
def test_a_name_outside_the_list_is_not_found(api: TestClient, name: str) -> None:
    answer = api.get(f"/explorer/{name}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_missing_vendored_library_answers_503_naming_the_fix(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<html></html>")
    monkeypatch.setattr(explorer_page, "EXPLORER_ASSETS", tmp_path)
    answer = api.get("/explorer/vendor/uPlot.iife.min.js")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "explorer_not_installed"
    assert "make setup" in answer.text
    assert api.get("/explorer").status_code == 200
