from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from scalar_ray.config import Settings, load_settings
from scalar_ray.core.errors import ConfigurationError, InvalidConfigurationError


def test_defaults_describe_the_embedded_one_machine_stack() -> None:
    settings = load_settings({})

    assert settings.broker.service_url == "pulsar://127.0.0.1:6650"
    assert settings.warehouse.kind == "duckdb"
    assert settings.cache.url == "redis://127.0.0.1:6379/0"
    assert settings.providers.entsoe.base_url == "http://127.0.0.1:8900/entsoe/api"
    assert settings.duckdb_path == (Path.cwd() / ".scalar" / "warehouse.duckdb").resolve()


def test_nested_variables_override_defaults() -> None:
    settings = load_settings(
        {
            "SCALAR_BROKER__SERVICE_URL": "pulsar+ssl://broker.example:6651",
            "SCALAR_WAREHOUSE__KIND": "starrocks",
            "SCALAR_WAREHOUSE__STARROCKS__PASSWORD": "s3cret",
            "SCALAR_RAY__NUM_CPUS": "4",
            "scalar_cache__enabled": "false",  # variables are case-insensitive, like pydantic-settings'
        }
    )

    assert settings.broker.service_url == "pulsar+ssl://broker.example:6651"
    assert settings.warehouse.starrocks.password == SecretStr("s3cret")
    assert settings.ray.num_cpus == 4
    assert settings.cache.enabled is False


def test_a_whole_section_can_be_given_as_json() -> None:
    settings = load_settings({"SCALAR_RAY": '{"gcs_port": 7000, "namespace": "ops"}'})

    assert (settings.ray.gcs_port, settings.ray.namespace) == (7000, "ops")


def test_settings_are_frozen() -> None:
    settings = load_settings({})

    with pytest.raises(ValidationError):
        settings.broker.tenant = "other"  # type: ignore[misc]


def test_unknown_variable_is_named_with_a_suggestion() -> None:
    with pytest.raises(InvalidConfigurationError) as caught:
        load_settings({"SCALAR_BROKER__SERVCE_URL": "pulsar://127.0.0.1:6650"})

    (problem,) = caught.value.problems
    assert problem.setting == "SCALAR_BROKER__SERVCE_URL"
    assert problem.problem == "unknown setting"
    assert "did you mean SCALAR_BROKER__SERVICE_URL?" in str(caught.value)


def test_unrelated_variables_are_ignored() -> None:
    settings = load_settings({"PATH": "/usr/bin", "SCALARX": "1", "RAY_ADDRESS": "auto"})

    assert settings.broker.tenant == "scalar"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        pytest.param(
            "SCALAR_BROKER__SERVICE_URL",
            "http://127.0.0.1:6650",
            "expected pulsar:// or pulsar+ssl://",
            id="pulsar_url_with_http_scheme",
        ),
        pytest.param(
            "SCALAR_BROKER__SERVICE_URL",
            "127.0.0.1:6650",
            "expected pulsar:// or pulsar+ssl://",
            id="pulsar_url_without_scheme",
        ),
        pytest.param("SCALAR_BROKER__ADMIN_URL", "http://:8080", "has no host", id="admin_url_without_host"),
        pytest.param("SCALAR_CACHE__URL", "redis://127.0.0.1:70000/0", "invalid port", id="redis_port_out_of_range"),
        pytest.param(
            "SCALAR_TELEMETRY__OTLP_ENDPOINT",
            "ftp://collector:4317",
            "expected http:// or https://",
            id="otlp_with_wrong_scheme",
        ),
        pytest.param("SCALAR_RAY__DASHBOARD_PORT", "eighty", "valid integer", id="port_not_a_number"),
        pytest.param("SCALAR_RAY__GCS_PORT", "0", "greater than or equal to 1", id="port_zero"),
        pytest.param("SCALAR_WAREHOUSE__KIND", "postgres", "'duckdb' or 'starrocks'", id="unknown_warehouse_kind"),
    ],
)
def test_malformed_value_names_the_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(InvalidConfigurationError) as caught:
        load_settings({variable: value})

    (problem,) = caught.value.problems
    assert problem.setting == variable
    assert expected in problem.problem
    assert "Fix:" in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidConfigurationError) as caught:
        load_settings({"SCALAR_NOPE": "1", "SCALAR_BROKER__SERVICE_URL": "x", "SCALAR_RAY__GCS_PORT": "-1"})

    assert sorted(p.setting for p in caught.value.problems) == [
        "SCALAR_BROKER__SERVICE_URL",
        "SCALAR_NOPE",
        "SCALAR_RAY__GCS_PORT",
    ]
    assert "3 problems" in str(caught.value)


