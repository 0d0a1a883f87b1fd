"""The market-data routes of the API: the read model (``scalar_ray.marketdata``) over HTTP.

    GET /v1/series                      search the catalogue (provider, dataset, area, variable, unit, q; paged)
    GET /v1/series/values               values of one or more series over [start, end): as_of, vintage, tz,
                                        frequency, aggregation, hours, layout=long|wide
    GET /v1/instances                   the issue times of a series
    GET /v1/instances/values            the values of one issue
    GET /v1/instances/relative          per local day, the issue made days_ahead before by time_of_day
    GET /v1/instances/staircase         per interval, the newest value issued at least lead before it
    GET /v1/instances/absolute          one delivery interval across issues
    GET /v1/revisions                   what changed between two knowledge times
    GET /v1/forecasts/{family}/{zone}/staircase   the platform's stored forecasts as a staircase (lead)
    GET /v1/stream                      committed changes as Server-Sent Events (filters; resume by Last-Event-ID)

Series ids hold slashes, so they travel as ``id`` query parameters (repeat it for several). Times are ISO-8601
with an offset (``Z`` or ``+01:00``); a time without one is refused rather than guessed. Answers come as JSON, CSV,
Arrow IPC or Parquet (``format`` or ``Accept``). An unknown series is 404 ``unknown_series``; a request the read
model cannot answer as asked (a bad frequency, too many values at once) is 422 naming the parameter.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Annotated, Any, Literal, TypeVar

import pyarrow as pa
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from scalar_ray.core.durations import fixed_duration
from scalar_ray.core.errors import ReadRequestError, UnknownSeriesError
from scalar_ray.core.window import Window
from scalar_ray.feed import ChangeFeed
from scalar_ray.forecasting.strategy import Battery
from scalar_ray.marketdata import AGGREGATIONS, HOURS, CatalogueQuery, MarketData, SeriesFrame, SeriesRequest
from scalar_ray.marketdata.catalogue import MAX_PAGE_SIZE
from scalar_ray.marketdata.series import in_zone, time_zone
from scalar_ray.serving.errors import ApiError
from scalar_ray.serving.tables import TableFormat, choose_table_format, render_table

__all__ = ["market_router"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_EARLIEST, _LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)

Ids = Annotated[list[str], Query(alias="id", min_length=1, max_length=200, description="Series id; repeat for more.")]
OneId = Annotated[str, Query(alias="id", max_length=512, description="Series id (search /v1/series for them).")]
Start = Annotated[datetime, Query(description="Window start, inclusive (ISO-8601 with offset).")]
End = Annotated[datetime, Query(description="Window end, exclusive (ISO-8601 with offset).")]
AsOf = Annotated[datetime | None, Query(description="Read the values known at this moment (default: now).")]
Zone = Annotated[str, Query(alias="tz", max_length=64, description="Output time zone (IANA), also the buckets'.")]
Fmt = Annotated[TableFormat | None, Query(alias="format", description="json (default), csv, arrow or parquet.")]
Accept = Annotated[str | None, Header()]
_TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {},
            "text/csv": {},
            "application/vnd.apache.arrow.stream": {},
            "application/vnd.apache.parquet": {},
        },
        "description": "a long table (columnar JSON, CSV, Arrow IPC stream or Parquet) and what it means",
    },
    404: {"description": "unknown series"},
    422: {"description": "a parameter the read model cannot answer as given"},
}


class _UnknownSeriesApiError(ApiError):
    status, code = 404, "unknown_series"


class _InvalidReadError(ApiError):
    status, code = 422, "invalid_request"


def _moment(value: datetime | None, name: str) -> datetime | None:
    """An aware UTC time within the platform's range, or a 422 naming the parameter."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise _InvalidReadError(f"{name} has no offset", "give Z or an offset such as +01:00")
    try:
        moment = value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 with a positive offset: before the first representable UTC time
        moment = _EARLIEST - timedelta(days=1)
    if not _EARLIEST <= moment < _LATEST:
        raise _InvalidReadError(f"{name} is outside 1970-2200", "give a time within the data's range")
    return moment


