"""The composition root of provider clients: one client class per provider, built from ``Settings``."""

from __future__ import annotations

from scalar_ray.config.settings import Settings
from scalar_ray.providers.client import ClientOptions, ProviderClient
from scalar_ray.providers.elia import EliaClient
from scalar_ray.providers.energinet import EnerginetClient
from scalar_ray.providers.entsoe import EntsoeClient
from scalar_ray.providers.jao import JaoClient
from scalar_ray.providers.meteologica import MeteologicaClient
from scalar_ray.providers.nordpool import NordPoolClient
from scalar_ray.providers.volue import VolueClient

__all__ = ["CLIENTS", "build_client"]

CLIENTS: dict[str, type[ProviderClient]] = {
    client.provider: client
    for client in (EliaClient, EntsoeClient, NordPoolClient, EnerginetClient, MeteologicaClient, VolueClient, JaoClient)
}


def build_client(provider: str, settings: Settings, options: ClientOptions | None = None) -> ProviderClient:
    """The client of ``provider``, configured from ``settings.providers``."""
    return CLIENTS[provider](getattr(settings.providers, provider), options)
