"""The local stack as a user runs it, started once for the module (Pulsar, Redis, a Ray head, DuckDB, the simulator).

1. `scalar-ray local up | status` start every service and report them; the head refuses callers without its token,
   takes `ray job submit` with the platform's Python, and a followed job shows only its own lines; the simulator
   answers the real clients; no secret reaches a log or a command line; a second `up` launches nothing, and a stack
   that wants a taken port fails before launching anything.
2. Forecasting on that stack: the platform ingests the families' inputs (a `ray job submit` backfill plus live
   acquisition), `ray job submit -- python -m jobs.train` trains every family x zone and promotes champions, a second
   configuration is promoted exactly when it beats the champion on the same windows, the forecasting actor issues
   forecasts that ingestion stores as vintages in the warehouse and in Redis, the `forecast`, `models`, `strategy`,
   `query` and `status` commands answer, and `scalar-ray serve` deploys the forecast API on the head, which serves
   every model's latest forecast.
3. `scalar-ray local down` stops every service on its own, the Ray head in its order, and leaves no process behind.

One stack for the three: starting and stopping Pulsar and a Ray head is most of a minute on this machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pyarrow.parquet as pq
import pytest
import redis

from scalar_ray.forecasting.families import input_areas, input_datasets, load_families
from tests.integration.stack import (
    dashboard_url,
    job_environment,
    processes_mentioning,
    query,
    run,
    stack_environment,
    submit,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAMILIES = load_families()
# Every family, on the zones of two countries: the Nordic and Danish families on DK1, the Baltic one on Estonia. The
# per-zone configuration of the others (their series in the catalogue) is checked without a stack, in
# tests/unit/forecasting/test_families_catalogue.py; a model per zone is only more of the same fan-out here.
ZONES = ("DK1", "EE")
MODELS = [f"{name}/{zone}" for name, spec in FAMILIES.items() for zone in spec.zones if zone in ZONES]
INPUTS = [spec.model_copy(update={"zones": tuple(z for z in spec.zones if z in ZONES)}) for spec in FAMILIES.values()]
FOLLOW_A_JOB = """
import sys
from pathlib import Path
from scalar_ray.ray_output import run_job
job = "import logging, ray; ray.init(logging_level=logging.INFO); print('job says', ray.cluster_resources()['CPU'],"
job += " 'CPU')"
run = run_job(sys.argv[1], ["python", "-c", job], Path(sys.argv[2]))
print(run.status, run.log_file)
"""


@dataclass
class Stack:
    env: dict[str, str]
    root: Path
    services: dict[str, dict[str, object]]
    down: subprocess.CompletedProcess[str] | None = None

    @property
    def pids(self) -> list[int]:
        return [int(str(row["pid"])) for row in self.services.values() if row["pid"]]

    def stop(self) -> subprocess.CompletedProcess[str]:
        if self.down is None:
            self.down = run(self.env, "local", "down")
        return self.down


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`scalar-ray local up --json` with the families' inputs as the platform's datasets; down at the end."""
    root = tmp_path_factory.mktemp("stack")
    env = {
        **stack_environment(root / "data"),
        "SCALAR_ACQUISITION__DATASETS": ",".join(input_datasets(INPUTS)),
        "SCALAR_ACQUISITION__AREAS": ",".join(input_areas(INPUTS)),
        "SCALAR_FORECASTING__ZONES": ",".join(ZONES),
        "SCALAR_INGESTION__REPLICAS": "1",
    }
    up = run(env, "local", "up", "--json")
    started = Stack(env, root, {})
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        started.services = {str(row["name"]): row for row in json.loads(up.stdout)}
        yield started
    finally:
        started.stop()