def _window(start: datetime, end: datetime) -> Window:
    first, last = _moment(start, "start"), _moment(end, "end")
    assert first is not None and last is not None  # noqa: S101 - required parameters
    if last <= first:
        raise _InvalidReadError("end is not after start", "windows are [start, end)")
    return Window(first, last)


def _lead(text: str, name: str) -> timedelta:
    try:
        return fixed_duration(text, allow_zero=True)
    except ValueError as exc:
        raise _InvalidReadError(f"{name}: {exc}", "an ISO-8601 duration such as PT6H or P1D") from exc


async def _read(call: Callable[[], _T]) -> _T:
    """Run a blocking read off the event loop; the read model's errors become the API's."""
    try:
        return await asyncio.to_thread(call)
    except UnknownSeriesError as exc:
        raise _UnknownSeriesApiError(exc.problem, "GET /v1/series searches the catalogue") from exc
    except ReadRequestError as exc:
        raise _InvalidReadError(str(exc), f"check the {exc.parameter} parameter") from exc


def _respond(table: pa.Table, meta: dict[str, Any], fmt: TableFormat | None, accept: str | None) -> Response:
    body, media_type = render_table(table, meta, choose_table_format(fmt, accept))
    return Response(body, media_type=media_type)


def _frame_meta(frame: SeriesFrame) -> dict[str, Any]:
    return {
        "series": [
            {"id": s.series_id, "resolution": s.resolution, "unit": s.unit, "aggregation": s.aggregation}
            for s in frame.series
        ],
        "time_zone": frame.time_zone,
        "frequency": frame.frequency,
        "hours": {"name": frame.hours.name, "definition": frame.hours.description},
        "as_of": frame.as_of,
        "vintage": frame.vintage,
    }


