"""The disk spool: messages that could not be published wait here, in order, until the broker is back.

Each message is one file, ``<sequence>.msg``: a JSON header line (topic, key, properties) and the payload. Files are
written to a temporary name, fsynced and renamed, so a crash leaves whole messages or none. ``drain`` sends them in
sequence order and deletes each only after the broker persisted it; it stops at the first failure, keeping order.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from scalar_ray.broker.messaging import OutgoingMessage, Publisher
from scalar_ray.core.errors import BrokerUnavailableError

__all__ = ["DiskSpool"]


class DiskSpool:
    """An append-only, crash-safe queue of outgoing messages in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for leftover in directory.glob("*.tmp"):
            leftover.unlink()  # a write that crashed before its rename: never acknowledged, so never counted
        existing = self._files()
        self._next = int(existing[-1].stem) + 1 if existing else 0

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.msg"))

    def __len__(self) -> int:
        return len(self._files())

    @property
    def bytes(self) -> int:
        """Disk used by spooled messages."""
        return sum(path.stat().st_size for path in self._files())

    def append(self, message: OutgoingMessage) -> None:
        """Keep ``message`` durably for a later ``drain``."""
        header = json.dumps({"topic": message.topic, "key": message.key, "properties": message.properties})
        with self._lock:
            path = self.directory / f"{self._next:020d}.msg"
            self._next += 1
            temporary = path.with_suffix(".tmp")
            with temporary.open("wb") as handle:
                handle.write(header.encode("utf-8") + b"\n")
                handle.write(message.payload)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(path)

    def drain(self, publisher: Publisher) -> int:
        """Send spooled messages oldest first; return how many went out (stops at the first broker failure)."""
        sent = 0
        with self._lock:
            for path in self._files():
                message = _read(path)
                try:
                    publisher.send(message)
                except BrokerUnavailableError:
                    break
                path.unlink()
                sent += 1
        return sent


def _read(path: Path) -> OutgoingMessage:
    data = path.read_bytes()
    header, _, payload = data.partition(b"\n")
    fields = json.loads(header)
    return OutgoingMessage(fields["topic"], payload, dict(fields["properties"]), fields["key"])
