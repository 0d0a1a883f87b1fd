"""The client's HTTP side: one request builder, a sync and an async transport, one retry rule."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from scalar_ray.client.answers import Answer
from scalar_ray.core.backoff import Backoff
from scalar_ray.core.errors import ScalarError

__all__ = ["AsyncMarketDataClient", "ClientError", "MarketDataClient"]

_RETRIED_STATUSES = frozenset({429, 502, 503, 504})
_ARROW = "application/vnd.apache.arrow.stream"
_LONGEST_PAUSE_S = 60.0


class ClientError(ScalarError):
    """The API refused a request (4xx), or kept failing past the retries; ``code`` is the API's error code."""

    def __init__(self, status: int, code: str, message: str, hint: str | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint
        super().__init__(f"{status} {code}: {message}" + (f" ({hint})" if hint else ""))


@dataclass(frozen=True)
class _Request:
    path: str
    params: list[tuple[str, str]]


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone: give an aware datetime (the API refuses to guess)")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _params(**given: Any) -> list[tuple[str, str]]:
    """Query parameters: lists repeat their key (``id``), datetimes go out in UTC, None is left out."""
    out: list[tuple[str, str]] = []
    for key, value in given.items():
        if value is None:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            out.append((key, _iso(item) if isinstance(item, datetime) else str(item)))
    return out


class _Requests:
    """The API's read routes as requests (shared by both clients)."""

    @staticmethod
    def search(**filters: Any) -> _Request:
        return _Request("/v1/series", _params(**filters))

    @staticmethod
    def series(ids: Sequence[str], start: datetime, end: datetime, **options: Any) -> _Request:
        return _Request("/v1/series/values", _params(id=list(ids), start=start, end=end, **options))

    @staticmethod
    def issues(series_id: str, **options: Any) -> _Request:
        return _Request("/v1/instances", _params(id=series_id, **options))

    @staticmethod
    def instance(series_id: str, issued_at: datetime, **options: Any) -> _Request:
        return _Request("/v1/instances/values", _params(id=series_id, issued_at=issued_at, **options))

    @staticmethod
    def staircase(ids: Sequence[str], start: datetime, end: datetime, lead: str, **options: Any) -> _Request:
        return _Request("/v1/instances/staircase", _params(id=list(ids), start=start, end=end, lead=lead, **options))

    @staticmethod
    def relative(ids: Sequence[str], start: datetime, end: datetime, **options: Any) -> _Request:
        return _Request("/v1/instances/relative", _params(id=list(ids), start=start, end=end, **options))

    @staticmethod
    def absolute(series_id: str, delivery: datetime) -> _Request:
        return _Request("/v1/instances/absolute", _params(id=series_id, delivery=delivery))

    @staticmethod
    def forecast_staircase(family: str, zone: str, start: datetime, end: datetime, **options: Any) -> _Request:
        return _Request(f"/v1/forecasts/{family}/{zone}/staircase", _params(start=start, end=end, **options))

    @staticmethod
    def revisions(ids: Sequence[str], start: datetime, end: datetime, since: datetime, **options: Any) -> _Request:
        return _Request("/v1/revisions", _params(id=list(ids), start=start, end=end, since=since, **options))


def _pieces(start: datetime, end: datetime, chunk: timedelta) -> Iterator[tuple[datetime, datetime]]:
    cursor = start
    while cursor < end:
        upper = min(cursor + chunk, end)
        yield cursor, upper
        cursor = upper


def _retry_pause(response: httpx.Response | None, attempt: int, backoff: Backoff) -> float:
    """How long to wait before the next attempt: the server's ``Retry-After`` if it gives one, else the back-off."""
    if response is not None:
        try:
            asked = float(response.headers.get("Retry-After", ""))
        except ValueError:
            asked = -1.0
        if 0 <= asked <= _LONGEST_PAUSE_S:
            return asked
    return backoff.delay(attempt)


def _answer(response: httpx.Response) -> Answer:
    if response.status_code >= 400:  # noqa: PLR2004 - HTTP's error range
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            raise ClientError(response.status_code, "http_error", response.text[:300]) from None
        raise ClientError(response.status_code, error.get("code", "?"), error.get("message", ""), error.get("hint"))
    return Answer.from_arrow_ipc(response.content)


class _Settings:
    def __init__(self, base_url: str, api_key: str | None, retries: int, backoff: Backoff) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": _ARROW, **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
        self.retries = retries
        self.backoff = backoff


class MarketDataClient:
    """The read API, synchronously (``with MarketDataClient(url) as client: ...``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 60.0,
        retries: int = 4,
        backoff: Backoff | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = _Settings(base_url, api_key, retries, backoff or Backoff(0.5, 10.0, jitter=True))
        self._http = httpx.Client(timeout=timeout_s, transport=transport)

    def __enter__(self) -> MarketDataClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _get(self, request: _Request) -> Answer:
        settings = self._settings
        for attempt in range(1, settings.retries + 2):
            response: httpx.Response | None = None
            try:
                response = self._http.get(
                    settings.base_url + request.path,
                    params=[*request.params, ("format", "arrow")],
                    headers=settings.headers,
                )
            except httpx.TransportError:
                if attempt > settings.retries:
                    raise
            else:
                if response.status_code not in _RETRIED_STATUSES or attempt > settings.retries:
                    return _answer(response)
            time.sleep(_retry_pause(response, attempt, settings.backoff))
        raise AssertionError("unreachable")

    def search(self, **filters: Any) -> Answer:
        """Catalogue search: provider, dataset, area, variable, unit, resolution, q, page, page_size."""
        return self._get(_Requests.search(**filters))

    def series(self, ids: Sequence[str], start: datetime, end: datetime, **options: Any) -> Answer:
        """Series values: as_of, vintage, tz, frequency, aggregation, hours, layout (the API's parameters)."""
        return self._get(_Requests.series(ids, start, end, **options))

    def iter_series(
        self, ids: Sequence[str], start: datetime, end: datetime, chunk: timedelta = timedelta(days=31), **options: Any
    ) -> Iterator[Answer]:
        """The same read, one ``chunk`` of the window at a time (align ``chunk`` to the frequency's buckets)."""
        for lower, upper in _pieces(start, end, chunk):
            yield self.series(ids, lower, upper, **options)

    def issues(self, series_id: str, **options: Any) -> Answer:
        """The issue times of a series (issued_from, issued_to)."""
        return self._get(_Requests.issues(series_id, **options))

    def instance(self, series_id: str, issued_at: datetime, **options: Any) -> Answer:
        """One issue's values (tz)."""
        return self._get(_Requests.instance(series_id, issued_at, **options))

    def staircase(self, ids: Sequence[str], start: datetime, end: datetime, lead: str, **options: Any) -> Answer:
        """Per interval, the newest value issued at least ``lead`` (ISO-8601) before it (tz)."""
        return self._get(_Requests.staircase(ids, start, end, lead, **options))

    def relative(self, ids: Sequence[str], start: datetime, end: datetime, **options: Any) -> Answer:
        """Per local day, the issue made days_ahead before by time_of_day (tz)."""
        return self._get(_Requests.relative(ids, start, end, **options))

    def absolute(self, series_id: str, delivery: datetime) -> Answer:
        """One delivery interval's value across issues."""
        return self._get(_Requests.absolute(series_id, delivery))

    def revisions(self, ids: Sequence[str], start: datetime, end: datetime, since: datetime, **options: Any) -> Answer:
        """What changed between ``since`` and ``until`` (default now)."""
        return self._get(_Requests.revisions(ids, start, end, since, **options))

    def forecast_staircase(self, family: str, zone: str, start: datetime, end: datetime, **options: Any) -> Answer:
        """A model's stored forecasts, per interval the newest issued at least ``lead`` before it (lead, tz)."""
        return self._get(_Requests.forecast_staircase(family, zone, start, end, **options))

    def stream(
        self, last_id: str | None = None, max_events: int | None = None, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """Committed changes as they happen (filters: id, provider, area, variable), reconnecting after a drop.

        Each change is a dict (id, series_id, issued_at, begin, end, n_values, values). A reconnect resumes after the
        last id seen, so nothing is missed within the feed's retention; a ``{"event": "gap"}`` dict says some was.
        """
        settings, delivered, failures = self._settings, 0, 0
        while max_events is None or delivered < max_events:
            params = _params(
                **filters, last_id=last_id, max_events=None if max_events is None else max_events - delivered
            )
            try:
                with self._http.stream(
                    "GET",
                    settings.base_url + "/v1/stream",
                    params=[*params],
                    headers=settings.headers,
                    timeout=None,
                ) as response:
                    if response.status_code >= 400:  # noqa: PLR2004 - HTTP's error range
                        response.read()
                        _answer(response)  # raises the API's error
                    failures = 0
                    for event, event_id, data in _sse_events(response.iter_lines()):
                        if event == "change":
                            last_id, delivered = event_id, delivered + 1
                            yield json.loads(data)
                        elif event == "gap":
                            yield {"event": "gap", **json.loads(data)}
                if max_events is not None and delivered >= max_events:
                    return
            except httpx.TransportError:
                failures += 1
                if failures > settings.retries:
                    raise
            time.sleep(settings.backoff.delay(max(failures, 1)))


def _sse_events(lines: Iterator[str]) -> Iterator[tuple[str, str, str]]:
    """(event, id, data) of each Server-Sent Event in ``lines``; comments and retry hints are skipped."""
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in current:
                yield current.get("event", "message"), current.get("id", ""), current["data"]
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            current[name] = value.removeprefix(" ")


class AsyncMarketDataClient:
    """The read API for asyncio code (``async with AsyncMarketDataClient(url) as client: ...``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 60.0,
        retries: int = 4,
        backoff: Backoff | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = _Settings(base_url, api_key, retries, backoff or Backoff(0.5, 10.0, jitter=True))
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def __aenter__(self) -> AsyncMarketDataClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _get(self, request: _Request) -> Answer:
        settings = self._settings
        for attempt in range(1, settings.retries + 2):
            response: httpx.Response | None = None
            try:
                response = await self._http.get(
                    settings.base_url + request.path,
                    params=[*request.params, ("format", "arrow")],
                    headers=settings.headers,
                )
            except httpx.TransportError:
                if attempt > settings.retries:
                    raise
            else:
                if response.status_code not in _RETRIED_STATUSES or attempt > settings.retries:
                    return _answer(response)
            await asyncio.sleep(_retry_pause(response, attempt, settings.backoff))
        raise AssertionError("unreachable")

    async def search(self, **filters: Any) -> Answer:
        """Catalogue search (as ``MarketDataClient.search``)."""
        return await self._get(_Requests.search(**filters))

    async def series(self, ids: Sequence[str], start: datetime, end: datetime, **options: Any) -> Answer:
        """Series values (as ``MarketDataClient.series``)."""
        return await self._get(_Requests.series(ids, start, end, **options))

    async def iter_series(
        self, ids: Sequence[str], start: datetime, end: datetime, chunk: timedelta = timedelta(days=31), **options: Any
    ) -> AsyncIterator[Answer]:
        """The same read one ``chunk`` at a time."""
        for lower, upper in _pieces(start, end, chunk):
            yield await self.series(ids, lower, upper, **options)

    async def issues(self, series_id: str, **options: Any) -> Answer:
        """The issue times of a series."""
        return await self._get(_Requests.issues(series_id, **options))

    async def instance(self, series_id: str, issued_at: datetime, **options: Any) -> Answer:
        """One issue's values."""
        return await self._get(_Requests.instance(series_id, issued_at, **options))

    async def staircase(self, ids: Sequence[str], start: datetime, end: datetime, lead: str, **options: Any) -> Answer:
        """Per interval, the newest value issued at least ``lead`` before it."""
        return await self._get(_Requests.staircase(ids, start, end, lead, **options))

    async def relative(self, ids: Sequence[str], start: datetime, end: datetime, **options: Any) -> Answer:
        """Per local day, the issue made days_ahead before by time_of_day."""
        return await self._get(_Requests.relative(ids, start, end, **options))

    async def absolute(self, series_id: str, delivery: datetime) -> Answer:
        """One delivery interval across issues."""
        return await self._get(_Requests.absolute(series_id, delivery))

    async def revisions(
        self, ids: Sequence[str], start: datetime, end: datetime, since: datetime, **options: Any
    ) -> Answer:
        """What changed between two knowledge times."""
        return await self._get(_Requests.revisions(ids, start, end, since, **options))

    async def forecast_staircase(
        self, family: str, zone: str, start: datetime, end: datetime, **options: Any
    ) -> Answer:
        """A model's stored forecasts as a staircase."""
        return await self._get(_Requests.forecast_staircase(family, zone, start, end, **options))
