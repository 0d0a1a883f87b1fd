"""The forecast API over an in-memory platform: every route, formats, authentication, the error bodies, hot reload."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from pyarrow import csv as pacsv
from pydantic import SecretStr

from scalar_ray.core.errors import ModelRegistryError
from scalar_ray.serving.api import build_api
from tests.conftest import Captured
from tests.unit.forecasting.builders import NOW
from tests.unit.serving.fixtures import FIRST_ISSUE, SECOND_ISSUE, Platform, issue_rows, platform, promote, store_issue

KEY = "k" * 24
LATEST = "/v1/forecasts/test_demand/DK1/latest"


def client(p: Platform, keys: list[str] | None = None) -> TestClient:
    return TestClient(build_api(p.backend, [SecretStr(k) for k in keys] if keys else None))


@pytest.fixture
def served(tmp_path: Path) -> Platform:
    return platform(tmp_path)


def test_latest_comes_from_the_cache_with_quantiles_horizon_and_issue_time(served: Platform) -> None:
    body = client(served).get(LATEST).json()

    assert body["source"] == "cache"
    assert body["issue_time"] == SECOND_ISSUE.isoformat().replace("+00:00", "Z")
    assert body["horizon"]["steps"] == 16
    assert body["horizon"]["start"] == body["issue_time"]
    assert body["horizon"]["end"] == (SECOND_ISSUE + timedelta(hours=4)).isoformat().replace("+00:00", "Z")
    (load,) = body["targets"]
    assert load["target"] == "load" and load["unit"] == "MW"
    assert load["mean"][:2] == [200.0, 201.0]
    assert all(lo <= mid <= hi for lo, mid, hi in zip(load["q10"], load["q50"], load["q90"], strict=True))


def test_latest_falls_back_to_the_warehouse_when_the_cache_has_no_complete_issue(tmp_path: Path) -> None:
    body = client(platform(tmp_path, cached=False)).get(LATEST).json()

    assert body["source"] == "warehouse"
    assert body["targets"][0]["mean"][0] == 200.0
    assert body["model_version"] == "v1"  # the forecasts table keeps the version that issued it
    assert body["targets"][0]["unit"] == "MW"


def test_as_of_serves_the_issue_in_force_then_and_404_before_any(served: Platform) -> None:
    api = client(served)
    between = (FIRST_ISSUE + timedelta(minutes=30)).isoformat()

    body = api.get("/v1/forecasts/test_demand/DK1", params={"as_of": between}).json()
    early = api.get("/v1/forecasts/test_demand/DK1", params={"as_of": "2026-11-01T00:00:00Z"})

    assert body["issue_time"] == FIRST_ISSUE.isoformat().replace("+00:00", "Z")
    assert body["targets"][0]["mean"][0] == 100.0 and len(body["targets"][0]["ts"]) == 16
    assert early.status_code == 404
    assert early.json()["error"]["code"] == "forecast_not_found"


def test_horizon_cuts_the_forecast_and_a_longer_one_is_refused(served: Platform) -> None:
    api = client(served)

    short = api.get(LATEST, params={"horizon": "PT1H"}).json()
    too_long = api.get(LATEST, params={"horizon": "PT5H"})
    malformed = api.get(LATEST, params={"horizon": "five hours"})

    assert short["horizon"]["steps"] == 4
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "horizon_too_long"
    assert "PT4H" in too_long.json()["error"]["hint"]
    assert malformed.status_code == 422
    assert "ISO-8601 duration" in malformed.json()["error"]["message"]


def test_malformed_times_unknown_models_and_zones_get_json_errors(served: Platform) -> None:
    api = client(served)

    bad_time = api.get("/v1/forecasts/test_demand/DK1", params={"as_of": "yesterday noon"})
    missing_time = api.get("/v1/forecasts/test_demand/DK1")
    unknown_family = api.get("/v1/forecasts/nordic_magic/DK1/latest")
    unknown_zone = api.get("/v1/forecasts/test_demand/SE9/latest")
    bad_issue = api.post("/v1/forecasts/test_demand/DK1/predict", json={"issue_time": "not a time"})

    assert bad_time.status_code == 422 and bad_time.json()["error"]["code"] == "invalid_request"
    assert "as_of" in bad_time.json()["error"]["message"]
    assert missing_time.status_code == 422
    assert unknown_family.status_code == 404 and unknown_family.json()["error"]["code"] == "unknown_model"
    assert "test_demand/DK1" in unknown_family.json()["error"]["hint"]
    assert unknown_zone.status_code == 404
    assert bad_issue.status_code == 422 and "issue_time" in bad_issue.json()["error"]["message"]


def test_a_model_without_any_forecast_answers_404(served: Platform) -> None:
    response = client(served).get("/v1/forecasts/test_demand/DK2/latest")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "forecast_not_found"


@pytest.mark.parametrize("how", ["query", "accept"])
def test_csv_and_arrow_carry_the_same_values_as_json(served: Platform, how: str) -> None:
    api = client(served)
    expected = api.get(LATEST).json()["targets"][0]

    def fetch(fmt: str, media_type: str) -> bytes:
        if how == "query":
            response = api.get(LATEST, params={"format": fmt})
        else:
            response = api.get(LATEST, headers={"Accept": media_type})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media_type)
        return response.content

    csv_table = pacsv.read_csv(io.BytesIO(fetch("csv", "text/csv")))
    arrow_table = pa.ipc.open_stream(fetch("arrow", "application/vnd.apache.arrow.stream")).read_all()

    for table in (csv_table, arrow_table):
        assert table.column_names[:5] == ["model", "issue_time", "source", "target", "ts"]
        assert table["mean"].to_pylist() == expected["mean"]
        assert table["q90"].to_pylist() == expected["q90"]
    assert arrow_table.schema.metadata[b"model"] == b"test_demand/DK1"


def test_with_keys_every_v1_route_needs_a_valid_bearer_token(served: Platform) -> None:
    api = client(served, [KEY, "second-key-0123456789"])

    missing = api.get(LATEST)
    wrong = api.get(LATEST, headers={"Authorization": "Bearer not-the-key-at-all"})
    right = api.get(LATEST, headers={"Authorization": f"Bearer {KEY}"})
    second = api.get("/v1/models", headers={"Authorization": "Bearer second-key-0123456789"})
    predict = api.post("/v1/forecasts/test_demand/DK1/predict")

    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthorized"
    assert wrong.status_code == 401
    assert right.status_code == 200 and second.status_code == 200
    assert predict.status_code == 401
    assert api.get("/healthz").status_code == 200  # probes carry no key
    assert api.get("/readyz").status_code == 200


def test_without_keys_the_api_is_open(served: Platform) -> None:
    assert client(served).get(LATEST).status_code == 200


def test_no_key_reaches_a_log_line(served: Platform, caplog: pytest.LogCaptureFixture) -> None:
    api = client(served, [KEY])
    caplog.set_level(logging.DEBUG)

    api.get(LATEST, headers={"Authorization": f"Bearer {KEY}"})
    api.get(LATEST, headers={"Authorization": "Bearer a-wrong-key-that-is-long"})

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert KEY not in logged and "a-wrong-key-that-is-long" not in logged


def test_predict_uses_the_champion_or_a_named_version(served: Platform) -> None:
    api = client(served)
    promote(served, "v2")  # the first request asks the registry for the champion

    champion = api.post("/v1/forecasts/test_demand/DK1/predict", json={"horizon": "PT2H"}).json()
    named = api.post(
        "/v1/forecasts/test_demand/DK1/predict", json={"version": "v1", "issue_time": "2026-11-20T08:00"}
    ).json()
    unknown = api.post("/v1/forecasts/test_demand/DK1/predict", json={"version": "v9"})

    assert champion["source"] == "model" and champion["model_version"] == "v2"
    assert champion["horizon"]["steps"] == 8
    assert named["model_version"] == "v1"
    assert named["issue_time"] == "2026-11-20T08:00:00Z"
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_version"


def test_a_model_that_fails_to_load_answers_503_and_the_others_serve(served: Platform) -> None:
    api = client(served)
    served.models.broken.add("test_demand/DK1@v1")

    broken = api.post("/v1/forecasts/test_demand/DK1/predict")
    cached = api.get(LATEST)

    assert broken.status_code == 503
    assert broken.headers["retry-after"] == "30"
    assert broken.json()["error"]["code"] == "model_unavailable"
    assert cached.status_code == 200


def test_a_new_champion_is_served_once_loaded_and_a_broken_one_never(served: Platform) -> None:
    api = client(served)
    backend = served.backend
    assert api.post("/v1/forecasts/test_demand/DK1/predict").json()["model_version"] == "v1"

    promote(served, "v2")
    served.models.broken.add("test_demand/DK1@v2")
    assert asyncio.run(backend.refresh_champions()) == []
    still = api.post("/v1/forecasts/test_demand/DK1/predict").json()
    served.models.broken.clear()
    switched = asyncio.run(backend.refresh_champions())
    after = api.post("/v1/forecasts/test_demand/DK1/predict").json()

    assert still["model_version"] == "v1"
    assert switched == ["test_demand/DK1@v2"]
    assert served.models.warmed == ["test_demand/DK1@v2"]  # loaded before the switch
    assert after["model_version"] == "v2"
    assert backend.reload_errors == {}


def test_models_list_champions_with_backtest_metrics_and_versions(served: Platform) -> None:
    api = client(served)
    promote(served, "v2")

    listed = {m["model"]: m for m in api.get("/v1/models").json()}
    detail = api.get("/v1/models/test_demand/DK1").json()

    assert set(listed) == {"test_demand/DK1", "test_demand/DK2"}
    champion = listed["test_demand/DK1"]["champion"]
    assert champion["version"] == "v2" and champion["skill"] == pytest.approx(0.75)
    assert champion["metrics"]["wql"] == 0.05 and champion["promotion_reason"] == "better"
    assert listed["test_demand/DK2"]["champion"] is None
    # Registry times reach JSON as ISO 8601 in UTC.
    for moment in (champion["created_at"], champion["promoted_at"], champion["data_window"]["end"]):
        assert datetime.fromisoformat(moment).utcoffset() == timedelta(0)
    assert [(v["version"], v["status"]) for v in detail["versions"]] == [("v1", "retired"), ("v2", "champion")]
    assert api.get("/v1/models/test_demand/SE9").status_code == 404


def test_readiness_and_the_openapi_document(served: Platform) -> None:
    api = client(served, [KEY])

    ready = api.get("/readyz").json()
    schema = api.get("/openapi.json").json()

    assert ready["ready"] is True and ready["components"]["registry"] == "ok"
    assert {"/v1/models", "/v1/forecasts/{family}/{zone}/latest", "/v1/forecasts/{family}/{zone}/predict"} <= set(
        schema["paths"]
    )
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_the_clock_is_the_backends(served: Platform) -> None:
    # `predict` without an issue time forecasts from "now" as the backend's clock tells it.
    client(served).post("/v1/forecasts/test_demand/DK1/predict")

    assert served.models.requests[-1].issue_time == NOW


def test_an_unexpected_failure_answers_500_in_the_error_shape(
    served: Platform, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def failing(request: object) -> None:
        raise RuntimeError("Following models failed to predict: ['DirectTabular']")

    monkeypatch.setattr(served.models, "predict", failing)
    api = TestClient(build_api(served.backend, None), raise_server_exceptions=False)

    response = api.post("/v1/forecasts/test_demand/DK1/predict", json={})

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "DirectTabular" in caplog.text  # the cause is in the log, not in the answer
    assert "DirectTabular" not in response.text


def test_every_request_is_timed_under_its_route_template(served: Platform, captured: Captured) -> None:
    def count(route: str, status: str) -> int:
        return sum(
            p.count
            for p in captured.telemetry.points()
            if p.metric == "http.server.request.duration"
            and p.attributes.get("http.route") == route
            and p.attributes.get("http.response.status_code") == status
        )

    route = "/v1/forecasts/{family}/{zone}/latest"
    before_ok, before_missing = count(route, "200"), count(route, "404")
    api = client(served)
    api.get(LATEST)
    api.get(LATEST)
    api.get("/v1/forecasts/test_demand/XX9/latest")

    assert count(route, "200") - before_ok == 2
    assert count(route, "404") - before_missing == 1


@pytest.mark.parametrize(
    "version",
    ["../../../test_demand/DK2/versions/v1", "..", "v1/../../x", "/etc/passwd", "v1\\..\\x", ".hidden"],
)
def test_a_version_that_is_a_path_is_refused_never_followed(served: Platform, version: str) -> None:
    answer = client(served).post("/v1/forecasts/test_demand/DK1/predict", json={"version": version})

    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request"


def test_the_registry_refuses_a_version_or_name_that_is_a_path(served: Platform) -> None:
    registry = served.backend.catalogue.registry
    with pytest.raises(ModelRegistryError, match="is not a version id"):
        registry.entry("test_demand", "DK1", "../../../test_demand/DK2/versions/v1")
    with pytest.raises(ModelRegistryError, match="is not a model family or zone name"):
        registry.entry("test_demand", "../DK2", "v1")


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
)
def test_an_as_of_or_issue_time_at_the_ends_of_time_is_a_422_not_a_500(served: Platform, moment: str) -> None:
    api = client(served)

    as_of = api.get("/v1/forecasts/test_demand/DK1", params={"as_of": moment})
    predict = api.post("/v1/forecasts/test_demand/DK1/predict", json={"issue_time": moment})

    for answer in (as_of, predict):
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "invalid_request" and "outside 1970 to 2200" in answer.text


def test_a_body_that_is_not_json_is_answered_in_the_error_shape(served: Platform) -> None:
    answer = client(served).post(
        "/v1/forecasts/test_demand/DK1/predict", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert answer.status_code in (400, 422)
    assert set(answer.json()) == {"error"} and set(answer.json()["error"]) == {"code", "message", "hint"}


def test_unknown_routes_and_methods_answer_in_the_error_shape(served: Platform) -> None:
    api = client(served)

    for answer, status in ((api.get("/v1/nothing-here"), 404), (api.delete("/v1/models"), 405)):
        assert answer.status_code == status and set(answer.json()) == {"error"}


def test_a_stranger_gets_401_before_the_body_is_read_and_a_large_body_413(served: Platform) -> None:
    api = client(served, keys=[KEY])
    huge = b'{"horizon": "' + b"P" * 100_000 + b'"}'

    stranger = api.post("/v1/forecasts/test_demand/DK1/predict", content=huge)
    member = api.post("/v1/forecasts/test_demand/DK1/predict", content=huge, headers={"Authorization": f"Bearer {KEY}"})

    assert stranger.status_code == 401 and stranger.json()["error"]["code"] == "unauthorized"
    assert member.status_code == 413 and member.json()["error"]["code"] == "body_too_large"


@pytest.mark.parametrize("horizon", ["P1M", "4H", "PT", "P1DT", "PT4H;drop"])
def test_a_horizon_outside_the_documented_pattern_is_a_422_saying_what_is_accepted(
    served: Platform, horizon: str
) -> None:
    answer = client(served).get(LATEST, params={"horizon": horizon})

    assert answer.status_code == 422 and "ISO-8601 duration of days and time" in answer.json()["error"]["message"]


def test_the_openapi_document_says_what_durations_and_versions_the_api_accepts(served: Platform) -> None:
    document = client(served).get("/openapi.json").json()

    latest = document["paths"]["/v1/forecasts/{family}/{zone}/latest"]["get"]
    horizon = next(p for p in latest["parameters"] if p["name"] == "horizon")
    body = document["components"]["schemas"]["PredictBody"]["properties"]
    assert "pattern" in str(horizon["schema"]) and "pattern" in str(body["horizon"])
    assert "pattern" in str(body["version"])


@pytest.mark.parametrize("cached", [True, False])
def test_a_forecast_the_baseline_issued_says_so_in_every_format(tmp_path: Path, cached: bool) -> None:
    p = platform(tmp_path, cached=cached)
    reason = "entsoe/A65/DK1/load: flat-lining: 987 for the last P1D"
    rows = issue_rows(p.spec, "DK1", NOW, 300.0)
    rows = rows.set_column(
        rows.schema.get_field_index("fallback"), "fallback", pa.array(["SeasonalNaive"] * rows.num_rows, pa.string())
    )
    rows = rows.set_column(
        rows.schema.get_field_index("fallback_reason"), "fallback_reason", pa.array([reason] * rows.num_rows)
    )
    store_issue(p.warehouse, p.spec, "DK1", rows)
    if cached:
        p.cache.update_forecasts(rows)
    api = client(p)

    body = api.get(LATEST).json()
    csv_rows = pacsv.read_csv(io.BytesIO(api.get(LATEST, params={"format": "csv"}).content))

    assert body["source"] == ("cache" if cached else "warehouse")
    assert body["fallback"] == {"model": "SeasonalNaive", "reason": reason}
    assert set(csv_rows["fallback"].to_pylist()) == {"SeasonalNaive"}
    at_second = SECOND_ISSUE.isoformat().replace("+00:00", "Z")
    earlier = api.get("/v1/forecasts/test_demand/DK1", params={"as_of": at_second}).json()
    assert earlier["issue_time"] == at_second and earlier["fallback"] is None  # its model issued that one
