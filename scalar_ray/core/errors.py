"""The one error hierarchy of scalar-ray.

Every error the library raises on purpose is a ``ScalarError``; third-party exceptions are mapped at the
adapter boundary with ``raise ... from exc`` so callers only ever catch our types::

    ScalarError
    ├── ConfigurationError        a setting is unknown, malformed or missing (names the setting and the fix)
    │   └── InvalidConfigurationError   several such problems, reported together at start
    ├── LocalServiceError         an embedded local service (Pulsar, Redis, Ray head) cannot be started or reached
    │   ├── PortInUseError        the port a service needs is held by another process
    │   └── ServiceStartTimeoutError   the service started but never became ready
    ├── BrokerAdminError          the Pulsar admin REST API refused or failed a request
    ├── WarehouseError            a warehouse write or query failed, or a batch does not fit the schema
    └── ProviderError             a market-data provider's request or payload failed (names provider, dataset, window)
        ├── PayloadError          the payload is malformed: truncated, wrong schema, non-numeric values
        ├── ProviderHTTPError     the provider answered with an error status after the retries
        │   ├── RateLimitedError  HTTP 429 that outlasted the retries (carries Retry-After)
        │   └── ProviderAuthError the credentials were refused (401/403, a failed login)
        └── WindowTooLargeError   the provider refuses the window as too large: split it and ask again

Each subclass takes structured fields and builds its own message: what failed, with which input, what to do.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BrokerAdminError",
    "ConfigurationError",
    "ForecastDataError",
    "InvalidConfigurationError",
    "LocalServiceError",
    "ModelRegistryError",
    "NoChampionError",
    "PayloadError",
    "PortInUseError",
    "ProviderAuthError",
    "ProviderError",
    "ProviderHTTPError",
    "RateLimitedError",
    "ReadRequestError",
    "ScalarError",
    "ServiceStartTimeoutError",
    "UnknownSeriesError",
    "WarehouseError",
    "WindowTooLargeError",
]


class ScalarError(Exception):
    """Root of every error scalar-ray raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # The errors take named arguments and keep them as attributes: rebuilt from those, not by calling
        # ``__init__`` with the message, so an error crosses a Ray actor call (a pickle) as itself.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[ScalarError], args: tuple[Any, ...], state: dict[str, Any]) -> ScalarError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(ScalarError):
    """A setting is unknown, malformed or missing.

    Attributes:
        setting: the environment variable that carries the setting (``SCALAR_BROKER__SERVICE_URL``).
        problem: what is wrong with it.
        fix: what to do about it.

    """

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        self.setting = setting
        self.problem = problem
        self.fix = fix
        super().__init__(f"{setting}: {problem}. Fix: {fix}")


