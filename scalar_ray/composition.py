"""The one composition root: adapters and services built from ``Settings``.

Ray shells (``actors/``, ``jobs/``, ``serve/``) hold only settings and call these functions inside their worker, so
connections are opened where they are used and nothing reads the environment at import time.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pulsar

from scalar_ray.acquisition.cursors import FileCursorStore
from scalar_ray.acquisition.recovery import recover_cursors
from scalar_ray.acquisition.service import AcquisitionService, AcquisitionTask
from scalar_ray.broker.messaging import Publisher
from scalar_ray.broker.spool import DiskSpool
from scalar_ray.broker.topics import acquisition_topic, forecasts_topic
from scalar_ray.cache.base import BestEffortCache, Cache
from scalar_ray.cache.redis import RedisCache
from scalar_ray.config.settings import Settings
from scalar_ray.core.durations import fixed_duration
from scalar_ray.core.errors import ConfigurationError, WarehouseError
from scalar_ray.feed import BestEffortFeed, ChangeFeed
from scalar_ray.feed.redis import RedisChangeFeed
from scalar_ray.forecasting.families import FamilySpec, load_families
from scalar_ray.forecasting.issuing import ForecastService
from scalar_ray.forecasting.registry import ModelRegistry
from scalar_ray.ingestion.batcher import FlushPolicy
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.clients import build_client
from scalar_ray.serving.forecasts import StoredForecasts
from scalar_ray.serving.model_catalogue import ModelCatalogue
from scalar_ray.serving.model_host import ModelHost
from scalar_ray.telemetry.spool import observe_spool
from scalar_ray.warehouse.base import Warehouse
from scalar_ray.warehouse.duckdb import DuckDBWarehouse
from scalar_ray.warehouse.instrumented import InstrumentedWarehouse
from scalar_ray.warehouse.remote import RemoteWarehouse

__all__ = [
    "acquisition_service",
    "acquisition_tasks",
    "build_cache",
    "build_warehouse",
    "enabled_providers",
    "flush_policy",
    "forecast_families",
    "forecast_service",
    "ingested_topics",
    "model_catalogue",
    "model_host",
    "model_registry",
    "pulsar_client",
    "state_dir",
    "stored_forecasts",
    "worker_warehouse",
]

_logger = logging.getLogger(__name__)


def build_warehouse(settings: Settings) -> Warehouse:
    """The configured warehouse adapter (DuckDB file by default, StarRocks in production)."""
    if settings.warehouse.kind == "starrocks":
        from scalar_ray.warehouse.starrocks import StarRocksWarehouse  # noqa: PLC0415 - only production needs it

        return StarRocksWarehouse.from_settings(settings.warehouse.starrocks)
    duckdb = settings.warehouse.duckdb
    return DuckDBWarehouse(settings.duckdb_path, duckdb.threads, forecast_targets(), duckdb.memory_limit)


def forecast_targets() -> dict[tuple[str, str, str], str]:
    """(family, zone, target variable) → the target's series id, for every configured family and zone."""
    return {
        (spec.name, zone, target.rsplit("/", 1)[-1]): target
        for spec in load_families().values()
        for zone in spec.zones
        for target in spec.target_ids(zone)
    }


def worker_warehouse(settings: Settings) -> Warehouse:
    """The warehouse as any Ray worker reaches it: DuckDB through its owning actor, StarRocks directly.

    Measured where it is called (``db.client.operation.duration``, CLIENT spans): that is the time a worker waits.
    """
    duckdb = settings.warehouse.kind == "duckdb"
    inner = RemoteWarehouse(settings.ray.namespace) if duckdb else build_warehouse(settings)
    return InstrumentedWarehouse(inner, settings.warehouse.kind)


def build_cache(settings: Settings) -> Cache | None:
    """The Redis cache behind its best-effort guard, or None when caching is off."""
    if not settings.cache.enabled:
        return None
    return BestEffortCache(RedisCache.from_settings(settings.cache))


def change_feed(settings: Settings) -> ChangeFeed | None:
    """The change feed (a Redis stream beside the cache), publishing best effort; None when the cache is off."""
    if not settings.cache.enabled:
        return None
    cache = settings.cache
    password = cache.password.get_secret_value() if cache.password else None
    return BestEffortFeed(RedisChangeFeed(str(cache.url), password, fixed_duration(cache.feed_retention)))


def ingested_topics(settings: Settings) -> list[str]:
    """Every provider's acquisition topic and the forecasts topic: what ingestion reads."""
    tenant = settings.broker.tenant
    return [*(acquisition_topic(tenant, provider) for provider, _ in settings.providers), forecasts_topic(tenant)]


# The C++ client's own console logger, at the platform's level. Not a Python logger: the client's bridge to one
# reports every level as enabled (apache/pulsar-client-python#216), so each received message's DEBUG line, a dump of
# its whole payload, was formatted, sent through the GIL, failed to decode and was printed to stdout: 650 MB of
# logs for a 6-million-row drain, and a fifth of a core for Ray's log monitor. The console logger drops it unformatted.
_PULSAR_LOG_LEVELS = {
    "DEBUG": pulsar.LoggerLevel.Debug,
    "INFO": pulsar.LoggerLevel.Info,
    "WARNING": pulsar.LoggerLevel.Warn,
    "ERROR": pulsar.LoggerLevel.Error,
}


