"""On a real Ray: settings reach actors and Serve replicas with their secrets usable, and Ray's control store never
holds a secret's value (config.secrets). Serve keeps its deployments' constructor arguments in the GCS key-value
store, so that is where the check looks; a plain argument beside the settings proves the check can see them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from scalar_ray.config import load_settings
from scalar_ray.config.settings import Settings

pytestmark = pytest.mark.integration

# Set only here, in the driver: the Ray workers' environment (this process's at ray.init) has none of them.
SECRETS = {
    "SCALAR_SERVE__API_KEYS": "ray-test-key-0123456789abcdef",
    "SCALAR_PROVIDERS__ENTSOE__TOKEN": "ray-test-entsoe-token-5e5e",
    "SCALAR_WAREHOUSE__STARROCKS__PASSWORD": "ray-test-starrocks-pw-6f6f",
}
CANARY = "ray-test-plain-constructor-argument"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for variable in SECRETS:
        monkeypatch.delenv(variable, raising=False)
    return load_settings(SECRETS)


def used_secrets(settings: Settings) -> list[str]:
    assert settings.serve.api_keys is not None
    assert settings.providers.entsoe.token is not None
    assert settings.warehouse.starrocks.password is not None
    return [
        settings.serve.api_keys[0].get_secret_value(),
        settings.providers.entsoe.token.get_secret_value(),
        settings.warehouse.starrocks.password.get_secret_value(),
    ]


def test_an_actor_given_the_settings_uses_their_secrets(ray_cluster: None, settings: Settings) -> None:
    import ray

    @ray.remote(num_cpus=0)
    class Holder:
        def __init__(self, settings: Settings) -> None:
            self.settings = settings

        def secrets(self) -> list[str]:
            import os

            assert not set(SECRETS) & set(os.environ), "the worker was meant to lack the variables"
            return used_secrets(self.settings)

    holder = Holder.remote(settings)  # type: ignore[attr-defined]
    assert ray.get(holder.secrets.remote(), timeout=60) == list(SECRETS.values())
    ray.kill(holder)


@pytest.fixture
def deployed(ray_cluster: None, settings: Settings) -> Iterator[tuple[object, asyncio.AbstractEventLoop]]:
    from ray import serve

    @serve.deployment(num_replicas=1, ray_actor_options={"num_cpus": 0})
    class SettingsHolder:
        def __init__(self, settings: Settings, plain: str) -> None:
            self.settings = settings
            self.plain = plain

        def secrets(self) -> list[str]:
            return used_secrets(self.settings)

    serve.start(proxy_location="Disabled")  # no HTTP: the handle is enough, and no port is taken
    handle = serve.run(SettingsHolder.bind(settings, CANARY), name="settings-holder", route_prefix=None)  # type: ignore[attr-defined]
    # The platform's Serve runs a handle's router in the caller's event loop (serving.runtime): one that outlives it.
    loop = asyncio.new_event_loop()
    yield handle, loop
    serve.delete("settings-holder")
    serve.shutdown()
    loop.close()


def test_serve_keeps_the_settings_in_the_control_store_without_a_secret_value(
    deployed: tuple[object, asyncio.AbstractEventLoop],
) -> None:
    import ray
    from ray._raylet import GcsClient

    handle, loop = deployed

    async def call() -> list[str]:
        return await handle.secrets.remote()  # type: ignore[attr-defined, no-any-return]

    assert loop.run_until_complete(call()) == list(SECRETS.values())
    gcs = GcsClient(address=ray.get_runtime_context().gcs_address)
    stored = [gcs.internal_kv_get(key, namespace=b"serve") for key in gcs.internal_kv_keys(b"", namespace=b"serve")]
    assert any(CANARY.encode() in value for value in stored if value)  # the check sees constructor arguments
    found = [secret for secret in SECRETS.values() for value in stored if value and secret.encode() in value]
    assert found == []
