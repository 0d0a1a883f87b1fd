"""StarRocks Stream Load over HTTP, as the documentation describes it (3.x).

``PUT /api/{db}/{table}/_stream_load`` to the FE, which answers ``307`` with a BE to send the data to; the redirect is
followed by hand so the ``Authorization`` header survives it (httpx, like curl without ``--location-trusted``, drops it
on a redirect to another host). Labels make loads idempotent: a label is accepted once, and a repeated load answers
``Label Already Exists`` with the first job's status, which settles whether the data is in. Statuses:

* ``Success``: loaded and visible.
* ``Publish Timeout``: committed, not yet visible; it will become visible, so it is not retried.
* ``Label Already Exists``: ``ExistingJobStatus`` FINISHED means loaded; otherwise ``get_load_state`` is polled until
  VISIBLE (loaded), ABORTED (the label is free again: load once more) or the wait runs out (an error; the caller
  retries later with the same label).
* ``Fail``: the error log at ``ErrorURL`` is fetched and quoted in the error.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
from pydantic import SecretStr

from scalar_ray.core.errors import WarehouseError

__all__ = ["StreamLoadClient", "StreamLoadResult"]

logger = logging.getLogger(__name__)

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 3
_LOADED = ("Success", "Publish Timeout")
_ERROR_LOG_CHARS = 1_000


@dataclass(frozen=True)
class StreamLoadResult:
    """What StarRocks reported for one load."""

    label: str
    status: str
    loaded_rows: int
    filtered_rows: int
    load_time_ms: int
    already_loaded: bool = False


class StreamLoadClient:
    """Loads CSV bodies into tables of one database."""

    def __init__(
        self,
        http_url: str,
        database: str,
        user: str,
        password: SecretStr,
        *,
        timeout_s: float = 600.0,
        state_wait_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http_url = http_url.rstrip("/")
        self.database = database
        self._auth = httpx.BasicAuth(user, password.get_secret_value())
        self._timeout_s = timeout_s
        self._state_wait_s = state_wait_s
        self._http = httpx.Client(timeout=timeout_s + 30, follow_redirects=False, transport=transport)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def load(self, table: str, body: bytes, label: str, headers: dict[str, str]) -> StreamLoadResult:
        """Load ``body`` under ``label``; return once the data is committed; ``WarehouseError`` otherwise."""
        for _ in range(2):  # a second round only after the label's earlier job was aborted
            answer = self._put(table, body, label, headers)
            status = str(answer.get("Status", ""))
            if status in _LOADED:
                return _result(label, answer)
            if status == "Label Already Exists":
                existing = str(answer.get("ExistingJobStatus", ""))
                if existing == "FINISHED":
                    return _result(label, answer, already_loaded=True)
                state = self._wait_for_state(label)
                if state in ("VISIBLE", "COMMITTED"):
                    return _result(label, answer, already_loaded=True)
                if state == "ABORTED":
                    continue
                raise WarehouseError("starrocks", "write", f"label {label} is still {state}; retry later")
            raise WarehouseError(
                "starrocks", "write", self._failure(table, label, answer), permanent=_refuses_data(answer)
            )
        raise WarehouseError("starrocks", "write", f"label {label} was aborted twice")

    def load_state(self, label: str) -> str:
        """The state of the label's transaction: UNKNOWN, PREPARE, COMMITTED, VISIBLE or ABORTED."""
        url = f"{self.http_url}/api/{self.database}/get_load_state"
        answer = self._json(self._request("GET", url, params={"label": label}), "get_load_state")
        return str(answer.get("data") or answer.get("state") or "UNKNOWN")

    def _put(self, table: str, body: bytes, label: str, headers: dict[str, str]) -> dict[str, Any]:
        url = f"{self.http_url}/api/{self.database}/{table}/_stream_load"
        request_headers = {
            **headers,
            "label": label,
            "timeout": str(int(self._timeout_s)),
            # The documentation asks for it: the FE answers the redirect before the body is sent.
            "Expect": "100-continue",
        }
        started = time.monotonic()
        response = self._request("PUT", url, content=body, headers=request_headers)
        answer = self._json(response, "stream load")
        logger.info(
            "stream load %s.%s label=%s -> %s (%d rows, %.0f ms)",
            self.database,
            table,
            label,
            answer.get("Status"),
            int(answer.get("NumberLoadedRows", 0) or 0),
            (time.monotonic() - started) * 1000,
        )
        return answer

    def _request(self, method: str, url: str, **options: Any) -> httpx.Response:
        try:
            for _ in range(_MAX_REDIRECTS + 1):
                response = self._http.request(method, url, auth=self._auth, **options)
                if response.status_code not in _REDIRECTS:
                    break
                url = urljoin(url, response.headers["location"])  # a BE: keep the credentials for it
            else:
                problem = f"more than {_MAX_REDIRECTS} redirects from {self.http_url}"
                raise WarehouseError("starrocks", "write", problem)
        except httpx.HTTPError as exc:
            raise WarehouseError(
                "starrocks", "write", f"{type(exc).__name__} talking to {self.http_url}: {exc}"
            ) from exc
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise WarehouseError("starrocks", "write", "StarRocks refused the user or password (HTTP 401)")
        return response

    def _json(self, response: httpx.Response, operation: str) -> dict[str, Any]:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise WarehouseError(
                "starrocks", operation, f"HTTP {response.status_code} without a JSON answer: {response.text[:200]!r}"
            )
        return answer

    def _wait_for_state(self, label: str) -> str:
        deadline = time.monotonic() + self._state_wait_s
        state = self.load_state(label)
        while state in ("PREPARE", "PREPARED", "UNKNOWN", "COMMITTED") and time.monotonic() < deadline:
            if state == "COMMITTED":
                return state  # committed cannot be undone; visibility follows
            time.sleep(0.5)
            state = self.load_state(label)
        return state

    def _failure(self, table: str, label: str, answer: dict[str, Any]) -> str:
        problem = f"load of {table} (label {label}) {answer.get('Status', 'failed')}: {answer.get('Message', '')}"
        error_url = answer.get("ErrorURL")
        if error_url:
            try:
                log = self._http.get(str(error_url), auth=self._auth, timeout=10).text[:_ERROR_LOG_CHARS]
            except httpx.HTTPError as exc:
                log = f"(error log unreadable: {exc})"
            problem += f"; error log {error_url}: {log}"
        return problem


# What StarRocks says when the rows themselves are wrong (too many filtered rows, a value too long, a bad column).
_DATA_REFUSALS = ("filtered rows", "too long", "data quality", "column count", "parse", "invalid value")


def _refuses_data(answer: dict[str, Any]) -> bool:
    """Whether a failed load was refused for its rows (filtered rows, a log of bad lines), not the cluster's state.

    Such a load fails the same way every time: ingestion then bisects its batch to find and dead-letter the messages.
    """
    filtered = int(answer.get("NumberFilteredRows", 0) or 0)
    message = str(answer.get("Message", "")).lower()
    return filtered > 0 or bool(answer.get("ErrorURL")) or any(mark in message for mark in _DATA_REFUSALS)


def _result(label: str, answer: dict[str, Any], *, already_loaded: bool = False) -> StreamLoadResult:
    return StreamLoadResult(
        label=label,
        status=str(answer.get("Status")),
        loaded_rows=int(answer.get("NumberLoadedRows", 0) or 0),
        filtered_rows=int(answer.get("NumberFilteredRows", 0) or 0),
        load_time_ms=int(answer.get("LoadTimeMs", 0) or 0),
        already_loaded=already_loaded,
    )
