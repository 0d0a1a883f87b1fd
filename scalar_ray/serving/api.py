"""The platform's HTTP API (FastAPI), forecasts and market data: versioned routes, bearer keys, JSON errors.

Routes (OpenAPI at ``/openapi.json``, browsable at ``/docs``):

    GET  /v1/models                                   every model, champion version and backtest metrics
    GET  /v1/models/{family}/{zone}                   one model with all its versions
    GET  /v1/forecasts/{family}/{zone}/latest         the newest stored issue (Redis, then the warehouse)
    GET  /v1/forecasts/{family}/{zone}?as_of=…        the issue in force at an earlier time
    POST /v1/forecasts/{family}/{zone}/predict        forecast on request with the champion or a named version
    GET  /v1/series, /v1/series/values, /v1/instances…, /v1/revisions
                                                      market data: catalogue, series and instances (market_api)
    GET  /healthz  /readyz                            liveness and readiness (no authentication)

Every error is ``{"error": {"code", "message", "hint"}}`` with its status: 401 without a valid key (checked before a
body is read), 404 for an unknown model, version, forecast or route, 411/413 for a body without its length or over
64 KiB, 422 for malformed times, durations or versions and a horizon too long, 503 (with ``Retry-After``) for a
model that cannot be loaded, 504 when a prediction takes too long.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, Field, SecretStr
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from scalar_ray.core.durations import fixed_duration
from scalar_ray.feed import ChangeFeed
from scalar_ray.forecasting.registry import VERSION_PATTERN
from scalar_ray.marketdata import MarketData
from scalar_ray.serving.errors import ApiError, ProblemReport
from scalar_ray.serving.explorer_page import explorer_router
from scalar_ray.serving.forecasts import Forecast
from scalar_ray.serving.formats import ARROW_MEDIA_TYPE, CSV_MEDIA_TYPE, Format, choose_format, render
from scalar_ray.serving.market_api import market_router
from scalar_ray.serving.service import ForecastBackend

__all__ = ["PredictBody", "build_api"]

logger = logging.getLogger(__name__)

API_VERSION = "v1"


def _duration(text: str | None) -> timedelta | None:
    """An ISO-8601 duration of fixed length (PT6H, P1D); ``ValueError`` otherwise (the client sees a 422)."""
    return None if text is None else fixed_duration(text)


def _valid_duration(text: str | None) -> str | None:
    _duration(text)
    return text


_SERVER_ERROR = 500
# What a pattern in the OpenAPI document means, for the error message (the regex itself helps nobody).
_PATTERN_MEANING = {
    "horizon": "not an ISO-8601 duration of days and time (like PT4H or P1DT12H)",
    "version": "not a version id (letters, digits, '_', '.' and '-', as /v1/models lists them)",
}
MAX_BODY_BYTES = 64 * 1024  # a predict body is a few hundred bytes
_FRAMEWORK_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}

# Request times outside these are no forecast's (and the year 1 or 9999 overflows the window arithmetic).
_EARLIEST, _LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _utc(moment: datetime | None) -> datetime | None:
    """Times without an offset are UTC; one outside 1970 to 2200 is an invalid request (422)."""
    if moment is None:
        return None
    try:
        utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        utc = _LATEST  # 9999-12-31T23:59-14:00 has no UTC time: past the range as well
    if not _EARLIEST <= utc < _LATEST:
        raise _InvalidParameterError(f"time {moment.isoformat()} is outside {_EARLIEST.year} to {_LATEST.year}")
    return utc


# What the API accepts as a horizon: days and clock parts of ISO-8601 (months and years have no fixed length).
_CLOCK = r"T(\d+H(\d+M)?(\d+S)?|\d+M(\d+S)?|\d+S)"
DURATION_PATTERN = rf"^P(\d+D({_CLOCK})?|{_CLOCK})$"  # no look-ahead: pydantic's regex engine has none
Horizon = Annotated[
    str | None,
    Query(
        description="How far ahead, ISO-8601 days and time (PT4H, P1DT12H); default: the model's horizon.",
        examples=["PT4H"],
        pattern=DURATION_PATTERN,
    ),
]
FormatQuery = Annotated[
    Format | None,
    Query(alias="format", description="json (default), csv or arrow; the Accept header works too."),
]


class PredictBody(BaseModel):
    """An on-demand forecast."""

    version: str | None = Field(
        None,
        pattern=f"^{VERSION_PATTERN.pattern}$",
        description="A version from /v1/models/{family}/{zone}; default: the champion.",
    )
    issue_time: datetime | None = Field(
        None, description="Forecast from the data known at this time (ISO-8601, UTC unless an offset is given)."
    )
    horizon: Annotated[str | None, AfterValidator(_valid_duration)] = Field(
        None,
        pattern=DURATION_PATTERN,
        description="How far ahead, ISO-8601 days and time (PT4H, P1DT12H); default: the model's horizon.",
    )


class ErrorDetail(BaseModel):
    """What went wrong and what to do."""

    code: str
    message: str
    hint: str | None = None


class ErrorBody(BaseModel):
    """Every error response."""

    error: ErrorDetail


class TargetForecast(BaseModel):
    """One target's forecast, column by column."""

    target: str
    unit: str
    ts: list[datetime]
    mean: list[float]
    q10: list[float] | None = None
    q50: list[float] | None = None
    q90: list[float] | None = None


