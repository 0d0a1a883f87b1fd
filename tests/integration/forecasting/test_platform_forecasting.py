"""Forecasting as a user runs it, on a real local stack (Pulsar, Redis, Ray head, DuckDB, simulator):

the platform ingests the families' inputs (a `ray job submit` backfill plus live acquisition), `ray job submit --
python -m jobs.train` trains every family x zone and promotes champions, a second configuration is promoted exactly
when it beats the champion on the same windows, the forecasting actor issues forecasts that ingestion stores as
vintages in the warehouse and in Redis, the `forecast`, `models`, `strategy`, `query` and `status` commands answer,
and `scalar-ray serve` deploys the forecast API on the head, which serves every model's latest forecast.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis

from scalar_ray.forecasting.families import input_areas, input_datasets, load_families
from tests.integration.test_local_stack_cli import processes_mentioning, run, stack_environment

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAMILIES = load_families()
MODELS = [f"{name}/{zone}" for name, spec in FAMILIES.items() for zone in spec.zones]


def submit(env: dict[str, str], *command: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """`ray job submit -- <command>` against the stack's head, as a user types it."""
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ray"),
            "job",
            "submit",
            "--address",
            f"http://127.0.0.1:{env['SCALAR_RAY__DASHBOARD_PORT']}",
            "--",
            *command,
        ],
        env={**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": env["SCALAR_RAY__AUTH_TOKEN"]},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def query(env: dict[str, str], sql: str) -> list[dict[str, object]]:
    answer = run(env, "query", sql, "--json", timeout=120)
    assert answer.returncode == 0, answer.stderr[-2000:]
    rows: list[dict[str, object]] = json.loads(answer.stdout.strip().splitlines()[-1])
    return rows


def outcome_lines(stdout: str) -> dict[str, str]:
    """Model → status from the job's progress lines (``[3/13] dk_demand/DK1  promoted ...``)."""
    return dict(re.findall(r"^\[\d+/\d+\] (\S+)\s+(\w+)", stdout, re.MULTILINE))


def test_the_platform_trains_promotes_and_issues_forecasts(tmp_path: Path) -> None:
    env = {
        **stack_environment(tmp_path / "data"),
        "SCALAR_RAY__NUM_CPUS": "2",
        "SCALAR_ACQUISITION__DATASETS": ",".join(input_datasets(FAMILIES.values())),
        "SCALAR_ACQUISITION__AREAS": ",".join(input_areas(FAMILIES.values())),
        "SCALAR_INGESTION__REPLICAS": "1",
    }
    try:
        up = run(env, "local", "up")
        assert up.returncode == 0, up.stderr[-3000:]
        started = run(env, "platform", "start")
        assert started.returncode == 0, started.stderr[-3000:]
        assert "forecasting" in started.stdout
        ingest_history(env)
        train_every_model_then_a_worse_one(env)
        forecasts_reach_the_warehouse_and_redis(env)
        the_commands_answer(env, tmp_path)
        the_api_serves_the_forecasts(env)
    finally:
        run(env, "platform", "stop")
        run(env, "local", "down")
    assert processes_mentioning(env["SCALAR_RAY__TEMP_DIR"]) == []  # HAProxy and Serve went with the head


def ingest_history(env: dict[str, str]) -> None:
    """Eight days of every input through the platform's bulk path (the live actors add the newest data)."""
    history = submit(
        env, "python", "-m", "jobs.backfill", "--datasets", env["SCALAR_ACQUISITION__DATASETS"],
        "--areas", env["SCALAR_ACQUISITION__AREAS"], "--last", "P8D", "--concurrency", "2",
    )  # fmt: skip
    assert history.returncode == 0, history.stdout[-3000:] + history.stderr[-3000:]


def train_every_model_then_a_worse_one(env: dict[str, str]) -> None:
    # 15 s of fitting per model: every family's AutoGluon models fit in it on this data, and 13 models share 2 cores.
    first = submit(env, "python", "-m", "jobs.train", "--time-limit", "15")
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
    assert cache.exists("scalar:forecast:nordic_imbalance/SE3")
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