def test_starrocks_requires_its_password() -> None:
    with pytest.raises(InvalidConfigurationError) as caught:
        load_settings({"SCALAR_WAREHOUSE__KIND": "starrocks"})

    (problem,) = caught.value.problems
    assert problem.setting == "SCALAR_WAREHOUSE__STARROCKS__PASSWORD"
    assert "warehouse kind is starrocks" in problem.problem


def test_a_real_provider_api_requires_its_credentials() -> None:
    with pytest.raises(InvalidConfigurationError) as caught:
        load_settings({"SCALAR_PROVIDERS__NORDPOOL__BASE_URL": "https://data-api.nordpoolgroup.com/api/v2"})

    (problem,) = caught.value.problems
    assert problem.setting == "SCALAR_PROVIDERS__NORDPOOL__CLIENT_ID, SCALAR_PROVIDERS__NORDPOOL__CLIENT_SECRET"


def test_a_single_provider_variable_keeps_that_providers_other_defaults() -> None:
    settings = load_settings({"SCALAR_PROVIDERS__METEOLOGICA__CLIENT_ID": "me"})

    assert settings.providers.meteologica.client_id == "me"
    assert settings.providers.meteologica.base_url == "http://127.0.0.1:8900/meteologica/api/v1"
    assert settings.providers.nordpool.auth_url == "http://127.0.0.1:8900/nordpool/connect/token"


def test_open_and_disabled_providers_need_no_credentials() -> None:
    settings = load_settings(
        {
            "SCALAR_PROVIDERS__ELIA__BASE_URL": "https://opendata.elia.be/api/explore/v2.1",
            "SCALAR_PROVIDERS__ENTSOE__BASE_URL": "https://web-api.tp.entsoe.eu/api",
            "SCALAR_PROVIDERS__ENTSOE__ENABLED": "false",
        }
    )

    assert settings.providers.elia.token is None


def test_secrets_never_appear_in_errors_or_repr() -> None:
    password = "hunter2-very-secret"
    with pytest.raises(InvalidConfigurationError) as caught:
        load_settings({"SCALAR_CACHE__URL": f"redis://user:{password}@127.0.0.1:99999/0"})
    settings = load_settings({"SCALAR_CACHE__PASSWORD": password})

    assert password not in str(caught.value)
    assert "redis://user:***@127.0.0.1:99999/0" in str(caught.value)
    assert password not in repr(settings)
    assert password not in str(settings.model_dump())


def test_nested_secrets_come_from_a_mounted_secrets_directory(tmp_path: Path) -> None:
    (tmp_path / "SCALAR_BROKER__AUTH_TOKEN").write_text("jwt-from-file\n")
    (tmp_path / "scalar_cache__password").write_text("redis-from-file")
    (tmp_path / "..data").mkdir()  # Kubernetes' projection folder is skipped

    settings = load_settings({"SCALAR_SECRETS_DIR": str(tmp_path)})

    assert settings.broker.auth_token == SecretStr("jwt-from-file")
    assert settings.cache.password == SecretStr("redis-from-file")


def test_an_environment_variable_wins_over_a_secret_file(tmp_path: Path) -> None:
    (tmp_path / "SCALAR_BROKER__AUTH_TOKEN").write_text("from-file")

    settings = load_settings({"SCALAR_BROKER__AUTH_TOKEN": "from-env"}, secrets_dir=tmp_path)

    assert settings.broker.auth_token == SecretStr("from-env")


def test_a_secret_file_with_an_unknown_name_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "SCALAR_BROKER__AUTH_TOKN").write_text("x")

    with pytest.raises(InvalidConfigurationError, match="secret file names no known setting"):
        load_settings({}, secrets_dir=tmp_path)


def test_a_missing_secrets_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"SCALAR_SECRETS_DIR: '.*' is not a directory"):
        load_settings({"SCALAR_SECRETS_DIR": str(tmp_path / "absent")})


def test_settings_built_directly_read_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALAR_BROKER__TENANT", "from-os-environ")

    assert Settings().broker.tenant == "from-os-environ"