def market_router(market: MarketData, dependencies: list[Any], feed: ChangeFeed | None = None) -> APIRouter:
    """The market-data routes over ``market``, behind ``dependencies`` (the API's authentication)."""
    router = APIRouter(prefix="/v1", dependencies=dependencies)

    async def read(call: Callable[[], _T], series_ids: Sequence[str] = ()) -> _T:
        def checked() -> _T:
            _known(market, series_ids)  # a view of an unknown series would answer empty: say so instead
            return call()

        return await _read(checked)

    @router.get("/series", tags=["market data"], summary="Search the series catalogue", responses=_TABLE_RESPONSES)
    async def search(
        provider: Annotated[str | None, Query(max_length=64)] = None,
        dataset: Annotated[str | None, Query(max_length=128)] = None,
        area: Annotated[str | None, Query(max_length=64)] = None,
        variable: Annotated[str | None, Query(max_length=128)] = None,
        unit: Annotated[str | None, Query(max_length=32)] = None,
        resolution: Annotated[str | None, Query(max_length=16)] = None,
        q: Annotated[str | None, Query(max_length=200, description="Words found anywhere in id or metadata.")] = None,
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        query = CatalogueQuery(provider, dataset, area, variable, unit, resolution, q, page, page_size)
        found = await _read(lambda: market.search(query))
        meta = {"total": found.total, "page": found.page, "page_size": found.page_size, "pages": found.pages}
        return _respond(found.series, meta, fmt, accept)

    @router.get(
        "/series/values",
        tags=["market data"],
        summary="Values of series over [start, end) as known at a moment, in a time zone and frequency",
        responses=_TABLE_RESPONSES,
    )
    async def values(
        ids: Ids,
        start: Start,
        end: End,
        as_of: AsOf = None,
        vintage: Annotated[Literal["latest", "first", "all"], Query()] = "latest",
        tz: Zone = "UTC",
        frequency: Annotated[str | None, Query(max_length=8, description="PT15M, PT1H, P1D, P1W, P1M, P1Y …")] = None,
        aggregation: Annotated[
            Literal["mean", "sum", "min", "max", "first", "last"] | None,
            Query(description=f"One of {', '.join(AGGREGATIONS)}; default: mean, or sum for energy."),
        ] = None,
        hours: Annotated[Literal["base", "peak", "offpeak"], Query(description=", ".join(HOURS))] = "base",
        layout: Annotated[Literal["long", "wide"], Query()] = "long",
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        request = SeriesRequest(
            tuple(ids), _window(start, end), _moment(as_of, "as_of"), vintage, tz, frequency, aggregation, hours
        )
        frame = await _read(lambda: market.series(request))
        return _respond(frame.wide() if layout == "wide" else frame.table, _frame_meta(frame), fmt, accept)

    @router.get("/instances", tags=["market data"], summary="The issue times of a series", responses=_TABLE_RESPONSES)
    async def instances(
        series_id: OneId,
        issued_from: AsOf = None,
        issued_to: AsOf = None,
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        issued = _window(issued_from or _EARLIEST, issued_to or _LATEST - timedelta(days=1))
        table = await read(lambda: market.issues([series_id], issued), [series_id])
        return _respond(table, {"series": series_id}, fmt, accept)

    @router.get(
        "/instances/values", tags=["market data"], summary="The values of one issue", responses=_TABLE_RESPONSES
    )
    async def instance(
        series_id: OneId,
        issued_at: Annotated[datetime, Query(description="The issue time, exactly (from /v1/instances).")],
        tz: Zone = "UTC",
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        moment = _moment(issued_at, "issued_at")
        assert moment is not None  # noqa: S101 - required
        zone = await _read(lambda: time_zone(tz).key)
        table = await read(lambda: market.instance(series_id, moment), [series_id])
        return _respond(
            in_zone(table, time_zone(zone)), {"series": series_id, "issued_at": moment, "time_zone": zone}, fmt, accept
        )

    @router.get(
        "/instances/relative",
        tags=["market data"],
        summary="Per local delivery day, the newest issue made days_ahead days before, by a local time of day",
        responses=_TABLE_RESPONSES,
    )
    async def relative(
        ids: Ids,
        start: Start,
        end: End,
        days_ahead: Annotated[int, Query(ge=0, le=366)] = 1,
        time_of_day: Annotated[time, Query(description="Local time of day the issue must be made by (12:00).")] = time(
            12, 0
        ),
        tz: Zone = "Europe/Copenhagen",
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        window = _window(start, end)
        local_time = time_of_day.replace(tzinfo=None)
        table = await read(lambda: market.relative(ids, window, days_ahead, local_time, tz), ids)
        meta = {"series": ids, "days_ahead": days_ahead, "time_of_day": time_of_day.isoformat(), "time_zone": tz}
        return _respond(in_zone(table, time_zone(tz)), meta, fmt, accept)

    @router.get(
        "/instances/staircase",
        tags=["market data"],
        summary="Per interval, the newest value issued at least a lead time before it",
        responses=_TABLE_RESPONSES,
    )
    async def staircase(
        ids: Ids,
        start: Start,
        end: End,
        lead: Annotated[str, Query(max_length=16, description="ISO-8601 lead time (PT6H, P1D).")] = "P1D",
        tz: Zone = "UTC",
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        window, ahead = _window(start, end), _lead(lead, "lead")
        zone = await _read(lambda: time_zone(tz).key)
        table = await read(lambda: market.staircase(ids, window, ahead), ids)
        return _respond(in_zone(table, time_zone(zone)), {"series": ids, "lead": lead, "time_zone": zone}, fmt, accept)

    @router.get(
        "/instances/absolute",
        tags=["market data"],
        summary="How the value of one delivery interval evolved across issues",
        responses=_TABLE_RESPONSES,
    )
    async def absolute(
        series_id: OneId,
        delivery: Annotated[datetime, Query(description="The interval's start (ISO-8601 with offset).")],
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        moment = _moment(delivery, "delivery")
        assert moment is not None  # noqa: S101 - required
        table = await read(lambda: market.absolute(series_id, moment), [series_id])
        return _respond(table, {"series": series_id, "delivery": moment}, fmt, accept)

    @router.get(
        "/revisions",
        tags=["market data"],
        summary="The intervals whose value changed between two knowledge times",
        responses=_TABLE_RESPONSES,
    )
    async def revisions(
        ids: Ids,
        start: Start,
        end: End,
        since: Annotated[datetime, Query(description="The earlier knowledge time.")],
        until: Annotated[datetime | None, Query(description="The later knowledge time (default: now).")] = None,
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        window = _window(start, end)
        earlier = _moment(since, "since")
        later = _moment(until, "until") or datetime.now(UTC)
        assert earlier is not None  # noqa: S101 - required
        table = await read(lambda: market.revisions(ids, window, earlier, later), ids)
        return _respond(table, {"series": ids, "since": earlier, "until": later}, fmt, accept)

    @router.get(
        "/forecasts/{family}/{zone}/staircase",
        tags=["forecasts"],
        summary="Per target and interval, the newest stored forecast issued at least a lead time before it",
        responses=_TABLE_RESPONSES,
    )
    async def forecast_staircase(
        family: Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9_]+$")],
        zone: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        start: Start,
        end: End,
        lead: Annotated[str, Query(max_length=16, description="ISO-8601 lead time (PT6H, P1D).")] = "PT0S",
        tz: Zone = "UTC",
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        window, ahead = _window(start, end), _lead(lead, "lead")
        zone_name = await _read(lambda: time_zone(tz).key)
        table = await _read(lambda: market.forecast_staircase(family, zone, window, ahead))
        meta = {"family": family, "zone": zone, "lead": lead, "time_zone": zone_name}
        return _respond(in_zone(table, time_zone(zone_name)), meta, fmt, accept)

    _add_strategy(router, market)
    if feed is not None:
        _add_stream(router, feed)
    return router


def _add_strategy(router: APIRouter, market: MarketData) -> None:
    """The battery strategy's bids against the cleared prices (the explorer's strategy overlay)."""

    @router.get(
        "/strategy/{zone}/bids",
        tags=["forecasts"],
        summary="The battery strategy's bids for a delivery day, from the stored price forecast, against what cleared",
        responses=_TABLE_RESPONSES,
    )
    async def strategy(
        zone: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        day: Annotated[date, Query(description="Delivery day, local to the zone (YYYY-MM-DD).")],
        power_mw: Annotated[float, Query(gt=0, le=10_000, description="Battery power limit, MW.")] = 10.0,
        energy_mwh: Annotated[float, Query(gt=0, le=100_000, description="Usable capacity, MWh.")] = 20.0,
        efficiency: Annotated[float, Query(gt=0, le=1, description="Round-trip efficiency.")] = 0.9,
        tz: Zone = "UTC",
        fmt: Fmt = None,
        accept: Accept = None,
    ) -> Response:
        try:
            battery = Battery(power_mw=power_mw, energy_mwh=energy_mwh, efficiency=efficiency)
        except ValueError as exc:
            raise _InvalidReadError(str(exc).splitlines()[-1], "check power_mw and energy_mwh") from exc
        zone_name = await _read(lambda: time_zone(tz).key)
        bids = await _read(lambda: market.strategy_bids(zone, day, battery))
        settled = bids.settled
        meta = {
            "zone": zone, "day": day.isoformat(), "gate": bids.gate, "issued_at": bids.issued_at,
            "model_version": bids.model_version, "battery": battery.model_dump(), "time_zone": zone_name,
            "settlement": None if settled is None else {
                "pnl_eur": settled.pnl_eur, "dayahead_eur": settled.dayahead_eur,
                "imbalance_eur": settled.imbalance_eur, "imbalance_mwh": settled.imbalance_mwh,
                "traded_mwh": settled.traded_mwh,
            },
        }  # fmt: skip
        return _respond(in_zone(bids.table, time_zone(zone_name)), meta, fmt, accept)


_HEARTBEAT_S = 15.0


def _add_stream(router: APIRouter, feed: ChangeFeed) -> None:
    """``GET /v1/stream``: committed changes as Server-Sent Events, resumable by ``Last-Event-ID``."""

    @router.get(
        "/stream",
        tags=["market data"],
        summary="Committed changes as Server-Sent Events (resume with Last-Event-ID)",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "change, gap and keep-alive events"}},
    )
    async def stream(
        request: Request,
        ids: Annotated[list[str] | None, Query(alias="id", max_length=200, description="Series ids to follow.")] = None,
        provider: Annotated[str | None, Query(max_length=64)] = None,
        area: Annotated[str | None, Query(max_length=64)] = None,
        variable: Annotated[str | None, Query(max_length=128)] = None,
        last_id: Annotated[
            str | None, Query(pattern=r"^\d{1,16}(-\d{1,16})?$", description="Resume after this event id.")
        ] = None,
        last_event_id: Annotated[str | None, Header(pattern=r"^\d{1,16}(-\d{1,16})?$")] = None,
        max_events: Annotated[int | None, Query(ge=1, le=1_000_000, description="Close after this many.")] = None,
    ) -> StreamingResponse:
        wanted = _ChangeFilter(frozenset(ids or ()), provider, area, variable)

        async def events() -> AsyncIterator[str]:
            after = last_event_id or last_id or await feed.last_id()
            sent, quiet_since, gap_told = 0, monotonic(), False
            yield "retry: 2000\n\n"  # how long a client waits before it reconnects
            while not await request.is_disconnected():
                try:
                    read = await feed.read(after, count=500, block_ms=1000)
                except Exception as exc:  # the feed's store is away: say so; the client reconnects and resumes
                    logger.warning("change feed read failed: %s", type(exc).__name__)
                    yield f"event: error\ndata: {json.dumps({'message': 'the change feed is unavailable'})}\n\n"
                    return
                if read.gap and not gap_told:
                    gap_told = True
                    body = {"after": after, "message": "events after this id were past the retention: re-read them"}
                    yield f"event: gap\ndata: {json.dumps(body)}\n\n"
                for event in read.events:
                    after, gap_told = event.event_id, False
                    if wanted.matches(event.series_id):
                        yield f"id: {event.event_id}\nevent: change\ndata: {json.dumps(event.as_json())}\n\n"
                        sent, quiet_since = sent + 1, monotonic()
                        if max_events is not None and sent >= max_events:
                            return
                if monotonic() - quiet_since > _HEARTBEAT_S:
                    yield ": keep-alive\n\n"  # proxies close idle connections
                    quiet_since = monotonic()

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@dataclass(frozen=True)
class _ChangeFilter:
    """Series ids, or attributes of the id (``provider/dataset/area/variable``), all of which must match."""

    ids: frozenset[str]
    provider: str | None
    area: str | None
    variable: str | None

    def matches(self, series_id: str) -> bool:
        if series_id in self.ids:
            return True
        attributes = (self.provider, self.area, self.variable)
        if self.ids and not any(attributes):
            return False
        parts = series_id.split("/")
        provider, area, variable = (parts[0], parts[2], parts[3]) if len(parts) == 4 else (None, None, None)  # noqa: PLR2004
        return all(
            wanted is None or (have is not None and wanted.lower() == have.lower())
            for wanted, have in zip(attributes, (provider, area, variable), strict=True)
        )


def _known(market: MarketData, series_ids: Sequence[str]) -> None:
    """``UnknownSeriesError`` for series the warehouse never held."""
    metadata = market.warehouse.series_metadata
    unknown = [series_id for series_id in dict.fromkeys(series_ids) if metadata(series_id) is None]
    if unknown:
        raise UnknownSeriesError(unknown)