class ForecastHorizon(BaseModel):
    """The intervals the forecast covers."""

    start: datetime | None
    end: datetime | None
    steps: int


class ForecastFallback(BaseModel):
    """The baseline that issued a forecast instead of the version's model, and the input checks that failed."""

    model: str
    reason: str


class ForecastBody(BaseModel):
    """One issue of one model (JSON); CSV and Arrow carry the same values one row per target and interval."""

    model: str
    family: str
    zone: str
    issue_time: datetime
    model_version: str | None = Field(
        description="The model version that issued it (stored forecasts read from the warehouse, on-demand ones)."
    )
    fallback: ForecastFallback | None = Field(
        default=None,
        description="Set when an input check failed (a flat-lining or stale input, too little data): the named "
        "baseline issued this forecast instead of the version's model.",
    )
    source: str = Field(description="cache, warehouse or model")
    resolution: str
    quantiles: list[float]
    horizon: ForecastHorizon
    targets: list[TargetForecast]


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing or invalid API key"},
    404: {"model": ErrorBody, "description": "unknown model, zone or version; no such forecast"},
    422: {"model": ErrorBody, "description": "malformed time or duration; horizon too long"},
}
_FORECAST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": ForecastBody,
        "content": {CSV_MEDIA_TYPE: {}, ARROW_MEDIA_TYPE: {}},
        "description": "the forecast (JSON, CSV or an Arrow IPC stream)",
    },
    **_ERRORS,
}