def test_local_up_starts_every_service_and_the_head_runs_jobs(stack: Stack) -> None:
    env, services = stack.env, stack.services
    assert set(services) == {"redis", "pulsar", "ray", "simulator", "duckdb"}
    assert str(services["pulsar"]["detail"]).startswith("Apache Pulsar 4.0.")
    assert str(services["redis"]["detail"]).startswith("Redis 7")
    assert str(services["ray"]["detail"]).startswith("Ray 2.60")
    # Ray's GCS listens beyond loopback, so the head must refuse callers without the token.
    assert httpx.get(f"{dashboard_url(env)}/api/version", timeout=10).status_code == 401

    # Training is submitted with `ray job submit`: it must work against this head, with the platform's Python.
    probe = "import scalar_ray, ray; ray.init(); print('job-cpus', ray.cluster_resources()['CPU'])"
    job = submit(env, "python", "-c", probe, timeout=300)
    assert job.returncode == 0, job.stdout[-2000:] + job.stderr[-2000:]
    assert "job-cpus 2.0" in job.stdout

    # The platform's commands follow a job as `run_job` does: the job's own lines shown, Ray's only in its log.
    followed = subprocess.run(
        [sys.executable, "-c", FOLLOW_A_JOB, dashboard_url(env), str(stack.root / "jobs")],
        env=job_environment(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert followed.returncode == 0, followed.stdout[-2000:] + followed.stderr[-2000:]
    shown = followed.stdout.splitlines()
    assert shown[:-1] == ["job says 2.0 CPU"], shown
    status, log_file = shown[-1].split(" ", 1)
    assert status == "SUCCEEDED"
    log = Path(log_file).read_text(encoding="utf-8")
    assert "job says 2.0 CPU" in log
    assert "Connected to Ray cluster" in log  # Ray's driver line, kept in the file only

    # The stack's provider simulator answers the real clients: a day of DK1 day-ahead prices, 96 quarter-hours.
    prices = stack.root / "prices.parquet"
    fetched = run(
        env, "fetch", "entsoe", "A44", "--area", "DK1",
        "--start", "2026-10-01T22:00Z", "--end", "2026-10-02T22:00Z", "--output", str(prices),
    )  # fmt: skip
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    assert "entsoe/A44 DK1 2026-10-01T22:00Z/2026-10-02T22:00Z: 96 rows, 1 series" in fetched.stdout
    assert pq.read_table(prices).num_rows == 96

    # Secrets never reach a log file or a command line.
    token = env["SCALAR_RAY__AUTH_TOKEN"]
    logs = [*(stack.root / "data").rglob("*.log"), *Path(env["SCALAR_RAY__TEMP_DIR"]).rglob("*.log")]
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
    assert [row["pid"] for row in json.loads(again.stdout) if row["pid"]] == stack.pids

    # A second stack that wants the first one's Redis port fails before launching anything.
    clash = {**stack_environment(stack.root / "other"), "SCALAR_CACHE__URL": env["SCALAR_CACHE__URL"]}
    refused = run(clash, "local", "up")
    assert refused.returncode == 3
    assert "is already taken by another process" in refused.stderr
    assert "SCALAR_CACHE__URL" in refused.stderr
    assert processes_mentioning(str(stack.root / "other")) == []


def test_the_platform_trains_promotes_and_issues_forecasts(stack: Stack) -> None:
    env = stack.env
    try:
        started = run(env, "platform", "start")
        assert started.returncode == 0, started.stderr[-3000:]
        assert "forecasting" in started.stdout
        ingest_history(env)
        train_every_model_then_a_worse_one(env)
        forecasts_reach_the_warehouse_and_redis(env)
        the_commands_answer(env, stack.root)
        the_api_serves_the_forecasts(env)
    finally:
        run(env, "platform", "stop")


def test_local_down_stops_every_service_in_order_and_leaves_nothing_behind(stack: Stack) -> None:
    down = stack.stop()

    # Every service stopped on its own, the Ray head in its order: nothing had to be killed.
    assert down.returncode == 0 and "ignored SIGTERM" not in down.stderr, down.stderr
    assert "stopped:" in down.stdout
    assert [pid for pid in stack.pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"] == []
    assert processes_mentioning(str(stack.root / "data")) == []
    assert processes_mentioning(stack.env["SCALAR_RAY__TEMP_DIR"]) == []  # HAProxy and Serve went with the head
    stopped = run(stack.env, "local", "status", "--json")
    assert stopped.returncode == 1
    assert {row["name"]: row["state"] for row in json.loads(stopped.stdout)} == {
        "simulator": "stopped",
        "redis": "stopped",
        "pulsar": "stopped",
        "ray": "stopped",
        "duckdb": "available",
    }


def outcome_lines(stdout: str) -> dict[str, str]:
    """Model → status from the job's progress lines (``[3/13] dk_demand/DK1  promoted ...``)."""
    return dict(re.findall(r"^\[\d+/\d+\] (\S+)\s+(\w+)", stdout, re.MULTILINE))


def ingest_history(env: dict[str, str]) -> None:
    """Eight days of every input through the platform's bulk path (the live actors add the newest data)."""
    history = submit(
        env, "python", "-m", "jobs.backfill", "--datasets", env["SCALAR_ACQUISITION__DATASETS"],
        "--areas", env["SCALAR_ACQUISITION__AREAS"], "--last", "P8D", "--concurrency", "2",
    )  # fmt: skip
    assert history.returncode == 0, history.stdout[-3000:] + history.stderr[-3000:]


def train_every_model_then_a_worse_one(env: dict[str, str]) -> None:
    # 15 s of fitting per model: every family's AutoGluon models fit in it on this data, the models sharing 2 cores.
    first = submit(env, "python", "-m", "jobs.train", "--zones", ",".join(ZONES), "--time-limit", "15")
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-3000:]
    statuses = outcome_lines(first.stdout)
    assert sorted(statuses) == sorted(MODELS)
    assert set(statuses.values()) == {"promoted"}, first.stdout[-5000:]
    assert "WQL" in first.stdout and "naive" in first.stdout  # the summary table

    # A second configuration (Average with the SeasonalNaive baseline) is promoted exactly when the rule says so:
    # on the same backtest windows its WQL beats the champion's by the family's margin, with skill against the
    # baseline, and its own models (not the baseline) serve. On imbalance data Average can truly be better.
    second = submit(
        env, "python", "-m", "jobs.train", "--families", "nordic_imbalance,dk_dayahead", "--zones", "DK1",
        "--models", "Average", "--time-limit", "10",
    )  # fmt: skip
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    summary_path = re.search(r"^summary: (\S+)$", second.stdout, re.MULTILINE)
    assert summary_path, second.stdout[-3000:]
    outcomes = json.loads(Path(summary_path.group(1)).read_text(encoding="utf-8"))
    assert sorted(f"{o['family']}/{o['zone']}" for o in outcomes) == ["dk_dayahead/DK1", "nordic_imbalance/DK1"]
    for outcome in outcomes:
        rule = FAMILIES[outcome["family"]].promotion
        champion = outcome["champion"]
        # No champion scores: there was none, or it could not be scored on these windows (the rule then promotes).
        better = champion is None or outcome["metrics"]["wql"] < champion["wql"] * (1 - rule.min_improvement)
        deserved = better and outcome["skill"] >= rule.min_skill and outcome["serving_model"] != "SeasonalNaive"
        assert outcome["status"] == ("promoted" if deserved else "rejected"), outcome
        assert (champion_version(env, outcome["family"], outcome["zone"]) == outcome["version"]) == deserved

    models = run(env, "models")
    assert models.returncode == 0, models.stderr
    assert len([line for line in models.stdout.splitlines() if " champion " in line]) == len(MODELS)


def champion_version(env: dict[str, str], family: str, zone: str) -> str:
    """The version the registry's champion pointer names."""
    pointer = Path(env["SCALAR_LOCAL__DATA_DIR"]) / "models" / family / zone / "champion.json"
    version: str = json.loads(pointer.read_text(encoding="utf-8"))["version"]
    return version


def forecasts_reach_the_warehouse_and_redis(env: dict[str, str]) -> None:
    """The forecasting actor picks every new champion up at once and publishes; ingestion stores every issue in the
    forecasts table with the version that made it."""
    deadline, forecast_rows = time.monotonic() + 300, []
    while time.monotonic() < deadline:
        forecast_rows = query(
            env,
            """select family, zone, count(*) as n, count(distinct issued_at) as issues,
                      min(model_version) as version from forecasts group by family, zone""",
        )
        if len(forecast_rows) == len(MODELS):
            break
        time.sleep(10)
    assert sorted(f"{row['family']}/{row['zone']}" for row in forecast_rows) == sorted(MODELS)
    assert all(str(row["version"]) not in ("", "unknown") for row in forecast_rows), forecast_rows
    assert query(env, "select count(*) as n from observations where series_id like 'scalar/%'")[0]["n"] == 0
    issues = query(
        env,
        """select issued_at, count(*) as n, min(ts) as first_ts from forecasts
           where family = 'dk_demand' and zone = 'DK1' and target = 'entsoe/A65/DK1/load' group by issued_at""",
    )
    # Every issue is a vintage of its own, with its issue time, covering the horizon from the last known load.
    assert all(row["n"] == FAMILIES["dk_demand"].horizon_steps for row in issues), issues
    assert all(str(row["first_ts"]) > str(row["issued_at"])[:10] for row in issues)

    cache = redis.Redis.from_url(env["SCALAR_CACHE__URL"])
    assert cache.exists("scalar:forecast:dk_demand/DK1")
    assert cache.exists("scalar:forecast:baltic_imbalance/EE")
    assert not cache.keys("scalar:recent:scalar/*")  # forecasts are no series of their own any more

    one_off = run(env, "forecast", "--families", "dk_demand", "--zones", "DK1")
    assert one_off.returncode == 0, one_off.stdout + one_off.stderr[-2000:]
    assert "1 forecast(s) issued" in one_off.stdout
    deadline, count = time.monotonic() + 120, 0
    while time.monotonic() < deadline and count <= len(issues):  # the one-off is one more vintage
        answer = query(
            env,
            "select count(distinct issued_at) as n from forecasts where family = 'dk_demand' and zone = 'DK1'",
        )
        count = int(str(answer[0]["n"]))
        time.sleep(2)
    assert count > len(issues)


def the_commands_answer(env: dict[str, str], tmp_path: Path) -> None:
    strategy = run(env, "strategy", "--plot", str(tmp_path / "strategy.png"), timeout=600)
    assert strategy.returncode == 0, strategy.stdout + strategy.stderr[-3000:]
    assert re.search(r"^DK1\s+\d+\s", strategy.stdout, re.MULTILINE), strategy.stdout
    assert (tmp_path / "strategy.png").stat().st_size > 10_000

    status = run(env, "status")
    assert "forecasting" in status.stdout
    assert re.search(rf"{len(MODELS)} models, {len(MODELS)} issuing", status.stdout), status.stdout


def the_api_serves_the_forecasts(env: dict[str, str]) -> None:
    key = "platform-test-key-0123456789"
    serving = {**env, "SCALAR_SERVE__API_KEYS": key}
    deployed = run(serving, "serve", timeout=300)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr[-3000:]
    url = f"http://127.0.0.1:{env['SCALAR_SERVE__PORT']}"
    assert url in deployed.stdout and "bearer API keys required" in deployed.stdout
    headers = {"Authorization": f"Bearer {key}"}

    models = httpx.get(f"{url}/v1/models", headers=headers, timeout=60).json()
    latest = {model: httpx.get(f"{url}/v1/forecasts/{model}/latest", headers=headers, timeout=60) for model in MODELS}
    refused = httpx.get(f"{url}/v1/models", timeout=60)
    status = run(serving, "status", timeout=120)
    stopped = run(serving, "serve", "--stop", timeout=120)

    assert len([m for m in models if m["champion"]]) == len(MODELS)
    assert {model: r.status_code for model, r in latest.items()} == dict.fromkeys(MODELS, 200)
    assert {r.json()["source"] for r in latest.values()} <= {"cache", "warehouse"}
    assert refused.status_code == 401
    assert "forecast API: RUNNING (ForecastIngress 1 RUNNING" in status.stdout, status.stdout
    assert stopped.returncode == 0, stopped.stderr[-2000:]
