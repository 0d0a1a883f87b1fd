"""Acquisition: provider schedules, durable cursors and the disk spool used while the broker is away."""

from __future__ import annotations

from scalar_ray.acquisition.cursors import Cursor, CursorStore, FileCursorStore, InMemoryCursorStore
from scalar_ray.acquisition.service import AcquisitionService, AcquisitionTask
from scalar_ray.acquisition.spool import DiskSpool

__all__ = [
    "AcquisitionService",
    "AcquisitionTask",
    "Cursor",
    "CursorStore",
    "DiskSpool",
    "FileCursorStore",
    "InMemoryCursorStore",
]
