"""The local stack as a user runs it, started once for the module (Pulsar, Redis, a Ray head, DuckDB, the simulator).

1. `scalar-ray local up | status` start every service and report them; the head refuses callers without its token,
   takes `ray job submit` with the platform's Python, and a followed job shows only its own lines; the simulator
   answers the real clients; no secret reaches a log or a command line; a second `up` launches nothing, and a stack
   that wants a taken port fails before launching anything.
2. Forecasting on that stack: the platform ingests the families' inputs (a `ray job submit` backfill plus live
   acquisition), `ray job submit -- python -m jobs.train` trains every family x zone and promotes champions, a second
   configuration is promoted exactly when it beats the champion on the same windows, the forecasting actor issues
   forecasts that ingestion stores as vintages in the warehouse and in Redis, and the `forecast`, `models`,
   `strategy`, `query` and `status` commands answer.
3. The forecast API as `scalar-ray serve` deploys it on the head, over the forecasts the platform issued: every
   endpoint over HTTP, authentication on and off, the error cases, a model that fails to load, a champion promoted
   while clients keep calling, and no key in any log.
4. `scalar-ray local down` stops every service on its own, the Ray head in its order, and leaves no process behind.

One stack for all of it: starting Pulsar and a Ray head, ingesting eight days and training every family is four
minutes of this machine's two cores, which no test should pay twice. The tests run in this order; each names the
fixture (`trained`, `api`) whose state it needs, so one of them also runs alone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import redis
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from commands.platform import DEMO_PRICE
from scalar_ray.client import MarketDataClient
from scalar_ray.composition import model_registry
from scalar_ray.config import load_settings
from scalar_ray.forecasting.families import input_areas, input_datasets, load_families
from scalar_ray.forecasting.registry import new_version
from scalar_ray.local.process import wait_until
from tests.conftest import PROJECT_ROOT
from tests.integration.browser import enter_key, wait_for_a_chart
from tests.integration.browser import status as explorer_status
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
    platform_started: bool = False
    platform_stopped: subprocess.CompletedProcess[str] | None = None
    down: subprocess.CompletedProcess[str] | None = None

    @property
    def pids(self) -> list[int]:
        return [int(str(row["pid"])) for row in self.services.values() if row["pid"]]

    def start_platform(self) -> subprocess.CompletedProcess[str]:
        started = run(self.env, "platform", "start")
        self.platform_started = started.returncode == 0
        return started

    def stop(self) -> subprocess.CompletedProcess[str]:
        """`platform stop` if it runs, then `local down`, as a user ends the day; once."""
        if self.platform_started:
            self.platform_stopped = run(self.env, "platform", "stop")
            self.platform_started = False
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


@dataclass
class Trained:
    """The platform started, eight days ingested, and the first `jobs.train` over every family x zone."""

    env: dict[str, str]
    first: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def trained(stack: Stack) -> Trained:
    started = stack.start_platform()
    assert started.returncode == 0, started.stderr[-3000:]
    assert "forecasting" in started.stdout
    ingest_history(stack.env)
    # 15 s of fitting per model: every family's AutoGluon models fit in it on this data, the models sharing 2 cores.
    first = submit(stack.env, "python", "-m", "jobs.train", "--zones", ",".join(ZONES), "--time-limit", "15")
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-3000:]
    return Trained(stack.env, first)


def test_the_platform_trains_every_model_and_promotes_the_first_ones(trained: Trained) -> None:
    statuses = outcome_lines(trained.first.stdout)
    assert sorted(statuses) == sorted(MODELS)
    assert set(statuses.values()) == {"promoted"}, trained.first.stdout[-5000:]
    assert "WQL" in trained.first.stdout and "naive" in trained.first.stdout  # the summary table

    models = run(trained.env, "models")
    assert models.returncode == 0, models.stderr
    assert len([line for line in models.stdout.splitlines() if " champion " in line]) == len(MODELS)


def test_a_second_configuration_is_promoted_exactly_when_it_beats_the_champion(trained: Trained) -> None:
    env = trained.env
    # Average with the SeasonalNaive baseline: on the same backtest windows its WQL must beat the champion's by the
    # family's margin, with skill against the baseline, and its own models (not the baseline) must serve. On
    # imbalance data Average can truly be better; on day-ahead prices it hardly ever is.
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
        # Every backtest reports its interval's coverage; a recalibrated one has an offset for every target.
        calibration = outcome["calibration"]
        assert 0.0 <= calibration["coverage_before"] <= 1.0, outcome
        if calibration["applied"]:
            assert len(calibration["offsets"]) == len(FAMILIES[outcome["family"]].targets), outcome
            assert abs(calibration["coverage_before"] - 0.8) > 0.05 and 0.0 <= calibration["coverage_after"] <= 1.0
    assert " cover % " in second.stdout  # the summary table's coverage column


def test_forecasts_reach_the_warehouse_and_redis_as_vintages(trained: Trained) -> None:
    """The forecasting actor picks every new champion up at once and publishes; ingestion stores every issue in the
    forecasts table with the version that made it."""
    env = trained.env
    forecast_rows = wait_for_forecasts(env)
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
    cache.close()

    issue_one_more_dk_demand_forecast(env)


def test_the_strategy_and_status_commands_answer(trained: Trained, stack: Stack) -> None:
    env = trained.env
    strategy = run(env, "strategy", "--plot", str(stack.root / "strategy.png"), timeout=600)
    assert strategy.returncode == 0, strategy.stdout + strategy.stderr[-3000:]
    assert re.search(r"^DK1\s+\d+\s", strategy.stdout, re.MULTILINE), strategy.stdout
    assert (stack.root / "strategy.png").stat().st_size > 10_000

    status = run(env, "status")
    assert "forecasting" in status.stdout
    assert re.search(rf"{len(MODELS)} models, {len(MODELS)} issuing", status.stdout), status.stdout


# -- The forecast API, deployed by `scalar-ray serve` on the head ---------------------------------------------------

KEY = "platform-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
PRESENTED_WRONG_KEY = "a-presented-wrong-key-123"
DAYS = ("start", "end")  # the explorer's day fields


@dataclass
class Api:
    env: dict[str, str]  # the stack's, with the API's keys
    url: str
    deployed: subprocess.CompletedProcess[str]
    issues: dict[str, list[datetime]]  # the issue times of every model when the API was deployed, oldest first

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.post(self.url + path, timeout=120, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def api(stack: Stack, trained: Trained) -> Iterator[Api]:
    """`scalar-ray serve` with an API key, once every model has issued and dk_demand/DK1 twice (for as-of reads)."""
    serving = {**trained.env, "SCALAR_SERVE__API_KEYS": KEY, "SCALAR_SERVE__CHAMPION_POLL_S": "1"}
    wait_for_forecasts(trained.env)
    if len(issue_times(trained.env)["dk_demand/DK1"]) < 2:
        issue_one_more_dk_demand_forecast(trained.env)
    deployed = run(serving, "serve", timeout=300)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr[-3000:]
    url = f"http://127.0.0.1:{serving['SCALAR_SERVE__PORT']}"
    assert wait_until(lambda: _answers(url), 120), f"the API at {url} did not answer"
    yield Api(serving, url, deployed, issue_times(trained.env))
    if stack.down is None:  # the last API test stops it and checks; this is for a run that failed before
        run(serving, "serve", "--stop", timeout=120)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/models", timeout=10).status_code in (200, 401)
    except httpx.HTTPError:
        return False


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_the_api_serves_every_models_latest_forecast_to_key_holders_only(api: Api) -> None:
    assert api.url in api.deployed.stdout and "bearer API keys required" in api.deployed.stdout
    models = api.get("/v1/models", headers=AUTH).json()
    latest = {model: api.get(f"/v1/forecasts/{model}/latest", headers=AUTH) for model in MODELS}
    status = run(api.env, "status", timeout=120)

    assert len([m for m in models if m["champion"]]) == len(MODELS)
    assert {model: r.status_code for model, r in latest.items()} == dict.fromkeys(MODELS, 200)
    assert {r.json()["source"] for r in latest.values()} <= {"cache", "warehouse"}
    assert api.get("/v1/models").status_code == 401
    assert "forecast API: RUNNING (ForecastIngress 1 RUNNING" in status.stdout, status.stdout


def test_health_readiness_and_openapi(api: Api) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz").json()
    assert ready["ready"] is True, ready
    assert ready["components"] == {"registry": "ok", "warehouse": "ok", "cache": "ok"}
    paths = api.get("/openapi.json").json()["paths"]
    assert "/v1/forecasts/{family}/{zone}/predict" in paths


def test_models_list_the_champions_with_backtest_metrics(api: Api) -> None:
    models = {m["model"]: m for m in api.get("/v1/models", headers=AUTH).json()}
    detail = api.get("/v1/models/dk_demand/DK1", headers=AUTH).json()

    assert set(models) == set(MODELS)
    for model in models.values():
        assert model["champion"]["status"] == "champion"
        assert model["champion"]["metrics"]["wql"] > 0
        assert model["champion"]["skill"] is not None
    champion = models["dk_demand/DK1"]["champion"]["version"]
    assert [v["status"] for v in detail["versions"] if v["version"] == champion] == ["champion"]


def test_latest_comes_from_redis_with_quantiles_and_the_newest_issue_time(api: Api) -> None:
    body = api.get("/v1/forecasts/dk_demand/DK1/latest", headers=AUTH).json()

    assert body["source"] == "cache"
    # The newest issue when the API was deployed, or one the forecasting actor issued since.
    assert datetime.fromisoformat(body["issue_time"]) >= api.issues["dk_demand/DK1"][-1]
    (load,) = body["targets"]
    assert load["target"] == "load" and load["unit"] == "MW"
    assert len(load["ts"]) == body["horizon"]["steps"] == 96
    assert all(lo <= mid <= hi for lo, mid, hi in zip(load["q10"], load["q50"], load["q90"], strict=True))


def test_latest_falls_back_to_the_warehouse_without_redis(api: Api) -> None:
    cached = redis.Redis.from_url(api.env["SCALAR_CACHE__URL"])
    keys = cached.keys("scalar:forecast:dk_dayahead/*")
    assert keys
    saved = {key: cached.dump(key) for key in keys}
    cached.delete(*keys)
    try:
        body = api.get("/v1/forecasts/dk_dayahead/DK1/latest", headers=AUTH).json()
    finally:
        for key, value in saved.items():
            cached.restore(key, 0, value, replace=True)
        cached.close()

    assert body["source"] == "warehouse"
    assert datetime.fromisoformat(body["issue_time"]) == issue_times(api.env)["dk_dayahead/DK1"][-1]


def test_as_of_an_earlier_time_serves_the_issue_then_in_force(api: Api) -> None:
    earlier, later = api.issues["dk_demand/DK1"][-2:]
    between = iso(earlier + (later - earlier) / 2)

    body = api.get("/v1/forecasts/dk_demand/DK1", params={"as_of": between, "horizon": "PT6H"}, headers=AUTH)

    assert body.status_code == 200, body.text
    assert datetime.fromisoformat(body.json()["issue_time"]) == earlier
    assert body.json()["horizon"]["steps"] == 24


def test_csv_and_arrow_formats(api: Api) -> None:
    csv = api.get("/v1/forecasts/dk_demand/DK1/latest", params={"format": "csv"}, headers=AUTH)
    arrow = api.get(
        "/v1/forecasts/dk_demand/DK1/latest", headers={**AUTH, "Accept": "application/vnd.apache.arrow.stream"}
    )

    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].replace('"', "") == "model,issue_time,source,target,ts,mean,q10,q50,q90,fallback"
    assert len(csv.text.splitlines()) == 97
    table = pa.ipc.open_stream(arrow.content).read_all()
    # Eight days of history are less than dk_demand's P14D: its baseline issues, and the answer says so.
    assert table.schema.metadata[b"fallback"] == b"SeasonalNaive"
    assert b"too little history" in table.schema.metadata[b"fallback_reason"]
    assert table.num_rows == 96 and table.schema.metadata[b"model"] == b"dk_demand/DK1"


def test_on_demand_prediction_with_the_champion_and_a_named_version(api: Api) -> None:
    earlier = api.issues["dk_dayahead/DK1"][0]
    champion = api.post("/v1/forecasts/dk_dayahead/DK1/predict", json={}, headers=AUTH)
    assert champion.status_code == 200, champion.text
    body = champion.json()
    version = body["model_version"]
    named = api.post(
        "/v1/forecasts/dk_dayahead/DK1/predict",
        json={"version": version, "issue_time": iso(earlier), "horizon": "PT12H"},
        headers=AUTH,
    ).json()

    assert body["source"] == "model" and version
    assert body["targets"][0]["target"] == "price"
    assert named["model_version"] == version
    assert datetime.fromisoformat(named["issue_time"]) == earlier
    assert named["horizon"]["steps"] == 48


def test_error_cases_answer_clear_json(api: Api) -> None:
    demand = "/v1/forecasts/dk_demand/DK1"
    cases = [
        (api.get("/v1/forecasts/dk_demand/SE9/latest", headers=AUTH), 404, "unknown_model"),
        (api.get(f"{demand}/latest", params={"horizon": "P2D"}, headers=AUTH), 422, "horizon_too_long"),
        (api.get(demand, params={"as_of": "last tuesday"}, headers=AUTH), 422, "invalid_request"),
        (api.post(f"{demand}/predict", json={"version": "v0"}, headers=AUTH), 404, "unknown_version"),
        (api.get(f"{demand}/latest"), 401, "unauthorized"),
        (api.get("/v1/models", headers={"Authorization": "Bearer wrong-key-wrong-key"}), 401, "unauthorized"),
    ]  # fmt: skip
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]


def clone_version(env: dict[str, str], model: str, *, broken: bool = False) -> str:
    """A new registry version of ``model``: the champion's files (or garbage) under a new version."""
    family, zone = model.split("/")
    settings = load_settings(env)
    registry = model_registry(settings)
    champion = registry.champion(family, zone)
    assert champion is not None
    version = new_version()
    copy = settings.data_dir / "clones" / version
    shutil.copytree(registry.model_dir(champion), copy)
    if broken:
        for pickle in copy.rglob("*.pkl"):
            pickle.write_bytes(b"truncated")
    registry.register(replace(champion, version=version, status="rejected"), copy)
    return version


