"""Meteologica "API markets" client: login for a token (passed as ``?token=``), contents found by name.

Live windows read ``/contents/{id}/data`` (the latest issue); windows in the past read the monthly
``/contents/{id}/historical_data/{year}/{month}`` archives (a ZIP with one JSON per issue), so back-fills keep
every vintage.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, timedelta

import pyarrow as pa

from scalar_ray.config.settings import ProviderSettings
from scalar_ray.core.areas import area_by_code_or_none
from scalar_ray.core.errors import PayloadError, ProviderAuthError
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import DatasetSpec
from scalar_ray.providers.client import ClientOptions, ProviderClient
from scalar_ray.providers.meteologica_parser import parse_meteologica
from scalar_ray.providers.parsing import FetchContext

__all__ = ["COUNTRY_NAMES", "MeteologicaClient"]

COUNTRY_NAMES = {
    "DK": "Denmark",
    "SE": "Sweden",
    "NO": "Norway",
    "FI": "Finland",
    "EE": "Estonia",
    "LV": "Latvia",
    "LT": "Lithuania",
    "DE": "Germany",
    "NL": "Netherlands",
    "BE": "Belgium",
    "FR": "France",
    "PL": "Poland",
}
_BAD_REQUEST = 400
_LOGIN_ATTEMPTS = 2  # the token may have expired: log in again once, not in a loop


class MeteologicaClient(ProviderClient):
    """Token from ``POST /login`` (renewed when refused); content ids looked up once by name."""

    provider = "meteologica"

    def __init__(self, settings: ProviderSettings, options: ClientOptions | None = None) -> None:
        super().__init__(settings, options)
        self._token: str | None = None
        self._content_ids: dict[str, int] = {}

    def fetch_payloads(self, spec: DatasetSpec, area: str, window: Window) -> Iterator[bytes]:
        """The latest issue for a live window, the monthly archives' issues for a past one."""
        content = self._content_id(_content_name(spec, area), spec, window)
        if window.end > self.options.clock() - timedelta(hours=1):
            yield self._get(f"contents/{content}/data", {}, spec, window)
        if window.start < self.options.clock():
            for month in _months(window):
                archive = self._get(f"contents/{content}/historical_data/{month.year}/{month.month}", {}, spec, window)
                yield from _archive_members(archive, spec, window)

    def parse(self, payload: bytes, context: FetchContext) -> pa.Table:
        """Meteologica JSON → canonical rows."""
        return parse_meteologica(payload, context)

    def _content_id(self, name: str, spec: DatasetSpec, window: Window) -> int:
        if name not in self._content_ids:
            listing = json.loads(self._get("contents", {}, spec, window))
            contents = listing if isinstance(listing, list) else listing.get("contents", [])
            self._content_ids |= {str(c["name"]): int(c["id"]) for c in contents}
            if name not in self._content_ids:
                raise PayloadError(self.provider, spec.id, str(window), f"no content named '{name}' in /contents")
        return self._content_ids[name]

    def _get(self, path: str, params: dict[str, str], spec: DatasetSpec, window: Window) -> bytes:
        for attempt in range(1, _LOGIN_ATTEMPTS + 1):
            response = self.http.request(
                "GET",
                path,
                params={**params, "token": self._login(spec, window)},
                dataset=spec.id,
                window=str(window),
                accept=frozenset({_BAD_REQUEST}),
            )
            if response.status_code != _BAD_REQUEST:
                return response.content
            message = str(self._json(response.content).get("message", ""))
            if "token" not in message.lower() or attempt == _LOGIN_ATTEMPTS:
                raise PayloadError(self.provider, spec.id, str(window), f"Meteologica refused the request: {message}")
            self._token = None  # expired: log in again, once
        raise AssertionError("unreachable")  # pragma: no cover

    def _login(self, spec: DatasetSpec, window: Window) -> str:
        if self._token is None:
            password = self.settings.client_secret.get_secret_value() if self.settings.client_secret else ""
            response = self.http.request(
                "POST", "login", json={"user": self.settings.client_id or "", "password": password}, dataset=spec.id
            )
            body = self._json(response.content)
            if "token" not in body:
                # A failed login still answers HTTP 200, with a message instead of a token.
                raise ProviderAuthError(
                    self.provider,
                    spec.id,
                    str(window),
                    response.status_code,
                    f"login refused: {body.get('message', 'no token')}",
                )
            self._token = str(body["token"])
        return self._token

    @staticmethod
    def _json(payload: bytes) -> dict[str, object]:
        decoded = json.loads(payload)
        return decoded if isinstance(decoded, dict) else {}


def _content_name(spec: DatasetSpec, area: str) -> str:
    known = area_by_code_or_none(area)
    country = COUNTRY_NAMES.get(known.country, known.country) if known else area
    return str(spec.params["content_name"]).format(area=area, country=country)


def _months(window: Window) -> list[date]:
    month = window.start.astimezone(UTC).date().replace(day=1)
    last = (window.end - timedelta(microseconds=1)).astimezone(UTC).date().replace(day=1)
    months = []
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _archive_members(archive: bytes, spec: DatasetSpec, window: Window) -> Iterator[bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as members:
            for name in sorted(members.namelist()):
                yield members.read(name)
    except zipfile.BadZipFile as exc:
        raise PayloadError("meteologica", spec.id, str(window), f"corrupt historical archive: {exc}") from exc
