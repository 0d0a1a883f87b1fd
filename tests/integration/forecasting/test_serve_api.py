"""The forecast API as Ray Serve runs it on the real local Ray: two trained champions, forecasts stored in the warehouse
(DuckDB through its actor) and Redis, every endpoint over HTTP, authentication on and off, the error cases, a model
that fails to load, and a champion promoted while clients keep calling."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
import ray
import redis
from pydantic import SecretStr
from ray import serve

from jobs.train import run
from scalar_ray.cache.redis import RedisCache
from scalar_ray.composition import forecast_service, model_registry
from scalar_ray.config import Settings
from scalar_ray.forecasting.families import load_families
from scalar_ray.forecasting.registry import new_version
from scalar_ray.local import RedisServer
from scalar_ray.warehouse.remote import RemoteWarehouse
from serve.app import deploy
from tests.integration.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "integration-test-key-4f9a2c"
AUTH = {"Authorization": f"Bearer {KEY}"}
MODELS = ("dk_demand", "dk_dayahead")


@dataclasses.dataclass
class Served:
    settings: Settings
    url: str
    first_issue: datetime
    second_issue: datetime

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.post(self.url + path, timeout=120, **kwargs)  # type: ignore[arg-type]


def with_serve(settings: Settings, redis_port: int, **serve: object) -> Settings:
    cache = settings.cache.model_copy(update={"url": f"redis://127.0.0.1:{redis_port}/0"})
    forecasting = settings.forecasting.model_copy(update={"families": list(MODELS), "zones": ["DK1"]})
    return settings.model_copy(
        update={"cache": cache, "forecasting": forecasting, "serve": settings.serve.model_copy(update=serve)}
    )


def wait_ready(url: str, headers: dict[str, str] | None = None, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/models", headers=headers, timeout=10).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"the API at {url} did not answer within {timeout_s} s")


@pytest.fixture(scope="module")
def served(dk_history: Settings, redis_server: RedisServer) -> Iterator[Served]:
    settings = with_serve(
        dk_history, redis_server.port, port=free_port(), api_keys=[SecretStr(KEY)], champion_poll_s=1.0
    )
    families = load_families()
    # Any champion serves here (the API is under test, not the models): 10 s of fitting each.
    pairs = [(families[name].model_copy(update={"time_limit_s": 10}), "DK1") for name in MODELS]
    outcomes = run(settings, pairs, echo=False)
    assert all(o.status == "promoted" for o in outcomes), outcomes

    # Two issues per model, stored as ingestion stores them: the forecasts table, the newest issue in Redis.
    warehouse = RemoteWarehouse(settings.ray.namespace)
    cache = RedisCache.from_settings(settings.cache)
    service = forecast_service(settings, warehouse, None)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    first, second = now - timedelta(hours=2), now - timedelta(minutes=15)
    for spec, zone in service.models():
        for issue_time in (first, second):
            issued = service.predict(spec, zone, issue_time)
            warehouse.write_forecasts(issued.forecasts)
            cache.update_forecasts(issued.forecasts)
    cache.close()

    url = deploy(settings)
    wait_ready(url, AUTH)
    yield Served(settings, url, first, second)
    serve.shutdown()


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_health_readiness_and_openapi(served: Served) -> None:
    assert served.get("/healthz").json() == {"status": "ok"}
    ready = served.get("/readyz").json()
    assert ready["ready"] is True, ready
    assert ready["components"] == {"registry": "ok", "warehouse": "ok", "cache": "ok"}
    paths = served.get("/openapi.json").json()["paths"]
    assert "/v1/forecasts/{family}/{zone}/predict" in paths


def test_models_list_the_trained_champions_with_backtest_metrics(served: Served) -> None:
    models = {m["model"]: m for m in served.get("/v1/models", headers=AUTH).json()}
    detail = served.get("/v1/models/dk_demand/DK1", headers=AUTH).json()

    assert set(models) == {"dk_demand/DK1", "dk_dayahead/DK1"}
    for model in models.values():
        assert model["champion"]["status"] == "champion"
        assert model["champion"]["metrics"]["wql"] > 0
        assert model["champion"]["skill"] is not None
    assert detail["versions"][-1]["version"] == models["dk_demand/DK1"]["champion"]["version"]


def test_latest_comes_from_redis_with_quantiles_and_the_issue_time(served: Served) -> None:
    body = served.get("/v1/forecasts/dk_demand/DK1/latest", headers=AUTH).json()

    assert body["source"] == "cache"
    assert body["issue_time"] == iso(served.second_issue)
    (load,) = body["targets"]
    assert load["target"] == "load" and load["unit"] == "MW"
    assert len(load["ts"]) == body["horizon"]["steps"] == 96
    assert all(lo <= mid <= hi for lo, mid, hi in zip(load["q10"], load["q50"], load["q90"], strict=True))


def test_latest_falls_back_to_the_warehouse_without_redis(served: Served, redis_server: RedisServer) -> None:
    cached = redis.Redis(host="127.0.0.1", port=redis_server.port)
    keys = cached.keys("scalar:forecast:dk_dayahead/*")
    assert keys
    saved = {key: cached.dump(key) for key in keys}
    cached.delete(*keys)
    try:
        body = served.get("/v1/forecasts/dk_dayahead/DK1/latest", headers=AUTH).json()
    finally:
        for key, value in saved.items():
            cached.restore(key, 0, value, replace=True)
        cached.close()

    assert body["source"] == "warehouse"
    assert body["issue_time"] == iso(served.second_issue)


def test_as_of_an_earlier_time_serves_the_issue_then_in_force(served: Served) -> None:
    between = iso(served.first_issue + timedelta(minutes=5))

    body = served.get("/v1/forecasts/dk_demand/DK1", params={"as_of": between, "horizon": "PT6H"}, headers=AUTH)

    assert body.status_code == 200, body.text
    assert body.json()["issue_time"] == iso(served.first_issue)
    assert body.json()["horizon"]["steps"] == 24


def test_csv_and_arrow_formats(served: Served) -> None:
    csv = served.get("/v1/forecasts/dk_demand/DK1/latest", params={"format": "csv"}, headers=AUTH)
    arrow = served.get(
        "/v1/forecasts/dk_demand/DK1/latest", headers={**AUTH, "Accept": "application/vnd.apache.arrow.stream"}
    )

    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].replace('"', "") == "model,issue_time,source,target,ts,mean,q10,q50,q90"
    assert len(csv.text.splitlines()) == 97
    table = pa.ipc.open_stream(arrow.content).read_all()
    assert table.num_rows == 96 and table.schema.metadata[b"model"] == b"dk_demand/DK1"


def test_on_demand_prediction_with_the_champion_and_a_named_version(served: Served) -> None:
    champion = served.post("/v1/forecasts/dk_dayahead/DK1/predict", json={}, headers=AUTH)
    assert champion.status_code == 200, champion.text
    body = champion.json()
    version = body["model_version"]
    named = served.post(
        "/v1/forecasts/dk_dayahead/DK1/predict",
        json={"version": version, "issue_time": iso(served.first_issue), "horizon": "PT12H"},
        headers=AUTH,
    ).json()

    assert body["source"] == "model" and version
    assert body["targets"][0]["target"] == "price"
    assert named["model_version"] == version and named["issue_time"] == iso(served.first_issue)
    assert named["horizon"]["steps"] == 48


def test_error_cases_answer_clear_json(served: Served) -> None:
    cases = [
        (served.get("/v1/forecasts/dk_demand/SE9/latest", headers=AUTH), 404, "unknown_model"),
        (
            served.get("/v1/forecasts/dk_demand/DK1/latest", params={"horizon": "P2D"}, headers=AUTH),
            422,
            "horizon_too_long",
        ),
        (
            served.get("/v1/forecasts/dk_demand/DK1", params={"as_of": "last tuesday"}, headers=AUTH),
            422,
            "invalid_request",
        ),
        (
            served.post("/v1/forecasts/dk_demand/DK1/predict", json={"version": "v0"}, headers=AUTH),
            404,
            "unknown_version",
        ),
        (served.get("/v1/forecasts/dk_demand/DK1/latest"), 401, "unauthorized"),
        (served.get("/v1/models", headers={"Authorization": "Bearer wrong-key-wrong-key"}), 401, "unauthorized"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]


def clone_version(served: Served, model: str, *, broken: bool = False) -> str:
    """A new registry version of ``model``: the champion's files (or garbage) under a new version."""
    family, zone = model.split("/")
    registry = model_registry(served.settings)
    champion = registry.champion(family, zone)
    assert champion is not None
    version = new_version()
    source = registry.model_dir(champion)
    copy = Path(served.settings.data_dir) / "clones" / version
    shutil.copytree(source, copy)
    if broken:
        for pickle in copy.rglob("*.pkl"):
            pickle.write_bytes(b"truncated")
    registry.register(dataclasses.replace(champion, version=version, status="rejected"), copy)
    return version


