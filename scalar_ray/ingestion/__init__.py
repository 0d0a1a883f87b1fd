"""Ingestion: validated, micro-batched, idempotent writes from the broker into the warehouse and the cache."""

from __future__ import annotations

from scalar_ray.ingestion.batcher import FlushPolicy, MicroBatcher, PendingBatch
from scalar_ray.ingestion.validation import Verdict, validate_envelope
from scalar_ray.ingestion.worker import IngestionStats, IngestionWorker

__all__ = [
    "FlushPolicy",
    "IngestionStats",
    "IngestionWorker",
    "MicroBatcher",
    "PendingBatch",
    "Verdict",
    "validate_envelope",
]
