"""The API's OpenAPI document, as committed in ``docs/openapi.json`` (a unit test keeps the two equal).

``python -m scalar_ray.serving.openapi`` rewrites the file. The document describes the routes, not a deployment, so
it is built from an application whose backends are never called.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, cast

from scalar_ray.feed import InMemoryChangeFeed
from scalar_ray.marketdata import MarketData
from scalar_ray.serving.api import build_api
from scalar_ray.serving.service import ForecastBackend
from scalar_ray.warehouse.base import InMemoryWarehouse

__all__ = ["OPENAPI_PATH", "openapi_document", "openapi_json"]

OPENAPI_PATH = Path("docs/openapi.json")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of every route (forecasts and market data)."""
    # FastAPI builds the document from the routes alone: the forecast backend is not reached, so none is made.
    market, feed = MarketData(InMemoryWarehouse()), InMemoryChangeFeed()
    app = build_api(cast("ForecastBackend", None), None, market=market, feed=feed)
    return app.openapi()


def openapi_json() -> str:
    """The committed file's content."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OPENAPI_PATH
    target.write_text(openapi_json(), encoding="utf-8")
    print(f"wrote {target}")
