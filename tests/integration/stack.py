"""A whole local stack as a user runs it (`scalar-ray local up`), and the commands the tests type against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psutil

from tests.integration.conftest import free_port
from tests.integration.providers.conftest import simulator_environment

CLI = [sys.executable, "-m", "commands.main"]


def run(env: dict[str, str], *args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    """`scalar-ray <args>` in a process of its own."""
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def submit(env: dict[str, str], *command: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """`ray job submit -- <command>` against the stack's head, as a user types it."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "ray"), "job", "submit", "--address", dashboard_url(env), "--", *command],
        env=job_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def query(env: dict[str, str], sql: str) -> list[dict[str, object]]:
    """`scalar-ray query <sql> --json`, parsed."""
    answer = run(env, "query", sql, "--json", timeout=120)
    assert answer.returncode == 0, answer.stderr[-2000:]
    rows: list[dict[str, object]] = json.loads(answer.stdout.strip().splitlines()[-1])
    return rows


def dashboard_url(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['SCALAR_RAY__DASHBOARD_PORT']}"


def job_environment(env: dict[str, str]) -> dict[str, str]:
    """What a user exports before `ray job submit`: the head's token."""
    return {**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": env["SCALAR_RAY__AUTH_TOKEN"]}


def stack_environment(data_dir: Path) -> dict[str, str]:
    """Variables for a stack of its own: free ports, its own data and Ray folders, every provider on its simulator."""
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("SCALAR_")}
    simulator_port = free_port()
    return {
        **base,
        **simulator_environment(f"http://127.0.0.1:{simulator_port}"),
        "SCALAR_LOCAL__SIMULATOR_PORT": str(simulator_port),
        "SCALAR_LOCAL__DATA_DIR": str(data_dir),
        "SCALAR_BROKER__SERVICE_URL": f"pulsar://127.0.0.1:{free_port()}",
        "SCALAR_BROKER__ADMIN_URL": f"http://127.0.0.1:{free_port()}",
        "SCALAR_CACHE__URL": f"redis://127.0.0.1:{free_port()}/0",
        "SCALAR_RAY__GCS_PORT": str(free_port()),
        "SCALAR_RAY__DASHBOARD_PORT": str(free_port()),
        "SCALAR_RAY__CLIENT_SERVER_PORT": str(free_port()),
        "SCALAR_RAY__DASHBOARD_AGENT_PORT": str(free_port()),
        "SCALAR_RAY__HAPROXY_METRICS_PORT": str(free_port()),
        "SCALAR_RAY__HAPROXY_STATS_PORT": str(free_port()),
        "SCALAR_RAY__NUM_CPUS": "2",
        "SCALAR_RAY__TEMP_DIR": f"/tmp/scalar-it-{uuid.uuid4().hex[:8]}",
        "SCALAR_RAY__AUTH_TOKEN": f"it-token-{uuid.uuid4().hex}",
        "SCALAR_LOCAL__PULSAR_HEAP_MB": "768",
        "SCALAR_SERVE__PORT": str(free_port()),
    }


def processes_mentioning(text: str) -> list[str]:
    """Every process (but this one) whose command line holds ``text``."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if text in cmdline and process.info["pid"] != os.getpid():
            found.append(f"{process.info['pid']}: {cmdline[:120]}")
    return found
