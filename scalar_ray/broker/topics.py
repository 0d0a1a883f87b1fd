"""The platform's topic names: one acquisition topic per provider, one dead-letter topic, the forecasts topic."""

from __future__ import annotations

__all__ = [
    "INGESTION_SUBSCRIPTION",
    "REVIEW_SUBSCRIPTION",
    "acquisition_topic",
    "dead_letter_topic",
    "forecasts_topic",
]

# Every ingestion replica joins this one KeyShared subscription, so a series is always written by one replica at a
# time, in order.
INGESTION_SUBSCRIPTION = "ingestion"
# Dead letters wait here for an operator; its backlog is the dead-letter count.
REVIEW_SUBSCRIPTION = "review"


def acquisition_topic(tenant: str, provider: str) -> str:
    """``persistent://scalar/acquisition/entsoe``."""
    return f"persistent://{tenant}/acquisition/{provider}"


def dead_letter_topic(tenant: str) -> str:
    """Where messages that failed validation go, with the reason in their properties."""
    return f"persistent://{tenant}/acquisition/dead-letter"


def forecasts_topic(tenant: str) -> str:
    """Forecasts issued by the forecasting actor."""
    return f"persistent://{tenant}/insights/forecasts"
