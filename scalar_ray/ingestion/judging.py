"""Judging one message (pure): decode it by its kind, validate it, and say what to write or why not.

Ingestion and the replay job judge alike, so a replayed topic lands exactly as it did live:

- an observation window (``Envelope``) gives observations for the warehouse and the cache;
- a forecast issue (``ForecastEnvelope``, ``kind=forecast``) gives forecasts-table rows;
- a forecast published by a release before forecasts had their own message (an ``Envelope`` of provider ``scalar``,
  its quantiles in the series names) is converted to forecasts-table rows, so old topics still replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pyarrow as pa

from scalar_ray.broker.envelope import Envelope, ForecastEnvelope, is_forecast_message
from scalar_ray.core.errors import PayloadError
from scalar_ray.core.forecasts import FORECAST_PROVIDER, forecast_rows
from scalar_ray.ingestion.forecast_validation import validate_forecast
from scalar_ray.ingestion.validation import validate_envelope

__all__ = ["ForecastTargets", "Judgement", "judge_message"]

# (family, zone, target variable) → the target's series id: what each model's forecasts may target.
ForecastTargets = Mapping[tuple[str, str, str], str]


@dataclass(frozen=True)
class Judgement:
    """What an accepted message writes, or why it was rejected (``error_type`` "payload" or "validation")."""

    observations: pa.Table | None = None
    forecasts: pa.Table | None = None
    reasons: tuple[str, ...] = ()
    error_type: Literal["", "payload", "validation"] = ""
    duplicates_dropped: int = 0

    @property
    def accepted(self) -> bool:
        """No check failed."""
        return not self.reasons


def judge_message(payload: bytes, properties: dict[str, str], now: datetime, targets: ForecastTargets) -> Judgement:
    """The message's rows to write, or the reasons to dead-letter it."""
    if is_forecast_message(properties):
        return _judge_forecast(payload, properties, now, targets)
    try:
        envelope = Envelope.decode(payload, properties)
    except PayloadError as exc:
        return Judgement(reasons=(exc.problem,), error_type="payload")
    verdict = validate_envelope(envelope, now)
    if not verdict.accepted:
        return Judgement(reasons=verdict.reasons, error_type="validation")
    if envelope.provider != FORECAST_PROVIDER:
        return Judgement(observations=verdict.observations, duplicates_dropped=verdict.duplicates_dropped)
    try:
        legacy = forecast_rows(verdict.observations, properties.get("model_version", ""), targets)
    except ValueError as exc:
        return Judgement(reasons=(str(exc),), error_type="validation")
    return Judgement(forecasts=legacy)


def _judge_forecast(payload: bytes, properties: dict[str, str], now: datetime, targets: ForecastTargets) -> Judgement:
    try:
        envelope = ForecastEnvelope.decode(payload, properties)
    except PayloadError as exc:
        return Judgement(reasons=(exc.problem,), error_type="payload")
    allowed = [
        series for (family, zone, _), series in targets.items() if (family, zone) == (envelope.family, envelope.zone)
    ]
    verdict = validate_forecast(envelope, allowed, now)
    if not verdict.accepted:
        return Judgement(reasons=verdict.reasons, error_type="validation")
    return Judgement(forecasts=verdict.forecasts)
