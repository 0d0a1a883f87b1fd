"""The disk spool: messages that could not be published wait here, in order, until the broker is back.

Each message is one file, ``<sequence>.msg``: a JSON header line (topic, key, properties) and the payload. Files are
written to a temporary name, fsynced, renamed and the directory fsynced, so a crash leaves whole messages or none.
``drain`` sends them in sequence order and deletes each only after the broker persisted it; it stops at the first
"broker away", keeping order. Nothing in the spool can block it for good: a file that no longer reads, or a message
the broker refuses for good (too big, not allowed), is set aside (``.corrupt``, ``.rejected`` with its reason beside
it) and counted, and the rest goes on. The spool holds at most ``max_bytes``: past that ``append`` raises
``SpoolFullError`` (the caller keeps its cursor and fetches the window again later), and the status says so.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from scalar_ray.broker.messaging import OutgoingMessage, Publisher
from scalar_ray.core.errors import BrokerRejectedError, BrokerUnavailableError, SpoolFullError

__all__ = ["DEFAULT_SPOOL_BYTES", "DiskSpool"]

logger = logging.getLogger(__name__)

DEFAULT_SPOOL_BYTES = 2 * 2**30  # two days of every provider's windows at their busiest, with room to spare


class DiskSpool:
    """An append-only, crash-safe, bounded queue of outgoing messages in one directory."""

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_SPOOL_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for leftover in directory.glob("*.tmp"):
            leftover.unlink()  # a write that crashed before its rename: never acknowledged, so never counted
        existing = self._files()
        self._next = int(existing[-1].stem) + 1 if existing else 0
        # Kept as the spool changes: the acquisition loop asks for the size before every message.
        self._count = len(existing)
        self._bytes = sum(path.stat().st_size for path in existing)
        self.set_aside = len(list(directory.glob("*.corrupt"))) + len(list(directory.glob("*.rejected")))
        self.refused_full = 0
        self._refused_since_drain = False

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.msg"))

    def __len__(self) -> int:
        return self._count

    @property
    def bytes(self) -> int:
        """Disk used by spooled messages."""
        return self._bytes

    @property
    def full(self) -> bool:
        """Whether the spool refused a message since it last drained, or holds its limit (an alarm in status)."""
        return self._refused_since_drain or self._bytes >= self.max_bytes

    @property
    def fill(self) -> float:
        """The share of ``max_bytes`` in use, 1.0 while ``full`` (the operator checklist's spool fill)."""
        return 1.0 if self.full else self._bytes / self.max_bytes

    def append(self, message: OutgoingMessage) -> None:
        """Keep ``message`` durably for a later ``drain``; ``SpoolFullError`` past ``max_bytes``."""
        header = json.dumps({"topic": message.topic, "key": message.key, "properties": message.properties})
        record = header.encode("utf-8") + b"\n" + message.payload
        with self._lock:
            if self._bytes + len(record) > self.max_bytes:
                self.refused_full += 1
                self._refused_since_drain = True
                raise SpoolFullError(str(self.directory), self._bytes, self.max_bytes)
            path = self.directory / f"{self._next:020d}.msg"
            self._next += 1
            temporary = path.with_suffix(".tmp")
            with temporary.open("wb") as handle:
                handle.write(record)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(path)
            _fsync_directory(self.directory)  # the rename itself survives a power cut
            self._count += 1
            self._bytes += len(record)

    def drain(self, publisher: Publisher) -> int:
        """Send spooled messages oldest first; return how many went out (stops at the first "broker away")."""
        sent = 0
        with self._lock:
            for path in self._files():
                size = path.stat().st_size
                try:
                    message = _read(path)
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    self._set_aside(path, size, ".corrupt", f"unreadable: {type(exc).__name__}: {exc}")
                    continue
                try:
                    publisher.send(message)
                except BrokerUnavailableError:
                    break
                except BrokerRejectedError as exc:
                    self._set_aside(path, size, ".rejected", str(exc))
                    continue
                path.unlink()
                self._count -= 1
                self._bytes -= size
                sent += 1
            if sent:
                _fsync_directory(self.directory)
                self._refused_since_drain = False
        return sent

    def _set_aside(self, path: Path, size: int, suffix: str, reason: str) -> None:
        target = path.with_suffix(suffix)
        path.replace(target)
        target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
        self._count -= 1
        self._bytes -= size
        self.set_aside += 1
        logger.error("spool: %s set aside as %s: %s", path.name, target.name, reason)


def _read(path: Path) -> OutgoingMessage:
    data = path.read_bytes()
    header, newline, payload = data.partition(b"\n")
    if not newline:
        raise ValueError("no header line")
    fields = json.loads(header)
    return OutgoingMessage(str(fields["topic"]), payload, dict(fields["properties"]), fields["key"])


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