def test_a_model_that_fails_to_load_answers_503_and_only_that_model(api: Api) -> None:
    broken = clone_version(api.env, "dk_demand/DK1", broken=True)

    failed = api.post("/v1/forecasts/dk_demand/DK1/predict", json={"version": broken}, headers=AUTH)
    again = api.post("/v1/forecasts/dk_demand/DK1/predict", json={"version": broken}, headers=AUTH)
    other = api.post("/v1/forecasts/dk_dayahead/DK1/predict", json={}, headers=AUTH)
    champion = api.post("/v1/forecasts/dk_demand/DK1/predict", json={}, headers=AUTH)

    assert failed.status_code == 503, failed.text
    assert failed.json()["error"]["code"] == "model_unavailable"
    assert int(failed.headers["retry-after"]) > 0
    assert again.status_code == 503
    assert other.status_code == 200 and champion.status_code == 200


def test_a_promoted_champion_is_picked_up_without_a_failed_request(api: Api) -> None:
    before = api.post("/v1/forecasts/dk_demand/DK1/predict", json={"horizon": "PT1H"}, headers=AUTH).json()
    statuses: list[int] = []
    versions: list[str] = []
    stop = threading.Event()

    def call() -> None:
        with httpx.Client(base_url=api.url, headers=AUTH, timeout=120) as client:
            while not stop.is_set():
                response = client.post("/v1/forecasts/dk_demand/DK1/predict", json={"horizon": "PT1H"})
                statuses.append(response.status_code)
                if response.status_code == 200:
                    versions.append(response.json()["model_version"])
                statuses.append(client.get("/v1/forecasts/dk_demand/DK1/latest").status_code)

    callers = [threading.Thread(target=call) for _ in range(2)]
    for caller in callers:
        caller.start()
    time.sleep(2)
    promoted = clone_version(api.env, "dk_demand/DK1")
    model_registry(load_settings(api.env)).promote("dk_demand", "DK1", promoted, "test promotion")
    deadline = time.monotonic() + 90
    while promoted not in versions[-3:] and time.monotonic() < deadline:
        time.sleep(0.5)
    stop.set()
    for caller in callers:
        caller.join()

    assert before["model_version"] != promoted
    assert promoted in versions, f"still serving {set(versions)}"
    assert set(statuses) == {200}, statuses
    assert versions.index(promoted) > 0  # the old champion answered until the switch