class InvalidConfigurationError(ConfigurationError):
    """One or more settings are wrong; every problem is reported at once so a user fixes them in one go."""

    def __init__(self, problems: list[ConfigurationError]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(first.setting, first.problem, first.fix)
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        self.args = (f"invalid configuration ({len(problems)} {noun}):\n{lines}",)

    def __str__(self) -> str:
        return str(self.args[0])


class LocalServiceError(ScalarError):
    """An embedded local service cannot be started, stopped or reached."""

    def __init__(self, service: str, problem: str, fix: str = "", log_file: str | None = None) -> None:
        self.service = service
        self.problem = problem
        self.fix = fix
        self.log_file = log_file
        message = f"{service}: {problem}"
        if fix:
            message += f". Fix: {fix}"
        if log_file:
            message += f" (log: {log_file})"
        super().__init__(message)


class PortInUseError(LocalServiceError):
    """The port a local service needs is held by a process that is not ours."""

    def __init__(self, service: str, port: int, setting: str) -> None:
        self.port = port
        self.setting = setting
        super().__init__(
            service,
            f"port {port} on 127.0.0.1 is already taken by another process",
            f"stop that process (`ss -ltnp 'sport = :{port}'` names it) or choose another port with {setting}",
        )


class ServiceStartTimeoutError(LocalServiceError):
    """A local service process started but did not become ready in time."""

    def __init__(self, service: str, timeout_s: float, waited_for: str, log_file: str | None) -> None:
        self.timeout_s = timeout_s
        self.waited_for = waited_for
        super().__init__(
            service,
            f"not ready after {timeout_s:.0f} s (waited for {waited_for})",
            "read the log; raise SCALAR_LOCAL__START_TIMEOUT_S on a slow machine",
            log_file,
        )


class BrokerAdminError(ScalarError):
    """The Pulsar admin REST API failed a request."""

    def __init__(self, operation: str, admin_url: str, detail: str, status_code: int | None = None) -> None:
        self.operation = operation
        self.admin_url = admin_url
        self.status_code = status_code
        status = f"HTTP {status_code}: " if status_code is not None else ""
        super().__init__(f"Pulsar admin {operation} at {admin_url} failed: {status}{detail}")


class ProviderError(ScalarError):
    """A provider's request or payload failed.

    Attributes:
        provider: the provider (``entsoe``).
        dataset: the catalogue dataset (``A44``), or ``""`` when not known.
        window: the requested window as ``start/end`` in ISO-8601 UTC, or ``""``.

    """

    def __init__(self, provider: str, dataset: str, window: str, problem: str) -> None:
        self.provider = provider
        self.dataset = dataset
        self.window = window
        self.problem = problem
        where = "/".join(part for part in (provider, dataset) if part)
        span = f" for {window}" if window else ""
        super().__init__(f"{where}{span}: {problem}")


class PayloadError(ProviderError):
    """The payload cannot be parsed into canonical rows (truncated, wrong schema, non-numeric values)."""


class WindowTooLargeError(ProviderError):
    """The provider refuses the window as too large; the caller splits it and asks again."""


class ProviderHTTPError(ProviderError):
    """The provider answered with an error status after all retries (``retry_after_s``: the wait it asked for)."""

    def __init__(
        self,
        provider: str,
        dataset: str,
        window: str,
        status_code: int,
        detail: str,
        retry_after_s: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.retry_after_s = retry_after_s
        super().__init__(provider, dataset, window, f"HTTP {status_code}: {detail}")


class RateLimitedError(ProviderHTTPError):
    """HTTP 429 that outlasted the retries."""

    def __init__(self, provider: str, dataset: str, window: str, retry_after_s: float | None) -> None:
        wait = f"; the provider asks to wait {retry_after_s:.0f} s" if retry_after_s else ""
        super().__init__(provider, dataset, window, 429, f"rate limited{wait}", retry_after_s)


class ProviderAuthError(ProviderHTTPError):
    """The provider refused the credentials."""


class WarehouseError(ScalarError):
    """A warehouse operation failed; ``operation`` says which (write, query, schema).

    ``permanent``: the warehouse refused the data itself (a value it cannot hold, a row that breaks the schema), so
    the same batch fails again however often it is retried; ingestion then looks for the messages that carry it.
    Otherwise the failure is the warehouse's state (down, busy, a lost connection) and a retry may succeed.
    """

    def __init__(self, warehouse: str, operation: str, problem: str, *, permanent: bool = False) -> None:
        self.warehouse = warehouse
        self.operation = operation
        self.permanent = permanent
        super().__init__(f"{warehouse} {operation}: {problem}")


class BrokerUnavailableError(ScalarError):
    """The broker did not take or give a message in time (down, unreachable, or the topic is fenced)."""

    def __init__(self, operation: str, topic: str, detail: str) -> None:
        self.operation = operation
        self.topic = topic
        super().__init__(f"Pulsar {operation} on {topic} failed: {detail}")


class BrokerRejectedError(ScalarError):
    """The broker refused this message for good (too big, not authorised, topic terminated): retrying cannot help."""

    def __init__(self, operation: str, topic: str, detail: str) -> None:
        self.operation = operation
        self.topic = topic
        super().__init__(f"Pulsar {operation} on {topic} refused: {detail}")


class SpoolFullError(ScalarError):
    """The disk spool holds its limit: nothing more is kept until the broker takes what waits."""

    def __init__(self, directory: str, used_bytes: int, limit_bytes: int) -> None:
        self.used_bytes, self.limit_bytes = used_bytes, limit_bytes
        super().__init__(f"spool {directory} is full ({used_bytes:,} of {limit_bytes:,} bytes); the broker is away")


class ForecastDataError(ScalarError):
    """A model cannot be trained or run on the data there is (no data, too little history, gaps)."""

    def __init__(self, family: str, zone: str, problem: str) -> None:
        self.family = family
        self.zone = zone
        self.problem = problem
        super().__init__(f"{family}/{zone}: {problem}")


class NoChampionError(ForecastDataError):
    """A model has no champion yet: a state before its first training, not a failure."""

    def __init__(self, family: str, zone: str) -> None:
        super().__init__(family, zone, "no champion model yet (run `scalar-ray train`)")


class ReadRequestError(ScalarError):
    """A market-data read cannot be answered as asked: a bad parameter, an unknown series, too much at once.

    Attributes:
        parameter: the request parameter at fault (``frequency``, ``series``, ``window``).
        problem: what is wrong, in the user's terms.

    """

    def __init__(self, parameter: str, problem: str) -> None:
        self.parameter = parameter
        self.problem = problem
        super().__init__(f"{parameter}: {problem}")


class UnknownSeriesError(ReadRequestError):
    """The read named series the warehouse has never held."""

    def __init__(self, series_ids: list[str]) -> None:
        self.series_ids = series_ids
        super().__init__("series", f"unknown series {', '.join(series_ids[:10])}; search the catalogue for their ids")


class ModelRegistryError(ScalarError):
    """The model registry cannot store, find or load a model version."""

    def __init__(self, model: str, problem: str) -> None:
        self.model = model
        super().__init__(f"model registry, {model}: {problem}")