def test_a_model_that_fails_to_load_answers_503_and_only_that_model(served: Served) -> None:
    broken = clone_version(served, "dk_demand/DK1", broken=True)

    failed = served.post("/v1/forecasts/dk_demand/DK1/predict", json={"version": broken}, headers=AUTH)
    again = served.post("/v1/forecasts/dk_demand/DK1/predict", json={"version": broken}, headers=AUTH)
    other = served.post("/v1/forecasts/dk_dayahead/DK1/predict", json={}, headers=AUTH)
    champion = served.post("/v1/forecasts/dk_demand/DK1/predict", json={}, headers=AUTH)

    assert failed.status_code == 503, failed.text
    assert failed.json()["error"]["code"] == "model_unavailable"
    assert int(failed.headers["retry-after"]) > 0
    assert again.status_code == 503
    assert other.status_code == 200 and champion.status_code == 200


def test_a_promoted_champion_is_picked_up_without_a_failed_request(served: Served) -> None:
    before = served.post("/v1/forecasts/dk_demand/DK1/predict", json={"horizon": "PT1H"}, headers=AUTH).json()
    statuses: list[int] = []
    versions: list[str] = []
    stop = threading.Event()

    def call() -> None:
        with httpx.Client(base_url=served.url, headers=AUTH, timeout=120) as client:
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
    promoted = clone_version(served, "dk_demand/DK1")
    model_registry(served.settings).promote("dk_demand", "DK1", promoted, "test promotion")
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


def test_no_key_reaches_the_logs(served: Served) -> None:
    served.get("/v1/models", headers={"Authorization": "Bearer a-presented-wrong-key-123"})
    logs = Path(ray._private.worker._global_node.get_session_dir_path()) / "logs"
    leaks = [
        path
        for path in logs.rglob("*")
        if path.is_file() and (KEY.encode() in path.read_bytes() or b"a-presented-wrong-key-123" in path.read_bytes())
    ]
    assert leaks == []


def test_without_keys_the_api_is_open(served: Served) -> None:
    open_settings = served.settings.model_copy(
        update={"serve": served.settings.serve.model_copy(update={"api_keys": None})}
    )
    deploy(open_settings)
    deadline = time.monotonic() + 120
    while served.get("/v1/models").status_code == 401 and time.monotonic() < deadline:
        time.sleep(1)

    assert served.get("/v1/models").status_code == 200
    assert served.get("/v1/forecasts/dk_demand/DK1/latest").status_code == 200
