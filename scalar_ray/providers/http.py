"""HTTP for provider clients: retries with backoff and jitter, Retry-After, a request budget, safe logging.

Every provider client goes through ``ProviderHttp``: transport errors, 408, 429 and 5xx are retried (tenacity,
exponential backoff with full jitter, or the provider's ``Retry-After`` when it gives one); 401/403 fail at once as
``ProviderAuthError``; a per-provider token bucket keeps the request rate under the provider's ban threshold
(ENTSO-E bans an IP for 10 minutes past 400 requests a minute). Log lines carry the path, never the query string,
where ENTSO-E and Meteologica carry their tokens.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from scalar_ray.core.backoff import Backoff
from scalar_ray.core.errors import PayloadError, ProviderAuthError, ProviderHTTPError, RateLimitedError
from scalar_ray.telemetry.instruments import provider_request_duration, provider_throttled

__all__ = [
    "MAX_ANSWER_BYTES",
    "HttpStats",
    "ProviderHttp",
    "RedactQueryStrings",
    "RequestBudget",
    "RetryPolicy",
    "install_log_redaction",
]

_logger = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_AUTH_STATUSES = frozenset({401, 403})
_TOO_MANY_REQUESTS = 429
# One answer's decoded body: ENTSO-E's largest (a year of generation per unit, zipped) is tens of megabytes.
MAX_ANSWER_BYTES = 256 * 2**20


class RequestBudget:
    """A token bucket: at most ``per_minute`` requests in any minute, evenly refilled; shared across threads."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("a request budget needs at least one request a minute")
        self.per_minute = per_minute
        self._clock, self._sleep = clock, sleep
        self._tokens = float(per_minute)
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one request from the budget, waiting as long as needed; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.per_minute, self._tokens + (now - self._updated) * self.per_minute / 60)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                pause = (1 - self._tokens) * 60 / self.per_minute
            self._sleep(pause)
            waited += pause


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up."""

    attempts: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    # A longer Retry-After (an ENTSO-E ban is 10 minutes) is not waited out inside one fetch: the error carries it
    # to the scheduler, which backs the whole provider off instead of holding a worker.
    max_retry_after_s: float = 120.0

    @property
    def backoff(self) -> Backoff:
        """Exponential with full jitter between attempts (a provider's many clients do not retry in step)."""
        return Backoff(self.backoff_initial_s, self.backoff_max_s, jitter=True)


@dataclass
class HttpStats:
    """What an operator asks of a provider's traffic."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    failures: int = 0
    budget_wait_s: float = 0.0
    last_status: int | None = None
    by_status: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    params: Mapping[str, Any] | None
    headers: Mapping[str, str] | None
    json: Any
    data: Mapping[str, str] | None
    auth: httpx.Auth | tuple[str, str] | None
    accept: frozenset[int]
    dataset: str
    window: str


class RedactQueryStrings(logging.Filter):
    """Strip query strings from URLs in log records.

    ENTSO-E and Meteologica put their tokens in the query, and httpx logs every request's full URL at INFO.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments; never drop the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(_without_query(argument) for argument in record.args)
        return True


def install_log_redaction() -> None:
    """Attach ``RedactQueryStrings`` to httpx's logger once."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(existing, RedactQueryStrings) for existing in httpx_logger.filters):
        httpx_logger.addFilter(RedactQueryStrings())


def _without_query(argument: object) -> object:
    if isinstance(argument, httpx.URL) and argument.query:
        return argument.copy_with(query=None)
    return argument


class _RetryableResponseError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class ProviderHttp:
    """One provider's HTTP access: base URL, retries, budget and statistics around an ``httpx.Client``."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        requests_per_minute: int,
        *,
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        budget: RequestBudget | None = None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        install_log_redaction()
        self.max_answer_bytes = max_answer_bytes
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.stats = HttpStats()
        self._sleep = sleep
        self.budget = budget or RequestBudget(requests_per_minute, sleep=sleep)
        self._client = httpx.Client(
            timeout=timeout_s,
            transport=transport,
            follow_redirects=True,
            headers={"User-Agent": "scalar-ray (+https://github.com/scalar-ray)"},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _url(self, path: str) -> str:
        # An empty path is the base URL itself (ENTSO-E's /api, an OAuth token endpoint): no trailing slash added.
        return self.base_url + ("/" + path.lstrip("/") if path else "")

    def request(
        self,
        method: str,
        path: str,
        *,
        dataset: str = "",
        window: str = "",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send a request with retries; a 2xx or an ``accept``-ed status is returned, anything else raises.

        Raises:
            ProviderAuthError: 401 or 403.
            RateLimitedError: 429 on every attempt, or a Retry-After longer than the policy waits.
            ProviderHTTPError: another error status, or a transport failure, after every attempt.

        """
        call = _Call(method, path, params, headers, json, data, auth, accept, dataset, window)
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            # A corrupt gzip or deflate body (DecodingError) may be a broken transfer: tried again like one.
            retry=retry_if_exception_type((_RetryableResponseError, httpx.TransportError, httpx.DecodingError)),
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(self._send, call)
        except _RetryableResponseError as exc:
            self.stats.failures += 1
            raise self._http_error(exc.response, dataset, window) from None
        except httpx.TransportError as exc:
            self.stats.failures += 1
            raise ProviderHTTPError(self.provider, dataset, window, 0, f"{type(exc).__name__}: {exc}") from exc
        except httpx.DecodingError as exc:
            self.stats.failures += 1
            raise PayloadError(self.provider, dataset, window, f"undecodable answer body: {exc}") from exc

    def _send(self, call: _Call) -> httpx.Response:
        self.stats.budget_wait_s += self.budget.acquire()
        started = time.perf_counter()
        self.stats.requests += 1
        request = self._client.build_request(
            call.method, self._url(call.path), params=call.params, headers=call.headers, json=call.json, data=call.data
        )
        response = self._client.send(
            request, auth=call.auth if call.auth is not None else httpx.USE_CLIENT_DEFAULT, stream=True
        )
        try:
            response._content = self._bounded_body(response, call)  # what Response.read() does, with a limit
        finally:
            response.close()
        status = response.status_code
        provider_request_duration.record(
            time.perf_counter() - started,
            {
                "http.request.method": call.method,
                "http.response.status_code": status,
                "server.address": response.request.url.host,
                "scalar.provider": self.provider,
            },
        )
        self.stats.last_status = status
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        _logger.info(
            "%s %s %s -> %s in %.0f ms",
            self.provider,
            call.method,
            response.request.url.path,
            status,
            (time.perf_counter() - started) * 1000,
            extra={"provider": self.provider, "dataset": call.dataset, "window": call.window, "status": status},
        )
        if response.is_success or status in call.accept:
            return response
        if status == _TOO_MANY_REQUESTS:
            self.stats.throttled += 1
            provider_throttled.add(1, {"scalar.provider": self.provider, "scalar.dataset": call.dataset})
        if status in _RETRY_STATUSES:
            retry_after = _retry_after_s(response)
            if retry_after is not None and retry_after > self.policy.max_retry_after_s:
                # Not waited out inside one fetch (a 503 with "Retry-After: 86400" would hold the actor a day): the
                # error carries the wait to the scheduler, which holds the provider's tasks.
                self.stats.failures += 1
                if status == _TOO_MANY_REQUESTS:
                    raise RateLimitedError(self.provider, call.dataset, call.window, retry_after)
                detail = f"{response.reason_phrase}; the provider asks to wait {retry_after:.0f} s"
                raise ProviderHTTPError(self.provider, call.dataset, call.window, status, detail, retry_after)
            raise _RetryableResponseError(response)
        self.stats.failures += 1
        raise self._http_error(response, call.dataset, call.window)

    def _bounded_body(self, response: httpx.Response, call: _Call) -> bytes:
        """The decoded body, refused past ``max_answer_bytes`` (a Content-Length can be absent or lie)."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_answer_bytes:
            raise self._too_large(call, int(declared))
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self.max_answer_bytes:
                raise self._too_large(call, len(body))
        return bytes(body)

    def _too_large(self, call: _Call, size: int) -> PayloadError:
        self.stats.failures += 1
        return PayloadError(
            self.provider, call.dataset, call.window, f"answer of {size:,}+ bytes, more than {self.max_answer_bytes:,}"
        )

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableResponseError):
            retry_after = _retry_after_s(error.response)
            if retry_after is not None:
                return retry_after
        return self.policy.backoff.delay(state.attempt_number)

    def _count_retry(self, _: RetryCallState) -> None:
        self.stats.retries += 1

    def _http_error(self, response: httpx.Response, dataset: str, window: str) -> ProviderHTTPError:
        status = response.status_code
        if status == _TOO_MANY_REQUESTS:
            return RateLimitedError(self.provider, dataset, window, _retry_after_s(response))
        detail = response.text[:300].strip() or response.reason_phrase
        if status in _AUTH_STATUSES:
            return ProviderAuthError(self.provider, dataset, window, status, f"credentials refused: {detail}")
        return ProviderHTTPError(self.provider, dataset, window, status, detail)


def _retry_after_s(response: httpx.Response) -> float | None:
    """Retry-After in seconds: delta-seconds or an HTTP date (RFC 9110); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None  # "inf" or "nan" is no wait we can honour
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
