"""Acquisition: provider schedules and durable cursors (the disk spool it uses while the broker is away: broker)."""

from __future__ import annotations

from scalar_ray.acquisition.cursors import Cursor, CursorStore, FileCursorStore, InMemoryCursorStore
from scalar_ray.acquisition.service import AcquisitionService, AcquisitionTask

__all__ = [
    "AcquisitionService",
    "AcquisitionTask",
    "Cursor",
    "CursorStore",
    "FileCursorStore",
    "InMemoryCursorStore",
]
