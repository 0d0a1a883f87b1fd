"""A detached service process that outlives the CLI: started in its own session, tracked by a pid file.

The pid file records the process's start time as well, so a recycled pid never makes a stranger look like
our service, and ``stop`` only ever signals a process group that we started.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

__all__ = ["ManagedProcess", "ProcessSpec", "port_is_free", "wait_until"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one service process."""

    name: str
    argv: Sequence[str]
    cwd: Path
    log_file: Path
    pid_file: Path
    env: Mapping[str, str] = field(default_factory=dict)


class ManagedProcess:
    """Start, find and stop one detached service process."""

    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec

    def pid(self) -> int | None:
        """The pid of our running process, or None (a stale pid file is removed)."""
        try:
            record = json.loads(self.spec.pid_file.read_text(encoding="utf-8"))
            process = psutil.Process(int(record["pid"]))
            same = abs(process.create_time() - float(record["create_time"])) < 1.0
            alive = process.status() != psutil.STATUS_ZOMBIE
        except (FileNotFoundError, ValueError, KeyError, psutil.Error):
            same = alive = False
        if same and alive:
            return int(record["pid"])
        self.spec.pid_file.unlink(missing_ok=True)
        return None

    def start(self) -> int:
        """Launch the process detached (own session, output to the log file) and record its pid."""
        self.spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.spec.pid_file.parent.mkdir(parents=True, exist_ok=True)
        environment = {**os.environ, **self.spec.env}
        with self.spec.log_file.open("ab") as log:
            log.write(f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S%z')} starting {self.spec.name}\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(self.spec.argv),
                cwd=self.spec.cwd,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        record = {"pid": process.pid, "create_time": psutil.Process(process.pid).create_time()}
        self.spec.pid_file.write_text(json.dumps(record), encoding="utf-8")
        _logger.info("started %s", self.spec.name, extra={"service": self.spec.name, "pid": process.pid})
        return process.pid

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop the process group: SIGTERM, then SIGKILL after ``timeout_s``. False if nothing was running."""
        pid = self.pid()
        if pid is None:
            return False
        group = os.getpgid(pid)
        members = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        os.killpg(group, signal.SIGTERM)
        _, alive = psutil.wait_procs(members, timeout=timeout_s)
        if alive:
            _logger.warning("%s ignored SIGTERM for %.0f s; killing it", self.spec.name, timeout_s)
            for process in alive:
                process.kill()
            psutil.wait_procs(alive, timeout=10)
        self.spec.pid_file.unlink(missing_ok=True)
        _logger.info("stopped %s", self.spec.name, extra={"service": self.spec.name, "pid": pid})
        return True


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``host:port`` can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_until(
    condition: Callable[[], bool],
    timeout_s: float,
    interval_s: float = 0.25,
    give_up: Callable[[], bool] = lambda: False,
) -> bool:
    """Poll ``condition`` until it holds (True), ``give_up`` holds or ``timeout_s`` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        if give_up():
            return False
        time.sleep(interval_s)
    return condition()
