"""The provider simulator's HTTP application: each provider's real paths and wire formats, with injectable faults.

Routes mirror the real APIs under a ``/<provider>`` prefix (``/entsoe/api``, ``/nordpool/api/v2/...``), so the
real clients reach them by base URL alone. Faults (429 with Retry-After, 5xx, slow answers, malformed bodies) are
drawn per request from a seeded generator: a run is reproducible, and a retried request can succeed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scalar_ray.core.areas import area_by_code_or_none
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.meteologica import COUNTRY_NAMES
from scalar_ray.simulator.entsoe_wire import entsoe_document
from scalar_ray.simulator.feeds import Feeds
from scalar_ray.simulator.market import SyntheticMarket

__all__ = ["FaultConfig", "SimulatorState", "build_app"]

_OK, _NO_CONTENT = 200, 204


@dataclass(frozen=True)
class FaultConfig:
    """Fault injection: each request draws once; the rates are probabilities."""

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_slow: float = 0.0
    rate_malformed: float = 0.0
    retry_after_s: int = 1
    slow_s: float = 2.0
    seed: int = 1


class SimulatorState:
    """What the running simulator counts and remembers."""

    def __init__(self, faults: FaultConfig, seed: int, now: Callable[[], datetime]) -> None:
        self.faults = faults
        self.market = SyntheticMarket(seed)
        self.feeds = Feeds(self.market, now)
        self.now = now
        self.requests = 0
        self.injected: dict[str, int] = {"429": 0, "5xx": 0, "slow": 0, "malformed": 0}
        self._random = random.Random(faults.seed)  # noqa: S311 - fault injection, not cryptography
        self._lock = threading.Lock()
        self.contents = _meteologica_contents()
        self.curves = _volue_curves()

    def draw(self) -> str | None:
        """Which fault, if any, this request gets."""
        with self._lock:
            self.requests += 1
            roll = self._random.random()
        f = self.faults
        for name, rate in (
            ("429", f.rate_429),
            ("5xx", f.rate_5xx),
            ("slow", f.rate_slow),
            ("malformed", f.rate_malformed),
        ):
            if roll < rate:
                with self._lock:
                    self.injected[name] += 1
                return name
            roll -= rate
        return None


def build_app(faults: FaultConfig | None = None, seed: int = 7, now: Callable[[], datetime] | None = None) -> Starlette:
    """The simulator's ASGI application."""
    state = SimulatorState(faults or FaultConfig(), seed, now or (lambda: datetime.now(UTC)))

    def route(
        path: str, handler: Callable[[Request, SimulatorState], Response], methods: tuple[str, ...] = ("GET",)
    ) -> Route:
        async def endpoint(request: Request) -> Response:
            return await _with_faults(state, lambda: _run(handler, request, state))

        return Route(path, endpoint, methods=list(methods))

    async def health(_: Request) -> Response:
        # Never faulted: a health probe must tell the truth.
        return JSONResponse({"status": "ok", "requests": state.requests, "injected": state.injected})

    routes = [
        Route("/health", health),
        route("/entsoe/api", _entsoe),
        route("/elia/api/explore/v2.1/catalog/datasets/{dataset}/exports/json", _elia),
        route("/energinet/dataset/{dataset}", _energinet),
        route("/nordpool/connect/token", _token, ("POST",)),
        route("/nordpool/api/v2/{path:path}", _nordpool),
        route("/nordpool/portal/api/DayAheadPriceIndices", _nordpool_portal),
        route("/nordpool/portal/api/DayAheadPrices", _nordpool_day_ahead_prices),
        route("/jao/OWSMP/getauctions", _jao_auctions),
        route("/jao/{region}/api/data/{dataset}", _jao_publication),
        route("/meteologica/api/v1/login", _meteologica_login, ("POST",)),
        route("/meteologica/api/v1/contents", _meteologica_contents_route),
        route("/meteologica/api/v1/contents/{content:int}/data", _meteologica_data),
        route(
            "/meteologica/api/v1/contents/{content:int}/historical_data/{year:int}/{month:int}", _meteologica_archive
        ),
        route("/volue/oauth2/token", _token, ("POST",)),
        route("/volue/api/curves/get", _volue_curve),
        route("/volue/api/instances/{curve:int}", _volue_instances),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = state
    return app


async def _run(
    handler: Callable[[Request, SimulatorState], Response], request: Request, state: SimulatorState
) -> Response:
    # Payload generation is CPU work: keep the event loop free for other clients.
    return await asyncio.to_thread(handler, request, state)


async def _with_faults(state: SimulatorState, answer: Callable[[], Awaitable[Response]]) -> Response:
    fault = state.draw()
    if fault == "429":
        return JSONResponse(
            {"message": "Max allowed requests per minute"},
            status_code=429,
            headers={"Retry-After": str(state.faults.retry_after_s)},
        )
    if fault == "5xx":
        return JSONResponse({"message": "simulated outage"}, status_code=503)
    if fault == "slow":
        await asyncio.sleep(state.faults.slow_s)
    response = await answer()
    if fault == "malformed" and response.status_code == _OK:
        body = bytes(response.body)
        return Response(body[: max(1, len(body) // 3)], media_type=response.media_type)
    return response


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def _entsoe(request: Request, state: SimulatorState) -> Response:
    status, xml = entsoe_document(state.market, dict(request.query_params), state.now())
    return Response(xml, status_code=status, media_type="application/xml")


def _elia(request: Request, state: SimulatorState) -> Response:
    return _json(state.feeds.elia_export(request.path_params["dataset"], request.query_params["where"]))


def _energinet(request: Request, state: SimulatorState) -> Response:
    return _json(state.feeds.energinet_dataset(request.path_params["dataset"], dict(request.query_params)))


def _token(_: Request, __: SimulatorState) -> Response:
    return _json({"access_token": "simulated-token", "token_type": "Bearer", "expires_in": 3600})


def _nordpool(request: Request, state: SimulatorState) -> Response:
    status, body = state.feeds.nordpool_data_api(request.path_params["path"], dict(request.query_params))
    return Response(status_code=_NO_CONTENT) if status == _NO_CONTENT else _json(body)


def _nordpool_portal(request: Request, state: SimulatorState) -> Response:
    return _json(state.feeds.nordpool_portal(dict(request.query_params)))


def _nordpool_day_ahead_prices(request: Request, state: SimulatorState) -> Response:
    document = state.feeds.nordpool_day_ahead_prices(dict(request.query_params))
    return Response(status_code=204) if document is None else _json(document)


def _jao_publication(request: Request, state: SimulatorState) -> Response:
    params = request.path_params
    return _json(state.feeds.jao_publication(params["region"], params["dataset"], dict(request.query_params)))


def _jao_auctions(request: Request, state: SimulatorState) -> Response:
    status, body = state.feeds.jao_auctions(dict(request.query_params))
    return _json(body, status)


def _meteologica_login(_: Request, __: SimulatorState) -> Response:
    expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _json({"token": "simulated-jwt", "expiration_date": expires})


def _meteologica_token_error(request: Request) -> Response | None:
    if request.query_params.get("token") != "simulated-jwt":
        return _json({"message": "Error. Invalid token"}, 400)
    return None


def _meteologica_contents_route(request: Request, state: SimulatorState) -> Response:
    if error := _meteologica_token_error(request):
        return error
    return _json({"contents": [{"id": i, "name": name} for i, (name, _) in state.contents.items()]})


def _meteologica_data(request: Request, state: SimulatorState) -> Response:
    if error := _meteologica_token_error(request):
        return error
    content = state.contents.get(request.path_params["content"])
    if content is None:
        return _json({"message": "content not found"}, 404)
    issued = state.now().replace(second=0, microsecond=0)
    issued -= timedelta(minutes=issued.minute % 15)
    return _json(state.feeds.meteologica_issue(content[1], issued, 24 * 10))


def _meteologica_archive(request: Request, state: SimulatorState) -> Response:
    if error := _meteologica_token_error(request):
        return error
    content = state.contents.get(request.path_params["content"])
    if content is None:
        return _json({"message": "content not found"}, 404)
    body = state.feeds.meteologica_archive(content[1], request.path_params["year"], request.path_params["month"])
    return Response(body, media_type="application/zip")


def _volue_curve(request: Request, state: SimulatorState) -> Response:
    name = request.query_params.get("name", "")
    for curve_id, (curve_name, _) in state.curves.items():
        if curve_name == name:
            return _json(
                {"id": curve_id, "name": name, "frequency": "MIN15", "time_zone": "CET", "curve_type": "INSTANCES"}
            )
    return Response(status_code=204)


def _volue_instances(request: Request, state: SimulatorState) -> Response:
    curve = state.curves.get(request.path_params["curve"])
    if curve is None:
        return _json({"message": "curve not found"}, 404)
    return _json(state.feeds.volue_instances(curve[1], dict(request.query_params)))


def _stable_id(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=3).digest(), "big")


def _meteologica_contents() -> dict[int, tuple[str, tuple[str, str]]]:
    """Id → (content name, (dataset, area)) for every catalogue content, named as the client looks them up."""
    contents = {}
    for spec in load_catalogue().for_provider("meteologica"):
        for area in spec.areas:
            known = area_by_code_or_none(area)
            country = COUNTRY_NAMES.get(known.country, known.country) if known else area
            name = str(spec.params["content_name"]).format(area=area, country=country)
            contents[_stable_id(name)] = (name, (spec.id, area))
    return contents


def _volue_curves() -> dict[int, tuple[str, tuple[str, str]]]:
    """Id → (curve name, (kind, area)) for every catalogue curve."""
    curves = {}
    for spec in load_catalogue().for_provider("volue"):
        for area in spec.areas:
            name = str(spec.params["curve"]).format(area=area.lower())
            curves[_stable_id(name)] = (name, (name.split()[2] if name.startswith("pro") else "con", area))
    return curves