def test_market_data_reads_through_the_client_in_copenhagen_time(api: Api) -> None:
    with MarketDataClient(api.url, KEY) as client:
        catalogue = client.search(area="DK1", page_size=500).table.to_pylist()
        held = [row for row in catalogue if row["rows"] and row["resolution"] in ("PT15M", "PT60M")]
        assert held, catalogue
        series = held[0]
        end = series["last_ts"] + timedelta(hours=1)
        hourly = client.series(
            [series["series_id"]], end - timedelta(days=2), end, tz="Europe/Copenhagen", frequency="PT1H"
        )
        issued = api.issues["dk_demand/DK1"][-1]
        stairs = client.forecast_staircase("dk_demand", "DK1", issued, issued + timedelta(days=2), lead="PT0S")

    frame = hourly.to_pandas()
    assert str(frame.index.tz) == "Europe/Copenhagen" and frame["count"].sum() > 0
    assert (frame["count"] <= frame["expected"]).all()
    assert stairs.table.num_rows > 0 and all(stairs.table["model_version"].to_pylist())


def test_the_readmes_link_opens_the_explorer_with_a_dk1_price_chart(api: Api, browser: WebDriver) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    link = re.search(r"<http://127\.0\.0\.1:8000(/explorer\?[^>]+)>", readme)
    assert link, "the README links the explorer"
    browser.get(api.url + link.group(1))
    enter_key(browser, KEY)  # keys are on here
    points = wait_for_a_chart(browser)
    assert DEMO_PRICE in browser.find_element(By.ID, "selected").text
    assert "in Europe/Copenhagen" in explorer_status(browser)[1]

    # What the page drew is what the API holds for the local days it chose, hour by hour.
    copenhagen = ZoneInfo("Europe/Copenhagen")
    first, last = (date.fromisoformat(browser.find_element(By.ID, f).get_attribute("value") or "") for f in DAYS)
    start = datetime(first.year, first.month, first.day, tzinfo=copenhagen)
    end = datetime(last.year, last.month, last.day, tzinfo=copenhagen) + timedelta(days=1)  # the To day included
    with MarketDataClient(api.url, KEY) as client:
        hourly = client.series([DEMO_PRICE], start, end, tz="Europe/Copenhagen", frequency="PT1H")
    held = sum(value is not None for value in hourly.table["value"].to_pylist())
    assert points == held > 0


