"""The forecast API's settings refuse what would be unsafe or would put a cold start on the latency path."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalar_ray.config import load_settings
from scalar_ray.core.errors import InvalidConfigurationError


def test_keys_are_read_as_secrets_and_an_open_api_stays_on_loopback() -> None:
    settings = load_settings({"SCALAR_SERVE__API_KEYS": "first-key-0123456789, second-key-0123456789"})

    assert [key.get_secret_value() for key in settings.serve.api_keys or []] == [
        "first-key-0123456789",
        "second-key-0123456789",
    ]
    assert "first-key" not in repr(settings.serve)
    with pytest.raises(InvalidConfigurationError, match="SCALAR_SERVE__API_KEYS"):
        load_settings({"SCALAR_SERVE__HOST": "0.0.0.0"})  # noqa: S104 - the case under test
    load_settings({"SCALAR_SERVE__HOST": "0.0.0.0", "SCALAR_SERVE__API_KEYS": "cluster-key-0123456789"})  # noqa: S104


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SCALAR_SERVE__API_KEYS": "short"}, "at least 16 characters"),
        ({"SCALAR_SERVE__API_KEYS": "replace-with-a-long-random-key"}, "still a placeholder"),  # .env.example's
        ({"SCALAR_SERVE__MODEL_MIN_REPLICAS": "0"}, "greater than or equal to 1"),
        ({"SCALAR_SERVE__INGRESS_MIN_REPLICAS": "3"}, "ingress_max_replicas is below"),
        ({"SCALAR_SERVE__AS_OF_LOOKBACK": "a week"}, "not an ISO-8601 duration"),
        ({"SCALAR_SERVE__AS_OF_LOOKBACK": "P1M"}, "not a fixed duration"),
    ],
)
def test_unsafe_or_malformed_settings_are_refused(environment: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidConfigurationError, match=message):
        load_settings(environment)


def test_a_relative_data_folder_is_resolved_where_the_settings_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = load_settings({"SCALAR_LOCAL__DATA_DIR": "state"})

    assert settings.local.data_dir == tmp_path / "state"
    assert settings.registry_url == str(tmp_path / "state" / "models")
