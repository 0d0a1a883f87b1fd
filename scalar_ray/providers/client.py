"""What every provider client shares: window splitting, parsing, trimming to the window, and OAuth tokens.

A client's only I/O is ``fetch_payloads`` (the raw answers for one request window); ``fetch`` turns any window into
one duplicate-free canonical table: split to the dataset's ``max_window``, halved again when the provider says a
window is too large, each answer parsed by the provider's pure parser.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import httpx
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import SecretStr

from scalar_ray.config.settings import ProviderSettings
from scalar_ray.core.errors import ProviderAuthError, WindowTooLargeError
from scalar_ray.core.observations import deduplicate, empty_observations
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec
from scalar_ray.providers.http import HttpStats, ProviderHttp, RequestBudget, RetryPolicy
from scalar_ray.providers.parsing import FetchContext

__all__ = ["ClientOptions", "OAuthClientCredentials", "ProviderClient", "utc_now"]

_logger = logging.getLogger(__name__)

# A window is never halved below this: a provider that refuses an hour is refusing something else.
_SMALLEST_WINDOW = timedelta(hours=1)


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


class ClientOptions:
    """Test and tuning hooks shared by every client: transport, sleep, clock and retry policy."""

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        policy: RetryPolicy | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.transport, self.sleep, self.clock, self.policy, self.timeout_s = transport, sleep, clock, policy, timeout_s


class ProviderClient(ABC):
    """A provider's client: fetch raw answers (I/O), parse them (pure), return the canonical table."""

    provider: ClassVar[str]

    def __init__(self, settings: ProviderSettings, options: ClientOptions | None = None) -> None:
        self.settings = settings
        self.options = options or ClientOptions()
        # One budget for all of the provider's hosts: the ban threshold is per client, not per endpoint.
        self.budget = RequestBudget(settings.requests_per_minute, sleep=self.options.sleep)
        self._endpoints: list[ProviderHttp] = []
        self.http = self._http(settings.base_url)

    def _http(self, base_url: str) -> ProviderHttp:
        endpoint = ProviderHttp(
            self.provider,
            base_url,
            self.settings.requests_per_minute,
            policy=self.options.policy,
            transport=self.options.transport,
            timeout_s=self.options.timeout_s,
            sleep=self.options.sleep,
            budget=self.budget,
        )
        self._endpoints.append(endpoint)
        return endpoint

    def _oauth(self, scope: str) -> OAuthClientCredentials:
        """Client-credentials tokens from the provider's ``auth_url`` (Nord Pool, Volue)."""
        endpoint = self._http(self.settings.auth_url or self.settings.base_url)
        return OAuthClientCredentials(
            endpoint, self.settings.client_id, self.settings.client_secret, scope, self.options.clock
        )

    def close(self) -> None:
        """Close every connection pool."""
        for endpoint in self._endpoints:
            endpoint.close()

    def stats(self) -> HttpStats:
        """The client's traffic over all of its endpoints (API, portal, token service)."""
        total = HttpStats()
        for endpoint in self._endpoints:
            stats = endpoint.stats
            total.requests += stats.requests
            total.retries += stats.retries
            total.throttled += stats.throttled
            total.failures += stats.failures
            total.budget_wait_s += stats.budget_wait_s
            for status, count in stats.by_status.items():
                total.by_status[status] = total.by_status.get(status, 0) + count
        return total

    @abstractmethod
    def fetch_payloads(self, spec: DatasetSpec, area: str, window: Window) -> Iterable[bytes]:
        """The provider's raw answers for one request window (pages, days or documents)."""

    @abstractmethod
    def parse(self, payload: bytes, context: FetchContext) -> pa.Table:
        """The provider's pure parser."""

    def fetch(self, spec: DatasetSpec, area: str, window: Window) -> pa.Table:
        """Every observation of ``spec`` for ``area`` with ``ts`` in ``window``, one row per key."""
        # Each piece is trimmed to its own window: providers answer whole days or add margins, and two pieces
        # fetched at different moments would otherwise give their overlap two vintages.
        tables = [_within(self._fetch_window(spec, area, piece), piece) for piece in spec.request_windows(window)]
        return deduplicate(pa.concat_tables(tables)) if tables else empty_observations()

    def _fetch_window(self, spec: DatasetSpec, area: str, window: Window) -> pa.Table:
        context = FetchContext(
            self.provider, spec.key, window, self.options.clock(), area, str(spec.params.get("variable", ""))
        )
        try:
            tables = [self.parse(payload, context) for payload in self.fetch_payloads(spec, area, window)]
        except WindowTooLargeError:
            if window.end - window.start <= _SMALLEST_WINDOW:
                raise
            half = (window.end - window.start) / 2
            _logger.info("%s/%s: window %s too large for the provider; halving", self.provider, spec.id, window)
            tables = [self._fetch_window(spec, area, piece) for piece in window.split(half)]
        return pa.concat_tables(tables) if tables else empty_observations()


def _within(table: pa.Table, window: Window) -> pa.Table:
    """The rows of ``table`` whose interval starts inside ``window``."""
    ts = pc.field("ts")
    return table.filter((ts >= pa.scalar(window.start)) & (ts < pa.scalar(window.end)))


class OAuthClientCredentials:
    """An OAuth 2 client-credentials token, fetched on first use and renewed a minute before it expires."""

    def __init__(
        self,
        http: ProviderHttp,
        client_id: str | None,
        client_secret: SecretStr | None,
        scope: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._http, self._client_id, self._client_secret, self._scope, self._clock = (
            http,
            client_id,
            client_secret,
            scope,
            clock,
        )
        self._token: str | None = None
        self._expires = datetime.min.replace(tzinfo=UTC)

    @property
    def configured(self) -> bool:
        """Whether credentials are set (the simulator needs none)."""
        return bool(self._client_id and self._client_secret)

    def headers(self) -> dict[str, str]:
        """The Authorization header, or none without credentials."""
        if not self.configured:
            return {}
        if self._token is None or self._clock() >= self._expires:
            self._renew()
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        """Forget the token (the provider refused it); the next call fetches a new one."""
        self._token = None

    def _renew(self) -> None:
        assert self._client_id and self._client_secret  # noqa: S101 - guarded by configured
        response = self._http.request(
            "POST",
            "",
            data={"grant_type": "client_credentials", "scope": self._scope},
            auth=(self._client_id, self._client_secret.get_secret_value()),
            dataset="oauth",
        )
        try:
            body = response.json()
            token, lifetime_s = str(body["access_token"]), int(body.get("expires_in", 3600))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # An HTML login page, a proxy's error text, a JSON list: no token, whatever the status said.
            detail = f"the token endpoint answered no access_token ({type(exc).__name__})"
            raise ProviderAuthError(self._http.provider, "oauth", "", response.status_code, detail) from exc
        self._token = token
        self._expires = self._clock() + timedelta(seconds=max(lifetime_s, 60) - 60)