def build_api(
    backend: ForecastBackend,
    api_keys: Sequence[SecretStr] | None,
    *,
    champion_poll_s: float = 10.0,
    predict_timeout_s: float = 60.0,
    market: MarketData | None = None,
    feed: ChangeFeed | None = None,
) -> FastAPI:
    """The FastAPI application over ``backend`` (and ``market``'s reads); authentication is on with ``api_keys``."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_watch_champions(backend, champion_poll_s))
        try:
            yield
        finally:
            task.cancel()

    # FastAPI's own OpenTelemetry instrumentation (on by default) times every request as
    # `http.server.request.duration` by route template and traces it, on the providers `telemetry.setup` installs.
    app = FastAPI(
        title="scalar-ray forecast API",
        version=API_VERSION,
        description=__doc__,
        lifespan=lifespan,
    )
    authenticate = _authenticator()
    keys = [key.get_secret_value().encode() for key in api_keys or ()]
    rendered = _RenderedForecasts()
    auth = [Depends(authenticate)]
    if market is not None:
        app.include_router(market_router(market, auth, feed))
        app.include_router(explorer_router())

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        return _problem(exc.report())

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # A fault of ours still answers in the API's error shape; the traceback goes to the replica's log (the
        # request line only: the Authorization header is never logged).
        logger.error("%s %s failed: %r", request.method, request.url.path, exc, exc_info=exc)
        return _problem(
            ProblemReport(
                500,
                "internal_error",
                "the server failed to answer",
                "retry; if it persists, the replica's log has the cause",
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def framework_error(_: Request, exc: StarletteHTTPException) -> Response:
        # The framework's own refusals (a body that is not JSON, an unknown route, a wrong method) in the API's shape.
        code = _FRAMEWORK_CODES.get(
            exc.status_code, "bad_request" if exc.status_code < _SERVER_ERROR else "internal_error"
        )
        return _problem(ProblemReport(exc.status_code, code, str(exc.detail), "see /docs for the routes and bodies"))

    app.add_middleware(_Guard, keys=keys)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'] if part not in ('query', 'body', 'path'))}: "
            f"{_meaning(error)}"
            for error in exc.errors()
        )
        return _problem(ProblemReport(422, "invalid_request", problems, "see /docs for the parameters"))

    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Readiness: registry and warehouse reachable (503 otherwise)")
    async def readyz() -> Response:
        report = await backend.readiness()
        return JSONResponse(report, status_code=200 if report["ready"] else 503)

    @app.get(
        f"/{API_VERSION}/models", tags=["models"], dependencies=auth, responses=_ERRORS, summary="Models and champions"
    )
    async def models() -> list[dict[str, Any]]:
        return await backend.model_list()

    @app.get(
        f"/{API_VERSION}/models/{{family}}/{{zone}}",
        tags=["models"],
        dependencies=auth,
        responses=_ERRORS,
        summary="One model with every version and its backtest metrics",
    )
    async def model(family: str, zone: str) -> dict[str, Any]:
        return await backend.model_detail(family, zone)

    @app.get(
        f"/{API_VERSION}/forecasts/{{family}}/{{zone}}/latest",
        tags=["forecasts"],
        dependencies=auth,
        responses=_FORECAST_RESPONSES,
        response_class=Response,
        summary="The newest forecast of a model (Redis, falling back to the warehouse)",
    )
    async def latest(
        family: str,
        zone: str,
        horizon: Horizon = None,
        fmt: FormatQuery = None,
        accept: Annotated[str | None, Header()] = None,
    ) -> Response:
        forecast = await backend.latest(family, zone, _checked_duration(horizon))
        return rendered.respond(backend, forecast, choose_format(fmt, accept))

    @app.get(
        f"/{API_VERSION}/forecasts/{{family}}/{{zone}}",
        tags=["forecasts"],
        dependencies=auth,
        responses=_FORECAST_RESPONSES,
        response_class=Response,
        summary="The forecast that was in force at an earlier time (the newest issued at or before as_of)",
    )
    async def as_of(
        family: str,
        zone: str,
        as_of: Annotated[datetime, Query(description="ISO-8601 time; UTC unless an offset is given.")],
        horizon: Horizon = None,
        fmt: FormatQuery = None,
        accept: Annotated[str | None, Header()] = None,
    ) -> Response:
        moment = _utc(as_of)
        assert moment is not None  # noqa: S101 - required parameter
        forecast = await backend.as_of(family, zone, moment, _checked_duration(horizon))
        return rendered.respond(backend, forecast, choose_format(fmt, accept))

    @app.post(
        f"/{API_VERSION}/forecasts/{{family}}/{{zone}}/predict",
        tags=["forecasts"],
        dependencies=auth,
        responses={
            **_FORECAST_RESPONSES,
            503: {"model": ErrorBody, "description": "this model cannot be loaded now (Retry-After)"},
            504: {"model": ErrorBody, "description": "the prediction took too long"},
        },
        response_class=Response,
        summary="Forecast on request with the champion or a named version",
    )
    async def predict(
        family: str,
        zone: str,
        body: PredictBody | None = None,
        fmt: FormatQuery = None,
        accept: Annotated[str | None, Header()] = None,
    ) -> Response:
        body = body or PredictBody()
        try:
            forecast = await asyncio.wait_for(
                backend.predict(family, zone, body.version, _utc(body.issue_time), _checked_duration(body.horizon)),
                timeout=predict_timeout_s,
            )
        except TimeoutError:
            report = ProblemReport(
                504, "timeout", f"{family}/{zone}: no forecast within {predict_timeout_s:.0f} s", "try again"
            )
            return _problem(report)
        return rendered.respond(backend, forecast, choose_format(fmt, accept))

    return app


def _meaning(error: Any) -> str:
    """A validation error's message; a pattern's mismatch says what the pattern stands for."""
    if error["type"] == "string_pattern_mismatch":
        return _PATTERN_MEANING.get(str(error["loc"][-1]), str(error["msg"]))
    return str(error["msg"]).removeprefix("Value error, ")


def _checked_duration(text: str | None) -> timedelta | None:
    try:
        return _duration(text)
    except ValueError as exc:
        raise _InvalidParameterError(str(exc)) from exc


class _InvalidParameterError(ApiError):
    status, code = 422, "invalid_request"


class _RenderedForecasts:
    """Response bodies of stored forecasts, which never change: the cached path renders an issue once per format."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._bodies: OrderedDict[tuple[Any, ...], tuple[bytes, str]] = OrderedDict()

    def respond(self, backend: ForecastBackend, forecast: Forecast, fmt: Format) -> Response:
        key = (forecast.model_id, forecast.issue_time, forecast.source, forecast.steps, fmt)
        rendered = self._bodies.get(key) if forecast.source != "model" else None
        if rendered is None:
            step = backend.catalogue.spec(forecast.family, forecast.zone).step
            rendered = render(forecast, step, fmt)
            if forecast.source != "model":
                self._bodies[key] = rendered
                if len(self._bodies) > self._size:
                    self._bodies.popitem(last=False)
        else:
            self._bodies.move_to_end(key)
        body, media_type = rendered
        return Response(body, media_type=media_type)