def test_no_key_reaches_the_logs(api: Api, stack: Stack) -> None:
    api.get("/v1/models", headers={"Authorization": f"Bearer {PRESENTED_WRONG_KEY}"})
    secrets = (KEY.encode(), PRESENTED_WRONG_KEY.encode())
    logs = [
        *(stack.root / "data").rglob("*.log"),
        *(path for path in Path(stack.env["SCALAR_RAY__TEMP_DIR"]).rglob("*") if "logs" in path.parts),
    ]
    read = [path for path in logs if path.is_file()]
    assert read
    assert [str(path) for path in read if any(secret in path.read_bytes() for secret in secrets)] == []


def test_without_keys_the_api_is_open_and_serve_stop_takes_it_down(api: Api, stack: Stack) -> None:
    opened = run(stack.env, "serve", timeout=300)  # the same stack without SCALAR_SERVE__API_KEYS
    assert opened.returncode == 0, opened.stdout + opened.stderr[-3000:]
    assert "no authentication (loopback only)" in opened.stdout
    assert wait_until(lambda: api.get("/v1/models").status_code == 200, 120)
    assert api.get("/v1/forecasts/dk_demand/DK1/latest").status_code == 200

    stopped = run(stack.env, "serve", "--stop", timeout=120)

    assert stopped.returncode == 0, stopped.stderr[-2000:]
    assert "forecast API: RUNNING" not in run(stack.env, "status", timeout=120).stdout


