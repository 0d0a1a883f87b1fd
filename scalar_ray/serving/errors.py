"""What the forecast API answers when it cannot serve a request: one error type per case, each with its HTTP status.

They are ``ScalarError`` like every error of the library; the API turns them into ``{"error": {"code", "message",
"hint"}}`` bodies. Errors travel between Serve deployments as ``ProblemReport`` values, not as exceptions, so the
ingress answers the same status whatever replica failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalar_ray.core.errors import ScalarError

__all__ = [
    "ApiError",
    "ForecastNotFoundError",
    "HorizonTooLongError",
    "ModelUnavailableError",
    "PredictionFailedError",
    "ProblemReport",
    "UnknownModelError",
    "UnknownVersionError",
]


class ApiError(ScalarError):
    """A request the API answers with an error status."""

    status = 500
    code = "internal"

    def __init__(self, message: str, hint: str | None = None, retry_after_s: int | None = None) -> None:
        self.message = message
        self.hint = hint
        self.retry_after_s = retry_after_s
        super().__init__(message + (f" ({hint})" if hint else ""))

    @classmethod
    def from_report(cls, report: ProblemReport) -> ApiError:
        """The error a report describes (raised again on the side of the ingress)."""
        error = cls(report.message, report.hint, report.retry_after_s)
        error.status, error.code = report.status, report.code
        return error

    def report(self) -> ProblemReport:
        """The error as a plain value (crosses process boundaries intact)."""
        return ProblemReport(self.status, self.code, self.message, self.hint, self.retry_after_s)


class UnknownModelError(ApiError):
    """No such family, or the family has no such zone."""

    status, code = 404, "unknown_model"

    def __init__(self, family: str, zone: str, known: list[str]) -> None:
        super().__init__(f"no model {family}/{zone}", f"models are {', '.join(known)}")


class UnknownVersionError(ApiError):
    """A version that the registry does not hold for the model."""

    status, code = 404, "unknown_version"

    def __init__(self, model: str, version: str) -> None:
        super().__init__(f"model {model} has no version {version}", f"GET /v1/models/{model} lists its versions")


class ForecastNotFoundError(ApiError):
    """No stored forecast answers the request (none issued yet, or none before the as-of time)."""

    status, code = 404, "forecast_not_found"

    def __init__(self, family: str, zone: str, problem: str) -> None:
        super().__init__(f"{family}/{zone}: {problem}", "POST …/predict forecasts on request")


class HorizonTooLongError(ApiError):
    """The requested horizon is not positive or reaches past the model's."""

    status, code = 422, "horizon_too_long"

    def __init__(self, family: str, problem: str, limit: str) -> None:
        super().__init__(f"{family}: {problem}", f"ask for at most {limit}")


class PredictionFailedError(ApiError):
    """The model could not forecast from the data known at the issue time (no data, too little history, gaps)."""

    status, code = 422, "prediction_failed"


class ModelUnavailableError(ApiError):
    """The model's version could not be loaded: this model answers 503, every other model keeps serving."""

    status, code = 503, "model_unavailable"

    def __init__(self, model: str, problem: str, retry_after_s: int) -> None:
        super().__init__(f"model {model} is unavailable: {problem}", "other models are unaffected", retry_after_s)


@dataclass(frozen=True)
class ProblemReport:
    """An ``ApiError`` as data."""

    status: int
    code: str
    message: str
    hint: str | None = None
    retry_after_s: int | None = None

    def body(self) -> dict[str, dict[str, str]]:
        """The JSON error body."""
        error = {"code": self.code, "message": self.message}
        if self.hint:
            error["hint"] = self.hint
        return {"error": error}
