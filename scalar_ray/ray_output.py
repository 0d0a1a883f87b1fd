"""Ray's output apart from ours: the platform's lines on the terminal, Ray's in log files.

A job's driver log, and a driver's own stdout and stderr, mix what the platform prints (progress, figures) with Ray's
lines: the job client's banner, Ray's and Serve's Python loggers, the raylet's warnings relayed to every driver, the
C++ core worker's log. An operator watching a command wants the former; the latter belong in the log file that the
command names when it ends. ``run_job`` follows a Ray job that way; ``TerminalFilter`` does it for a driver's streams.
"""

from __future__ import annotations

import asyncio
import io
import re
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

__all__ = ["JobRun", "TerminalFilter", "is_ray_line", "run_job"]

# What Ray writes, by its log formats (ray/_private/ray_logging, the worker log prefix, glog), after any colour codes.
_RAY_LINE = re.compile(
    r"""^(?:\x1b\[[0-9;]*m)*(?:
        \((?:raylet|autoscaler|gcs_server)\) | \((?:[^\s)][^\n]*?[ ])?pid=\d+[^)]*\)  # (raylet), (X pid=1)
      | \d{4}-\d\d-\d\d[ ]\d\d:\d\d:\d\d,\d{3}\s+(?:DEBUG|INFO|WARNING|ERROR|CRITICAL|SUCC)\s+\S+\.py:\d+[ ]--  # Python
      | (?:DEBUG|INFO|WARNING|ERROR)[ ]\d{4}-\d\d-\d\d[ ]\d\d:\d\d:\d\d,\d{3}[ ]\S+[ ]\d+[ ]--  # Ray Serve
      | \[\d{4}-\d\d-\d\d[ ]\d\d:\d\d:\d\d,\d{3}[ ][DIWEF][ ]\d+[ ]\d+\]  # C++
      | Running[ ]entrypoint[ ]for[ ]job[ ]  # the job supervisor's first line
    )""",
    re.VERBOSE,
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def is_ray_line(line: str) -> bool:
    """Whether a line of a job's log is Ray's own output rather than the job's."""
    return bool(_RAY_LINE.match(line))


class TerminalFilter(io.TextIOBase):
    """A text stream that writes every line to ``log`` and the lines that are not Ray's to ``terminal`` as well."""

    def __init__(self, terminal: TextIO | io.TextIOBase, log: TextIO) -> None:
        self._terminal, self._log = terminal, log
        self._pending = ""
        self._lock = threading.Lock()  # Ray writes from its own threads (the error listener, log monitors)

    def writable(self) -> bool:
        """A sink."""
        return True

    def write(self, text: str) -> int:
        """Pass whole lines on; keep a partial last line until its end arrives."""
        with self._lock:
            *lines, self._pending = (self._pending + text).split("\n")
            for line in lines:
                self._log.write(line + "\n")
                if not is_ray_line(line):
                    self._terminal.write(_ANSI.sub("", line) + "\n")
            if lines:
                self._log.flush()
                self._terminal.flush()
        return len(text)

    def flush(self) -> None:
        """Write out a partial line too (a prompt or a progress line without its newline)."""
        with self._lock:
            if self._pending:
                pending, self._pending = self._pending, ""
                self._log.write(pending)
                if not is_ray_line(pending):
                    self._terminal.write(pending)
            self._log.flush()
            self._terminal.flush()


@dataclass(frozen=True)
class JobRun:
    """The outcome of one followed job."""

    submission_id: str
    status: str
    log_file: Path

    @property
    def succeeded(self) -> bool:
        """Whether the job ended well (its entry point exited 0)."""
        return self.status == "SUCCEEDED"


def run_job(
    dashboard_url: str,
    entrypoint: list[str],
    log_dir: Path,
    show: Callable[[str], None] = print,
) -> JobRun:
    """Submit ``entrypoint`` to the cluster's job server, follow its log to the end, and return its outcome.

    Every line goes to ``log_dir/<submission id>.log``; the job's own lines also go to ``show``. Authentication is
    Ray's own: the client sends the token that ``RAY_AUTH_MODE``/``RAY_AUTH_TOKEN`` name.
    """
    from ray.job_submission import JobSubmissionClient  # noqa: PLC0415 - the job client loads only when a job runs

    client = JobSubmissionClient(dashboard_url)
    submission_id = client.submit_job(entrypoint=shlex.join(entrypoint))
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"{submission_id}.log"
    with log_file.open("w", encoding="utf-8") as log:
        log.write(f"submitted {submission_id} to {dashboard_url}: {shlex.join(entrypoint)}\n")
        stream = TerminalFilter(_Lines(show), log)
        asyncio.run(_follow(client, submission_id, stream))
        stream.flush()
    return JobRun(submission_id, str(client.get_job_status(submission_id)), log_file)


class _Lines(io.TextIOBase):
    """A terminal made of a line callback (the caller decides where shown lines go)."""

    def __init__(self, show: Callable[[str], None]) -> None:
        self._show = show

    def write(self, text: str) -> int:
        for line in text.splitlines():
            self._show(line)
        return len(text)


async def _follow(client: object, submission_id: str, stream: TerminalFilter) -> None:
    """Copy the job's log into ``stream`` as it grows, to the job's end."""
    async for chunk in client.tail_job_logs(submission_id):  # type: ignore[attr-defined]
        stream.write(chunk)