def _problem(report: ProblemReport) -> Response:
    headers = {"Retry-After": str(report.retry_after_s)} if report.retry_after_s else None
    if report.status == _UnauthorizedError.status:
        headers = {"WWW-Authenticate": "Bearer"}
    return JSONResponse(report.body(), status_code=report.status, headers=headers)


class _UnauthorizedError(ApiError):
    status, code = 401, "unauthorized"


def _key_refusal(keys: Sequence[bytes], header: str | None) -> _UnauthorizedError | None:
    """Why a request's ``Authorization`` header is refused, or None (always None without keys).

    Keys are compared in constant time; neither the presented token nor a key is ever logged.
    """
    if not keys:
        return None
    scheme, _, presented = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return _UnauthorizedError("an API key is required", "send Authorization: Bearer <key>")
    if not any(hmac.compare_digest(presented.encode(), key) for key in keys):
        return _UnauthorizedError("the API key is not valid", "ask the platform's operators for a key")
    return None


def _authenticator() -> Any:
    """The bearer scheme as a route dependency, so the OpenAPI document declares it.

    The check itself runs in the API's middleware (``_key_refusal``), before any body is read; by the time a
    route's dependencies run, its request was admitted.
    """
    scheme = HTTPBearer(auto_error=False, description="API key from the platform's secret (SCALAR_SERVE__API_KEYS)")

    # The dependency is a default, not an ``Annotated`` hint: FastAPI cannot resolve a postponed annotation that
    # names the local ``scheme``.
    async def authenticate(credentials: HTTPAuthorizationCredentials | None = Depends(scheme)) -> None:  # noqa: B008
        del credentials  # checked by the middleware

    return authenticate


class _Guard:
    """Before any body is read: the key (a stranger's body is never parsed) and the body's size.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` passed every response body through a memory stream,
    which cost a series-year answer (800 KB of Arrow) more than the route itself.
    """

    def __init__(self, app: ASGIApp, keys: Sequence[bytes]) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self._refusal(Request(scope)) if scope["type"] == "http" else None
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, request: Request) -> Response | None:
        refused = _key_refusal(self.keys, request.headers.get("Authorization"))
        if request.url.path.startswith(f"/{API_VERSION}/") and refused is not None:
            return _problem(refused.report())
        if request.method in {"POST", "PUT", "PATCH"}:
            length = request.headers.get("Content-Length", "")
            if not length.isdigit():
                return _problem(ProblemReport(411, "length_required", "a body needs its Content-Length", ""))
            if int(length) > MAX_BODY_BYTES:
                return _problem(
                    ProblemReport(413, "body_too_large", f"a body of {length} bytes; at most {MAX_BODY_BYTES}", "")
                )
        return None


async def _watch_champions(backend: ForecastBackend, every_s: float) -> None:
    """Hot reload: switch to newly promoted champions, forever (a failed round is logged and retried)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await backend.refresh_champions()
        except Exception:
            logger.exception("champion refresh failed; retrying in %.0f s", every_s)
