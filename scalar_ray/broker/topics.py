"""The platform's topic names: one acquisition topic per provider, one dead-letter topic, the forecasts topic."""

from __future__ import annotations

import zlib

__all__ = [
    "INGESTION_SUBSCRIPTION",
    "REVIEW_SUBSCRIPTION",
    "acquisition_topic",
    "dead_letter_topic",
    "forecasts_topic",
    "partition_of",
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


def partition_of(key: str, partitions: int) -> int:
    """The partition of a partitioned topic that carries ``key``'s messages.

    Every message of a series takes one partition, so the KeyShared subscription hands them to one consumer in
    order. Our own stable hash rather than the client library's default, so the in-memory fake and every producer agree.
    Raising a topic's partitions moves some keys: their new messages may be taken before older ones still waiting
    in the old partition. Ingestion is indifferent to that order (a vintage is keyed by series, time and the time
    it became known, and its upsert is idempotent); the cache keeps the newest vintage whatever the order.
    """
    return zlib.crc32(key.encode()) % partitions