def test_local_down_stops_every_service_in_order_and_leaves_nothing_behind(stack: Stack) -> None:
    down = stack.stop()

    # The platform went first, every actor in its order (producers, ingestion, then the warehouse).
    if stack.platform_stopped is not None:
        stopped = stack.platform_stopped
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr[-2000:]
        order = r"^stopped: forecasting, acquisition-.*, ingestion-0, warehouse$"
        assert re.search(order, stopped.stdout, re.MULTILINE), stopped.stdout

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
    """Eight days of every input through the platform's bulk path (the live actors add the newest data).

    In four-day pieces: a quarter of the requests of the default daily ones, and Meteologica answers each past piece
    with its whole month's archive (27 s for daily pieces, 16 s for these, measured in one process).
    """
    history = submit(
        env, "python", "-m", "jobs.backfill", "--datasets", env["SCALAR_ACQUISITION__DATASETS"],
        "--areas", env["SCALAR_ACQUISITION__AREAS"], "--last", "P8D", "--piece", "P4D", "--concurrency", "2",
    )  # fmt: skip
    assert history.returncode == 0, history.stdout[-3000:] + history.stderr[-3000:]


def champion_version(env: dict[str, str], family: str, zone: str) -> str:
    """The version the registry's champion pointer names."""
    pointer = Path(env["SCALAR_LOCAL__DATA_DIR"]) / "models" / family / zone / "champion.json"
    version: str = json.loads(pointer.read_text(encoding="utf-8"))["version"]
    return version