def pulsar_client(settings: Settings) -> pulsar.Client:
    """A Pulsar client with the configured authentication, logging at the platform's level."""
    token = settings.broker.auth_token
    return pulsar.Client(
        settings.broker.service_url,
        authentication=pulsar.AuthenticationToken(token.get_secret_value()) if token else None,
        operation_timeout_seconds=int(settings.broker.operation_timeout_s),
        logger=pulsar.ConsoleLogger(_PULSAR_LOG_LEVELS[settings.telemetry.log_level]),
    )


def flush_policy(settings: Settings) -> FlushPolicy:
    """The ingestion micro-batch policy."""
    ingestion = settings.ingestion
    return FlushPolicy(ingestion.max_batch_rows, ingestion.max_batch_bytes, ingestion.max_batch_age_s)


def state_dir(settings: Settings) -> Path:
    """Where acquisition keeps its cursors and spool (a persistent volume in production)."""
    return settings.data_dir / "acquisition"


def enabled_providers(settings: Settings) -> list[str]:
    """Providers that are enabled and have at least one selected task."""
    names = [name for name, provider in settings.providers if provider.enabled]
    return [name for name in names if acquisition_tasks(settings, name)]


def acquisition_tasks(settings: Settings, provider: str) -> list[AcquisitionTask]:
    """The provider's (dataset, area) tasks, narrowed by ``acquisition.datasets`` and ``acquisition.areas``."""
    wanted = settings.acquisition.datasets
    areas = settings.acquisition.areas
    unknown = [name for name in wanted or [] if "/" not in name]
    if unknown:
        raise ConfigurationError("acquisition.datasets", f"{unknown} are not provider/dataset ids", "write entsoe/A44")
    tasks = []
    for spec in load_catalogue().for_provider(provider):
        if wanted is not None and f"{provider}/{spec.id}" not in wanted:
            continue
        tasks += [AcquisitionTask(spec, area) for area in spec.areas if areas is None or area in areas]
    return tasks


def acquisition_service(
    settings: Settings, provider: str, publisher: Publisher, recover_from: Warehouse | None = None
) -> AcquisitionService:
    """One provider's acquisition service with its client, cursors and spool.

    With ``recover_from``, tasks whose cursors are gone (the state folder lost with a node) get cursors re-derived
    from that warehouse; a warehouse that does not answer leaves them to the look-back, as on a first start.
    """
    root = state_dir(settings)
    spool = DiskSpool(root / "spool" / provider, max_bytes=settings.acquisition.spool_max_bytes)
    observe_spool(provider, lambda: spool.fill)
    tasks = acquisition_tasks(settings, provider)
    cursors = FileCursorStore(root / "cursors" / f"{provider}.json")
    recovered = 0
    if recover_from is not None and any(cursors.get(task.name) is None for task in tasks):
        try:
            recovered = len(recover_cursors(cursors, tasks, recover_from.catalogue()))
        except WarehouseError as exc:
            _logger.warning("%s: cursors not re-derived, the warehouse did not answer: %s", provider, exc)
    return AcquisitionService(
        provider,
        tasks,
        build_client(provider, settings),
        publisher,
        acquisition_topic(settings.broker.tenant, provider),
        cursors,
        spool,
        initial_history=settings.acquisition.initial_history,
        max_catch_up=settings.acquisition.max_catch_up,
        max_rows_per_message=settings.acquisition.max_rows_per_message,
        max_message_bytes=settings.acquisition.max_message_bytes,
        cursors_recovered=recovered,
    )


def model_registry(settings: Settings) -> ModelRegistry:
    """The model registry at ``registry.url`` (``<data_dir>/models`` by default), with a local download cache."""
    return ModelRegistry(settings.registry_url, settings.data_dir / "cache" / "models")


def forecast_families(settings: Settings) -> list[FamilySpec]:
    """The families ``forecasting.families`` selects (all by default); ``ConfigurationError`` for unknown names."""
    families = load_families()
    wanted = settings.forecasting.families
    unknown = [name for name in wanted or [] if name not in families]
    if unknown:
        raise ConfigurationError(
            "forecasting.families",
            f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {unknown}",
            f"use {sorted(families)}",
        )
    return [families[name] for name in wanted] if wanted else list(families.values())


def forecast_service(settings: Settings, warehouse: Warehouse, publisher: Publisher | None) -> ForecastService:
    """The scheduled-forecast service over the selected families and zones."""
    return ForecastService(
        forecast_families(settings),
        warehouse,
        model_registry(settings),
        publisher,
        forecasts_topic(settings.broker.tenant),
        zones=settings.forecasting.zones,
        spool=DiskSpool(state_dir(settings) / "spool" / "forecasts", max_bytes=settings.acquisition.spool_max_bytes),
    )


def model_catalogue(settings: Settings) -> ModelCatalogue:
    """The models the forecast API serves: the selected families and zones, joined with the registry."""
    return ModelCatalogue.of(forecast_families(settings), model_registry(settings), settings.forecasting.zones)


def stored_forecasts(settings: Settings, warehouse: Warehouse) -> StoredForecasts:
    """Issued forecasts read back: Redis for the latest, the warehouse for the rest."""
    return StoredForecasts(warehouse, build_cache(settings), fixed_duration(settings.serve.as_of_lookback))


def model_host(settings: Settings, warehouse: Warehouse) -> ModelHost:
    """Loads registry versions and forecasts with them on request (the Serve model deployment's library)."""
    return ModelHost(model_catalogue(settings), warehouse)
