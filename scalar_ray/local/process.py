"""A detached service process that outlives the CLI: started in its own session, tracked by a pid file.

The pid file records the process's start time as well, so a recycled pid never makes a stranger look like
our service, and ``stop`` only ever signals a process group that we started.
"""

from __future__ import annotations

import contextlib
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

__all__ = ["ManagedProcess", "ProcessSpec", "StopStage", "port_is_free", "wait_until"]

_logger = logging.getLogger(__name__)


# Which of the service's processes one stop stage signals (given each one's name); the last stage takes the rest.
StopStage = Callable[[psutil.Process], bool]


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

    def stop(self, timeout_s: float = 60.0, stages: Sequence[StopStage] = ()) -> bool:
        """Stop the process and its descendants; False if nothing was running.

        Without ``stages``: SIGTERM to the process group, SIGKILL after ``timeout_s``. With them, in order, each
        stage's processes get SIGTERM and ``timeout_s`` to exit before SIGKILL, then the rest do likewise (a service
        whose parts must stop in order, as ``ray stop`` stops Ray's).
        """
        pid = self.pid()
        if pid is None:
            return False
        root = psutil.Process(pid)
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            members = []
        for stage in stages:
            chosen = [member for member in members if _matches(stage, member)]
            self._terminate(chosen, timeout_s)
            members = [member for member in members if member not in chosen]
        if members:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(pid), signal.SIGTERM)
            self._wait_or_kill(members, timeout_s)
        self.spec.pid_file.unlink(missing_ok=True)
        _logger.info("stopped %s", self.spec.name, extra={"service": self.spec.name, "pid": pid})
        return True

    def _terminate(self, processes: list[psutil.Process], timeout_s: float) -> None:
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.terminate()
        self._wait_or_kill(processes, timeout_s)

    def _wait_or_kill(self, processes: list[psutil.Process], timeout_s: float) -> None:
        wait_until(lambda: all(map(_exited, processes)), timeout_s, interval_s=0.05)
        alive = [process for process in processes if not _exited(process)]
        if alive:
            _logger.warning(
                "%s: %d process(es) ignored SIGTERM for %.0f s; killing them", self.spec.name, len(alive), timeout_s
            )
            for process in alive:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
            wait_until(lambda: all(map(_exited, alive)), 10, interval_s=0.05)


def _exited(process: psutil.Process) -> bool:
    """Gone, or a zombie: exited, waiting for its parent to collect it (not ours to wait for)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _matches(stage: StopStage, process: psutil.Process) -> bool:
    try:
        return stage(process)
    except psutil.Error:
        return False  # gone already


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
