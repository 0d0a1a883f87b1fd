"""The Serve config in the repository is what the code generates, Serve's schema accepts it, and its builder entry
point builds the application from the cluster's environment."""

from __future__ import annotations

import pytest
import yaml
from ray.serve import Application
from ray.serve._private.build_app import build_app as build_serve_app
from ray.serve.schema import ServeDeploySchema

from commands.main import main
from scalar_ray.config import load_settings
from scalar_ray.core.errors import ConfigurationError
from serve.app import app_builder
from serve.config import serve_config
from tests.conftest import PROJECT_ROOT

COMMITTED = PROJECT_ROOT / "serve" / "config.yaml"


def test_the_committed_config_is_the_generated_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config"]) == 0

    assert capsys.readouterr().out == COMMITTED.read_text(encoding="utf-8"), "run `scalar-ray serve --config`"


def test_the_config_passes_serves_schema_with_no_scale_to_zero_and_no_secret() -> None:
    config = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    ServeDeploySchema.model_validate(config)

    (application,) = config["applications"]
    assert application["import_path"] == "serve.app:app_builder"
    deployments = {d["name"]: d for d in application["deployments"]}
    assert set(deployments) == {"ForecastIngress", "ModelServer"}
    assert all(d["autoscaling_config"]["min_replicas"] >= 1 for d in deployments.values())
    assert "api_key" not in COMMITTED.read_text(encoding="utf-8").lower()


def test_settings_shape_the_deployments() -> None:
    settings = load_settings(
        {"SCALAR_SERVE__MODEL_MAX_REPLICAS": "5", "SCALAR_SERVE__MODEL_CPUS": "1", "SCALAR_SERVE__PORT": "8100"}
    )

    config = serve_config(settings)

    model = next(d for d in config["applications"][0]["deployments"] if d["name"] == "ModelServer")
    assert model["autoscaling_config"]["max_replicas"] == 5
    assert model["ray_actor_options"]["num_cpus"] == 1
    assert config["http_options"]["port"] == 8100


def test_the_builder_reads_the_environment_and_its_args(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALAR_SERVE__MODELS_PER_REPLICA", "3")
    monkeypatch.setenv("SCALAR_SERVE__API_KEYS", "k" * 32)

    app = app_builder({"settings": {"SCALAR_SERVE__INGRESS_MAX_REPLICAS": "4"}})

    assert isinstance(app, Application)
    built = {d.name: d for d in build_serve_app(app, name="forecasts").deployments}
    assert built["ForecastIngress"]._deployment_config.autoscaling_config.max_replicas == 4
    with pytest.raises(ValueError, match="not scalar-ray settings"):
        app_builder({"settings": {"PATH": "/bin"}})


def test_the_cluster_builder_refuses_an_environment_without_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCALAR_SERVE__API_KEYS", raising=False)

    # The config binds every interface; the replicas' settings once said 127.0.0.1, so the guard never fired.
    missing = r"SCALAR_SERVE__API_KEYS: required secret missing because the API listens on 0\.0\.0\.0"
    with pytest.raises(ConfigurationError, match=missing):
        app_builder({"settings": {}})
    with pytest.raises(ConfigurationError, match=missing):
        app_builder({"settings": {"SCALAR_SERVE__HOST": "127.0.0.1"}})  # args cannot undo the bind either
