"""`scalar-ray local up | status | down` as a user runs them: real processes, then nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psutil
import pyarrow.parquet as pq
import pytest

from tests.integration.conftest import free_port
from tests.integration.providers.conftest import simulator_environment

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLI = [sys.executable, "-m", "commands.main"]
FOLLOW_A_JOB = """
import sys
from pathlib import Path
from scalar_ray.ray_output import run_job
job = "import logging, ray; ray.init(logging_level=logging.INFO); print('job says', ray.cluster_resources()['CPU'],"
job += " 'CPU')"
run = run_job(sys.argv[1], ["python", "-c", job], Path(sys.argv[2]))
print(run.status, run.log_file)
"""


def run(env: dict[str, str], *args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def stack_environment(data_dir: Path) -> dict[str, str]:
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
        "SCALAR_RAY__NUM_CPUS": "1",
        "SCALAR_RAY__TEMP_DIR": f"/tmp/scalar-it-{uuid.uuid4().hex[:8]}",
        "SCALAR_RAY__AUTH_TOKEN": f"it-token-{uuid.uuid4().hex}",
        "SCALAR_LOCAL__PULSAR_HEAP_MB": "768",
        "SCALAR_SERVE__PORT": str(free_port()),
    }


def processes_mentioning(text: str) -> list[str]:
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if text in cmdline and process.info["pid"] != os.getpid():
            found.append(f"{process.info['pid']}: {cmdline[:120]}")
    return found


def assert_a_followed_job_shows_only_its_own_lines(env: dict[str, str], dashboard: str, log_dir: Path) -> None:
    """The platform's commands follow a job as `run_job` does: the job's own lines shown, Ray's only in its log."""
    followed = subprocess.run(
        [sys.executable, "-c", FOLLOW_A_JOB, dashboard, str(log_dir)],
        env={**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": env["SCALAR_RAY__AUTH_TOKEN"]},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert followed.returncode == 0, followed.stdout[-2000:] + followed.stderr[-2000:]
    shown = followed.stdout.splitlines()
    assert shown[:-1] == ["job says 1.0 CPU"], shown
    status, log_file = shown[-1].split(" ", 1)
    assert status == "SUCCEEDED"
    log = Path(log_file).read_text(encoding="utf-8")
    assert "job says 1.0 CPU" in log
    assert "Connected to Ray cluster" in log  # Ray's driver line, kept in the file only


def test_local_up_status_down_leaves_no_process_behind(tmp_path: Path) -> None:
    env = stack_environment(tmp_path / "data")
    try:
        up = run(env, "local", "up", "--json")
        assert up.returncode == 0, up.stderr[-3000:]
        services = {row["name"]: row for row in json.loads(up.stdout)}
        assert set(services) == {"redis", "pulsar", "ray", "simulator", "duckdb"}
        assert services["pulsar"]["detail"].startswith("Apache Pulsar 4.0.")
        assert services["redis"]["detail"].startswith("Redis 7")
        assert services["ray"]["detail"].startswith("Ray 2.60")
        pids = [row["pid"] for row in services.values() if row["pid"]]
        # Ray's GCS listens beyond loopback, so the head must refuse callers without the token.
        dashboard = f"http://127.0.0.1:{env['SCALAR_RAY__DASHBOARD_PORT']}"
        assert httpx.get(f"{dashboard}/api/version", timeout=10).status_code == 401

        # Training is submitted with `ray job submit`: it must work against this head, with the platform's Python.
        job = subprocess.run(
            [
                str(Path(sys.executable).parent / "ray"),
                "job",
                "submit",
                "--address",
                dashboard,
                "--",
                "python",
                "-c",
                "import scalar_ray, ray; ray.init(); print('job-cpus', ray.cluster_resources()['CPU'])",
            ],
            env={**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": env["SCALAR_RAY__AUTH_TOKEN"]},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert job.returncode == 0, job.stdout[-2000:] + job.stderr[-2000:]
        assert "job-cpus 1.0" in job.stdout

        assert_a_followed_job_shows_only_its_own_lines(env, dashboard, tmp_path / "jobs")

        # The stack's provider simulator answers the real clients: a day of DK1 day-ahead prices, 96 quarter-hours.
        fetched = run(
            env,
            "fetch",
            "entsoe",
            "A44",
            "--area",
            "DK1",
            "--start",
            "2026-10-01T22:00Z",
            "--end",
            "2026-10-02T22:00Z",
            "--output",
            str(tmp_path / "prices.parquet"),
        )
        assert fetched.returncode == 0, fetched.stderr[-2000:]
        assert "entsoe/A44 DK1 2026-10-01T22:00Z/2026-10-02T22:00Z: 96 rows, 1 series" in fetched.stdout
        assert pq.read_table(tmp_path / "prices.parquet").num_rows == 96

        # Secrets never reach a log file or a command line.
        token = env["SCALAR_RAY__AUTH_TOKEN"]
        logs = [*(tmp_path / "data").rglob("*.log"), *Path(env["SCALAR_RAY__TEMP_DIR"]).rglob("*.log")]
        assert logs
        assert [str(log) for log in logs if token in log.read_text(errors="replace")] == []
        assert processes_mentioning(token) == []

        status = run(env, "local", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.splitlines()[0].split() == ["SERVICE", "STATE", "PID", "ENDPOINT", "DETAIL"]
        assert all(line.split()[1] in ("running", "available") for line in status.stdout.splitlines()[1:])

        again = run(env, "local", "up", "--json")
        assert again.returncode == 0
        assert "launched: nothing (all were running)" in again.stderr
        assert [row["pid"] for row in json.loads(again.stdout) if row["pid"]] == pids

        # A second stack that wants the first one's Redis port fails before launching anything.
        clash = {**stack_environment(tmp_path / "other"), "SCALAR_CACHE__URL": env["SCALAR_CACHE__URL"]}
        refused = run(clash, "local", "up")
        assert refused.returncode == 3
        assert "is already taken by another process" in refused.stderr
        assert "SCALAR_CACHE__URL" in refused.stderr
        assert processes_mentioning(str(tmp_path / "other")) == []
    finally:
        down = run(env, "local", "down")

    # Every service stopped on its own, the Ray head in its order: nothing had to be killed.
    assert down.returncode == 0 and "ignored SIGTERM" not in down.stderr, down.stderr
    assert "stopped:" in down.stdout
    assert [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"] == []
    assert processes_mentioning(str(tmp_path / "data")) == []
    assert processes_mentioning(env["SCALAR_RAY__TEMP_DIR"]) == []
    stopped = run(env, "local", "status", "--json")
    assert stopped.returncode == 1
    assert {row["name"]: row["state"] for row in json.loads(stopped.stdout)} == {
        "simulator": "stopped",
        "redis": "stopped",
        "pulsar": "stopped",
        "ray": "stopped",
        "duckdb": "available",
    }
