"""The data explorer: one page, served by the API itself, that searches, plots and follows the market-data routes.

    GET /explorer              the page (its view in the query string: ?id=…&tz=…&frequency=…)
    GET /explorer/{asset}      its script and stylesheet, and the vendored uPlot

The page holds no secret and reads nothing itself: it calls the ``/v1`` routes from the browser with the user's key,
so the same keys guard it as any client. Assets come from the package (``scalar_ray/serving/explorer``); uPlot is
vendored there from the npm registry by ``make setup`` (and by the image's build stage), never loaded from a CDN.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from scalar_ray.serving.errors import ApiError

__all__ = ["EXPLORER_ASSETS", "explorer_router"]

EXPLORER_ASSETS = Path(__file__).parent / "explorer"
_MEDIA_TYPES = {
    "explorer.js": "text/javascript; charset=utf-8",
    "explorer.css": "text/css; charset=utf-8",
    "vendor/uPlot.iife.min.js": "text/javascript; charset=utf-8",
    "vendor/uPlot.min.css": "text/css; charset=utf-8",
}


class _UnknownAssetError(ApiError):
    status, code = 404, "not_found"


class _AssetMissingError(ApiError):
    status, code = 503, "explorer_not_installed"


def _asset(name: str, media_type: str) -> Response:
    path = EXPLORER_ASSETS / name
    if not path.is_file():
        raise _AssetMissingError(f"the explorer's {name} is not installed", "run `make setup` (it vendors uPlot)")
    # Revalidated on every load: a new release's page never runs an old script.
    return Response(path.read_bytes(), media_type=media_type, headers={"Cache-Control": "no-cache"})


def explorer_router() -> APIRouter:
    """The page and its assets; outside the OpenAPI document (they are no API)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/explorer")
    async def page() -> Response:
        return _asset("index.html", "text/html; charset=utf-8")

    @router.get("/explorer/{name:path}")
    async def asset(name: str) -> Response:
        media_type = _MEDIA_TYPES.get(name)  # a fixed list: no path from a request reaches the file system
        if media_type is None:
            raise _UnknownAssetError(f"no explorer asset {name[:80]!r}", "open /explorer")
        return _asset(name, media_type)

    return router