def issue_times(env: dict[str, str]) -> dict[str, list[datetime]]:
    """Every model's issue times in the warehouse's forecasts table, oldest first (one `scalar-ray query`)."""
    rows = query(env, "select distinct family, zone, issued_at from forecasts order by family, zone, issued_at")
    issues: dict[str, list[datetime]] = {}
    for row in rows:
        issues.setdefault(f"{row['family']}/{row['zone']}", []).append(datetime.fromisoformat(str(row["issued_at"])))
    return issues


def issue_one_more_dk_demand_forecast(env: dict[str, str]) -> None:
    """`scalar-ray forecast` for dk_demand/DK1, then wait until ingestion stored it as one more vintage."""
    before = len(issue_times(env).get("dk_demand/DK1", []))
    one_off = run(env, "forecast", "--families", "dk_demand", "--zones", "DK1")
    assert one_off.returncode == 0, one_off.stdout + one_off.stderr[-2000:]
    assert "1 forecast(s) issued" in one_off.stdout
    assert wait_until(lambda: len(issue_times(env).get("dk_demand/DK1", [])) > before, 120, interval_s=2)


def wait_for_forecasts(env: dict[str, str], timeout_s: float = 300) -> list[dict[str, object]]:
    """Per family x zone in the forecasts table: rows, issues and the oldest model version; once every model issued."""
    deadline, rows = time.monotonic() + timeout_s, []
    while time.monotonic() < deadline:
        rows = query(
            env,
            """select family, zone, count(*) as n, count(distinct issued_at) as issues,
                      min(model_version) as version from forecasts group by family, zone""",
        )
        if len(rows) == len(MODELS):
            break
        time.sleep(2)  # each `scalar-ray query` is itself about 3 s
    return rows
