"""Durable acquisition cursors: per (dataset, area), how far the published data reaches and when it last ran.

A restarted actor reads them to resume: the next window starts where the published data ended (or earlier, for the
dataset's look-back), so a crash leaves no gap; a window re-fetched after a crash between publish and cursor save
republishes the same keys, which the idempotent warehouse absorbs, so it leaves no duplicate either.
"""

from __future__ import annotations

import json
import os
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from typing_extensions import override

from scalar_ray.core.utc import parse_utc

__all__ = ["Cursor", "CursorStore", "FileCursorStore", "InMemoryCursorStore"]


@dataclass(frozen=True)
class Cursor:
    """Where a task's published data ends (``covered_until``), when it last ran, and how often."""

    covered_until: datetime | None
    last_run: datetime
    runs: int = 0

    def to_json(self) -> dict[str, object]:
        """The cursor as its file keeps it (ISO-8601 UTC times)."""
        covered = self.covered_until.isoformat() if self.covered_until else None
        return {"covered_until": covered, "last_run": self.last_run.isoformat(), "runs": self.runs}

    @classmethod
    def from_json(cls, fields: dict[str, object]) -> Cursor:
        """A cursor read back from its file; ``ValueError``/``TypeError`` when the fields are not a cursor's."""
        covered, last_run, runs = fields["covered_until"], fields["last_run"], fields.get("runs", 0)
        if not isinstance(last_run, str) or not isinstance(runs, int) or not isinstance(covered, str | None):
            raise TypeError(f"not a cursor: {fields!r}")
        return cls(parse_utc(covered) if covered else None, parse_utc(last_run), runs)


class CursorStore(ABC):
    """Cursors of one provider's tasks, keyed ``<dataset id>/<area>``."""

    @abstractmethod
    def get(self, task: str) -> Cursor | None:
        """The task's cursor, or None before its first run."""

    @abstractmethod
    def put(self, task: str, cursor: Cursor) -> None:
        """Store durably (survives a crash the moment this returns)."""

    @abstractmethod
    def all(self) -> dict[str, Cursor]:
        """Every stored cursor."""


class InMemoryCursorStore(CursorStore):
    """Cursors in a dictionary, for unit tests."""

    def __init__(self) -> None:
        self._cursors: dict[str, Cursor] = {}

    @override
    def get(self, task: str) -> Cursor | None:
        return self._cursors.get(task)

    @override
    def put(self, task: str, cursor: Cursor) -> None:
        self._cursors[task] = cursor

    @override
    def all(self) -> dict[str, Cursor]:
        return dict(self._cursors)


class FileCursorStore(CursorStore):
    """One JSON file per provider, replaced atomically (write, fsync, rename) on every update."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._cursors = self._load()

    def _load(self) -> dict[str, Cursor]:
        if not self.path.exists():
            return {}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            return {task: Cursor.from_json(fields) for task, fields in document.items()}
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # A damaged file is kept for inspection; starting over re-fetches the look-back, which is harmless.
            damaged = self.path.with_suffix(".damaged")
            self.path.replace(damaged)
            raise ValueError(f"cursor file {self.path} is unreadable ({exc}); moved to {damaged}") from exc

    @override
    def get(self, task: str) -> Cursor | None:
        with self._lock:
            return self._cursors.get(task)

    @override
    def put(self, task: str, cursor: Cursor) -> None:
        with self._lock:
            self._cursors[task] = cursor
            document = {name: value.to_json() for name, value in sorted(self._cursors.items())}
            temporary = self.path.with_suffix(".tmp")
            with temporary.open("w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(self.path)

    @override
    def all(self) -> dict[str, Cursor]:
        with self._lock:
            return dict(self._cursors)
