"""The one configuration model of scalar-ray.

Every process (CLI, actors, jobs, Serve) builds a ``Settings`` through ``scalar_ray.config.load_settings`` and
hands it down; nothing reads the environment at import time. Environment variables carry the prefix ``SCALAR_``
and nest with ``__`` (``SCALAR_BROKER__SERVICE_URL``). Secrets are ``SecretStr`` and may also come from files in a
mounted secrets directory (Kubernetes), named like the variable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from scalar_ray.config.secrets import Secret, name_secrets
from scalar_ray.config.sources import MappingEnvSource, mounted_secret_files
from scalar_ray.config.urls import is_loopback_url, url_with_schemes
from scalar_ray.core.durations import fixed_duration

__all__ = [
    "DUCKDB_SIZE_PATTERN",
    "MISSING_SECRET",
    "BrokerSettings",
    "CacheSettings",
    "DuckDBSettings",
    "LocalSettings",
    "ProviderSettings",
    "ProvidersSettings",
    "RaySettings",
    "RegistrySettings",
    "ServeSettings",
    "Settings",
    "StarRocksSettings",
    "TelemetrySettings",
    "WarehouseSettings",
]

PulsarUrl = Annotated[str, AfterValidator(url_with_schemes("pulsar", "pulsar+ssl"))]
HttpUrl = Annotated[str, AfterValidator(url_with_schemes("http", "https"))]
RedisUrl = Annotated[str, AfterValidator(url_with_schemes("redis", "rediss"))]
OtlpUrl = Annotated[str, AfterValidator(url_with_schemes("http", "https"))]  # OTLP over HTTP (4318)
Port = Annotated[int, Field(ge=1, le=65535)]

# The provider simulator's default address: the embedded default points every provider at it, so a fresh
# machine runs without any provider credentials.
SIMULATOR_BASE_URL = "http://127.0.0.1:8900"


MISSING_SECRET = "missing_secret"  # noqa: S105 - an error type name, not a password


def missing_secrets(paths: list[str], because: str) -> PydanticCustomError:
    """A validation error that names the required secrets by their dotted setting paths."""
    return PydanticCustomError(
        MISSING_SECRET, "required secret(s) {paths} missing: {because}", {"paths": paths, "because": because}
    )


class _Section(BaseModel):
    """A frozen settings section that rejects keys it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class BrokerSettings(_Section):
    """Apache Pulsar: where the broker is and how to reach it."""

    service_url: PulsarUrl = Field(
        "pulsar://127.0.0.1:6650", description="Pulsar binary-protocol URL (pulsar:// or pulsar+ssl://)."
    )
    admin_url: HttpUrl = Field(
        "http://127.0.0.1:8080", description="Pulsar admin REST base URL (backlog, health, topic admin)."
    )
    auth_token: Secret | None = Field(None, description="JWT for token authentication; none locally.")
    tenant: str = Field("scalar", min_length=1, description="Pulsar tenant that holds the platform's namespaces.")
    operation_timeout_s: float = Field(30.0, gt=0, description="Client operation timeout in seconds.")
    retention: str = Field(
        "P7D", description="How long acknowledged messages are kept for a replay (ISO-8601, the namespaces' policy)."
    )
    retention_size_mb: int = Field(10_240, ge=0, description="Most acknowledged messages kept per topic, in MB.")
    partitions: int = Field(
        4,
        ge=1,
        le=256,
        description=(
            "Partitions of each acquisition and forecast topic, so several brokers share a provider's stream; raised "
            "on start when it grows (Pulsar never removes partitions). A series' messages keep one partition."
        ),
    )

    @field_validator("retention")
    @classmethod
    def _retention_is_a_duration(cls, value: str) -> str:
        fixed_duration(value)
        return value

    @property
    def retention_minutes(self) -> int:
        """The retention in whole minutes, as Pulsar takes it."""
        return int(fixed_duration(self.retention).total_seconds() // 60)


# A size DuckDB reads (``4GB``, ``512MiB``): the memory limit is written into its SQL, so nothing else passes.
DUCKDB_SIZE_PATTERN = r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$"


class DuckDBSettings(_Section):
    """The embedded warehouse."""

    path: Path | None = Field(None, description="DuckDB database file; default `<data_dir>/warehouse.duckdb`.")
    threads: int | None = Field(None, ge=1, description="DuckDB worker threads; default: DuckDB's own choice.")
    memory_limit: str = Field(
        "4GB",
        pattern=DUCKDB_SIZE_PATTERN,
        description="Bound on DuckDB's buffers (it spills to disk beyond it), e.g. 4GB or 512MiB.",
    )


class StarRocksSettings(_Section):
    """The production warehouse: Stream Load over HTTP for writes, the MySQL protocol for queries and DDL."""

    http_url: HttpUrl = Field("http://127.0.0.1:8030", description="StarRocks FE HTTP URL (Stream Load entry).")
    mysql_host: str = Field("127.0.0.1", min_length=1, description="StarRocks FE host for the MySQL protocol.")
    mysql_port: Port = Field(9030, description="StarRocks FE MySQL-protocol port.")
    user: str = Field("root", min_length=1, description="StarRocks user.")
    password: Secret | None = Field(
        None, description="StarRocks password; required when the warehouse kind is starrocks."
    )
    database: str = Field("scalar", min_length=1, description="StarRocks database of the platform's tables.")
    replication_num: int | None = Field(
        None, ge=1, description="Replicas per tablet for the tables it creates; default: the cluster's (3)."
    )
    label_prefix: str = Field(
        "scalar", pattern=r"^[A-Za-z0-9_]{1,40}$", description="Prefix of Stream Load labels (letters, digits, _)."
    )
    load_timeout_s: float = Field(600.0, gt=0, description="Stream Load timeout header, in seconds.")


class WarehouseSettings(_Section):
    """Which warehouse the platform writes to and queries."""

    kind: Literal["duckdb", "starrocks"] = Field("duckdb", description="Warehouse adapter: duckdb or starrocks.")
    duckdb: DuckDBSettings = Field(default_factory=DuckDBSettings, description="DuckDB adapter settings.")
    starrocks: StarRocksSettings = Field(default_factory=StarRocksSettings, description="StarRocks adapter settings.")

    @model_validator(mode="after")
    def _starrocks_needs_password(self) -> Self:
        if self.kind == "starrocks" and self.starrocks.password is None:
            raise missing_secrets(["warehouse.starrocks.password"], "the warehouse kind is starrocks")
        return self


class CacheSettings(_Section):
    """Redis: latest values and recent points per series."""

    enabled: bool = Field(True, description="Keep real-time values in Redis; ingestion never depends on it.")
    url: RedisUrl = Field("redis://127.0.0.1:6379/0", description="Redis URL (redis:// or rediss:// for TLS).")
    password: Secret | None = Field(None, description="Redis password (Azure Cache for Redis access key).")
    socket_timeout_s: float = Field(
        2.0, gt=0, description="Per-command timeout; a slow cache must not stall ingestion."
    )
    points_per_series: int = Field(192, ge=1, description="Latest intervals kept per series (192 = 2 days of 15 min).")
    feed_retention: str = Field(
        "PT6H", description="How long the change feed (/v1/stream) keeps committed changes to resume from (ISO-8601)."
    )

    @field_validator("feed_retention")
    @classmethod
    def _retention_is_a_duration(cls, value: str) -> str:
        fixed_duration(value)
        return value


class IngestionSettings(_Section):
    """Ingestion replicas: Pulsar → validation → micro-batches → warehouse, then the cache."""

    replicas: int = Field(
        2, ge=1, description="Ingestion actors on the one KeyShared subscription (the fewest, with max_replicas)."
    )
    max_replicas: int | None = Field(
        None,
        ge=1,
        description=(
            "Most ingestion actors: above `replicas`, an autoscaler adds replicas while the backlog stays high and "
            "removes them when it drains; default: `replicas` (no autoscaler)."
        ),
    )
    scale_up_backlog: int = Field(
        2_000, ge=1, description="Messages waiting that, held for scale_sustain_s, add a replica."
    )
    scale_down_backlog: int = Field(
        20, ge=0, description="Messages waiting at or under which, held for scale_sustain_s, a replica goes."
    )
    scale_sustain_s: float = Field(
        30.0, ge=0, description="How long the backlog stays past a threshold before the replicas change."
    )
    scale_cooldown_s: float = Field(
        60.0, ge=0, description="Least time between two changes (a new replica needs time to take its share)."
    )
    scale_interval_s: float = Field(5.0, gt=0, description="How often the autoscaler reads the backlog.")
    max_batch_rows: int = Field(100_000, ge=1, description="A micro-batch is written at this many rows.")
    max_batch_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="... or at this many bytes of Arrow data.")
    max_batch_age_s: float = Field(1.0, gt=0, description="... or when its oldest message has waited this long.")
    receiver_queue_size: int = Field(
        64, ge=1, description="Messages a replica prefetches (one fetched window each); bounds its memory."
    )
    max_redeliveries: int = Field(
        8, ge=1, description="Deliveries after which a message that keeps crashing a replica is dead-lettered."
    )
    retry_max_s: float = Field(10.0, gt=0, description="Longest wait between retries of a failed warehouse write.")

    @model_validator(mode="after")
    def _scaling_is_coherent(self) -> Self:
        if self.max_replicas is not None and self.max_replicas < self.replicas:
            raise ValueError(f"ingestion.max_replicas ({self.max_replicas}) is below ingestion.replicas")
        if self.scale_down_backlog >= self.scale_up_backlog:
            raise ValueError("ingestion.scale_down_backlog must be below ingestion.scale_up_backlog")
        return self

    @property
    def autoscaled(self) -> bool:
        """Whether an autoscaler moves the replicas between ``replicas`` and ``max_replicas``."""
        return self.max_replicas is not None and self.max_replicas > self.replicas


def split_commas(value: Any) -> Any:
    """``a, b,c`` → ``["a", "b", "c"]`` for list settings (environment variables are strings); lists pass."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class AcquisitionSettings(_Section):
    """Acquisition actors: provider schedules, cursors, the spool used while the broker is away."""

    datasets: list[str] | None = Field(
        None, description="Only these `provider/dataset` ids (comma-separated); default: the whole catalogue."
    )
    areas: list[str] | None = Field(None, description="Only these areas (comma-separated); default: all.")
    initial_history: str | None = Field(
        None, description="ISO-8601 duration fetched on a dataset's first run; default: its look-back."
    )
    max_catch_up: str = Field("P7D", description="Longest gap refilled after downtime (older gaps: run a backfill).")
    max_rows_per_message: int = Field(20_000, ge=1, description="Larger windows are split over several messages.")
    max_message_bytes: int = Field(
        4 * 2**20, ge=2**16, description="Largest message payload (bytes); keep it under the broker's maxMessageSize."
    )
    poll_interval_s: float = Field(1.0, gt=0, description="How often an actor checks its schedules.")
    spool_max_bytes: int = Field(
        2 * 2**30, ge=2**20, description="Disk one provider's spool may hold while the broker is away (bytes)."
    )

    _comma_separated = field_validator("datasets", "areas", mode="before")(staticmethod(split_commas))


class RegistrySettings(_Section):
    """The forecast-model registry."""

    url: str | None = Field(
        None,
        description="fsspec URL of the model registry (abfs://container/models); default `<data_dir>/models`.",
    )


class ForecastingSettings(_Section):
    """Scheduled forecasts."""

    enabled: bool = Field(True, description="Run the forecasting actor with the platform.")
    families: list[str] | None = Field(
        None, description="Model families to issue (comma-separated, e.g. dk_demand,dk_dayahead); default: all."
    )
    zones: list[str] | None = Field(None, description="Only these zones (comma-separated); default: all.")
    poll_interval_s: float = Field(5.0, gt=0, description="How often the forecasting actor checks its schedules.")

    _comma_separated = field_validator("families", "zones", mode="before")(staticmethod(split_commas))


MIN_API_KEY_LENGTH = 16
_PLACEHOLDER = re.compile(r"replace|change.?me|example|placeholder|your.?key", re.IGNORECASE)


class ServeSettings(_Section):
    """The Ray Serve forecast API."""

    host: str = Field(
        "127.0.0.1", min_length=1, description="HTTP bind address of the Serve proxy (0.0.0.0 on a cluster)."
    )
    port: Port = Field(8000, description="HTTP port of the forecast API.")
    api_keys: list[Secret] | None = Field(
        None,
        description="Bearer API keys (comma-separated, from a secret); none: no authentication, loopback only.",
    )
    ingress_min_replicas: int = Field(1, ge=1, description="Fewest HTTP ingress replicas (≥ 1: no scale-to-zero).")
    ingress_max_replicas: int = Field(2, ge=1, description="Most HTTP ingress replicas the autoscaler starts.")
    model_min_replicas: int = Field(1, ge=1, description="Fewest model-server replicas (≥ 1: no cold start).")
    model_max_replicas: int = Field(2, ge=1, description="Most model-server replicas the autoscaler starts.")
    ingress_cpus: float = Field(
        0.0, ge=0, description="CPUs reserved per ingress replica (0 locally, where the actors share the head)."
    )
    model_cpus: float = Field(
        0.0, ge=0, description="CPUs reserved per model-server replica (give it 1 or more on a cluster)."
    )
    models_per_replica: int = Field(
        6, ge=1, description="Models one model-server replica keeps loaded (least recently used ones are evicted)."
    )
    champion_poll_s: float = Field(
        10.0, gt=0, description="How often the API looks for newly promoted champions (hot reload)."
    )
    predict_timeout_s: float = Field(60.0, gt=0, description="Longest an on-demand prediction may take (then 504).")
    as_of_lookback: str = Field(
        "P7D", description="How far before an as-of time the API looks for the issue in force (ISO-8601)."
    )

    _comma_separated = field_validator("api_keys", mode="before")(staticmethod(split_commas))

    @field_validator("as_of_lookback")
    @classmethod
    def _duration(cls, value: str) -> str:
        fixed_duration(value)  # ValueError names the expected form
        return value

    @field_validator("api_keys")
    @classmethod
    def _no_blank_keys(cls, value: list[SecretStr] | None) -> list[SecretStr] | None:
        if value is not None and any(len(key.get_secret_value()) < MIN_API_KEY_LENGTH for key in value):
            raise ValueError(f"API keys must be at least {MIN_API_KEY_LENGTH} characters")
        if value is not None and any(_PLACEHOLDER.search(key.get_secret_value()) for key in value):
            # .env.example's "replace-with-a-long-random-key" is long enough; copied unchanged it is no secret.
            raise ValueError("an API key is still a placeholder: generate one (`openssl rand -base64 32`)")
        return value or None

    @model_validator(mode="after")
    def _public_api_needs_keys(self) -> Self:
        for part in ("ingress", "model"):
            if getattr(self, f"{part}_max_replicas") < getattr(self, f"{part}_min_replicas"):
                raise ValueError(f"serve.{part}_max_replicas is below serve.{part}_min_replicas")
        if self.api_keys is None and self.host not in {"127.0.0.1", "localhost", "::1"}:
            raise missing_secrets(["serve.api_keys"], f"the API listens on {self.host}, beyond this machine")
        return self


class ProviderSettings(_Section):
    """One market-data provider: where its API is and the credentials it wants."""

    enabled: bool = Field(True, description="Acquire from this provider.")
    base_url: HttpUrl = Field(description="API base URL; the local provider simulator by default.")
    secondary_url: HttpUrl | None = Field(
        None, description="Second API of the provider: Nord Pool's data portal, JAO's Auction API."
    )
    auth_url: HttpUrl | None = Field(None, description="OAuth token endpoint (Nord Pool, Volue).")
    requests_per_minute: int = Field(
        120, ge=1, description="Request budget per minute, kept below the provider's ban threshold."
    )
    token: Secret | None = Field(None, description="API token or key (ENTSO-E securityToken, JAO AUTH_API_KEY).")
    client_id: str | None = Field(None, description="OAuth client id or login user (Nord Pool, Volue, Meteologica).")
    client_secret: Secret | None = Field(
        None, description="OAuth client secret or login password (Nord Pool, Volue, Meteologica)."
    )


def _provider(
    name: str, path: str, *, rpm: int = 120, secondary: str | None = None, auth: str | None = None
) -> ProviderSettings:
    """Simulator defaults that mirror the real API's paths, so going live only changes the host."""
    root = f"{SIMULATOR_BASE_URL}/{name}"
    return ProviderSettings(
        base_url=f"{root}{path}",
        secondary_url=f"{root}{secondary}" if secondary else None,
        auth_url=f"{root}{auth}" if auth else None,
        requests_per_minute=rpm,
    )


class ProvidersSettings(_Section):
    """The seven market-data providers."""

    elia: ProviderSettings = Field(
        # Real: https://opendata.elia.be/api/explore/v2.1
        default_factory=lambda: _provider("elia", "/api/explore/v2.1"),
        description="Elia Open Data (open).",
    )
    entsoe: ProviderSettings = Field(
        # Real: https://web-api.tp.entsoe.eu/api. ENTSO-E bans an IP for 10 minutes past 400 requests a minute.
        default_factory=lambda: _provider("entsoe", "/api", rpm=300),
        description="ENTSO-E Transparency Platform (token).",
    )
    nordpool: ProviderSettings = Field(
        # Real: https://data-api.nordpoolgroup.com/api/v2, portal https://dataportal-api.nordpoolgroup.com/api,
        # token https://sts.nordpoolgroup.com/connect/token.
        default_factory=lambda: _provider("nordpool", "/api/v2", secondary="/portal/api", auth="/connect/token"),
        description="Nord Pool Data API (OAuth client) and data portal.",
    )
    energinet: ProviderSettings = Field(
        # Real: https://api.energidataservice.dk
        default_factory=lambda: _provider("energinet", ""),
        description="Energinet Energi Data Service (open).",
    )
    meteologica: ProviderSettings = Field(
        # Real: https://api-markets.meteologica.com/api/v1
        default_factory=lambda: _provider("meteologica", "/api/v1"),
        description="Meteologica markets API (login).",
    )
    volue: ProviderSettings = Field(
        # Real: https://api.volueinsight.com, token https://auth.volueinsight.com/oauth2/token
        default_factory=lambda: _provider("volue", "", auth="/oauth2/token"),
        description="Volue Insight API (OAuth client).",
    )
    jao: ProviderSettings = Field(
        # Real: https://publicationtool.jao.eu, Auction API https://api.jao.eu/OWSMP
        default_factory=lambda: _provider("jao", "", secondary="/OWSMP"),
        description="JAO Publication Tool and Auction API (API key).",
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_over_provider_defaults(cls, data: Any) -> Any:
        # SCALAR_PROVIDERS__ENTSOE__TOKEN alone arrives as {"entsoe": {"token": ...}}: keep that provider's other
        # defaults (its base URL above all) instead of demanding every field.
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, given in data.items():
            field = cls.model_fields.get(name)
            if isinstance(given, dict) and field is not None and field.default_factory is not None:
                default = field.default_factory()  # type: ignore[call-arg]
                merged[name] = {**default.model_dump(exclude_none=True), **given}
        return merged

    @model_validator(mode="after")
    def _real_apis_need_credentials(self) -> Self:
        # The simulator on loopback takes no credentials; a real API without them would answer 401 hours later,
        # so fail at start instead.
        missing = [
            f"providers.{name}.{secret}"
            for name, secret in _REQUIRED_PROVIDER_SECRETS
            if (cfg := getattr(self, name)).enabled
            and not is_loopback_url(cfg.base_url)
            and getattr(cfg, secret) is None
        ]
        if missing:
            raise missing_secrets(missing, "the provider's base_url is a real API, not the local simulator")
        return self


# Which credential each provider's real API requires (Elia and Energinet are open).
_REQUIRED_PROVIDER_SECRETS: tuple[tuple[str, str], ...] = (
    ("entsoe", "token"),
    ("nordpool", "client_id"),
    ("nordpool", "client_secret"),
    ("meteologica", "client_id"),
    ("meteologica", "client_secret"),
    ("volue", "client_id"),
    ("volue", "client_secret"),
    ("jao", "token"),
)


class TelemetrySettings(_Section):
    """Logs, traces and metrics."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    otlp_endpoint: OtlpUrl | None = Field(
        None,
        description="OpenTelemetry collector's OTLP/HTTP endpoint (`http://otel-collector:4318`); none locally "
        "(nothing exported).",
    )
    otlp_headers: Secret | None = Field(
        None, description="Headers for the OTLP exporter (`key=value,key2=value2`, e.g. a backend's API key)."
    )
    metric_export_interval_s: float = Field(15.0, gt=0, description="Seconds between metric exports to the collector.")
    service_name: str = Field("scalar-ray", min_length=1, description="OpenTelemetry service.name.")


class RaySettings(_Section):
    """The Ray cluster the platform runs on."""

    address: str | None = Field(
        None,
        description="Cluster to join (`auto`, `ray://host:10001`); default: the local head of `scalar-ray local up`.",
    )
    namespace: str = Field("scalar", min_length=1, description="Ray namespace of the platform's named actors.")
    gcs_port: Port = Field(6380, description="Local head GCS port (6379 is left to Redis).")
    dashboard_host: str = Field("127.0.0.1", description="Local head dashboard bind address.")
    dashboard_port: Port = Field(8265, description="Local head dashboard port.")
    client_server_port: Port = Field(10001, description="Local head Ray Client port.")
    dashboard_agent_port: Port = Field(52365, description="Local head dashboard agent HTTP port (runs submitted jobs).")
    haproxy_metrics_port: Port = Field(9101, description="Local head port of the forecast API's HAProxy metrics.")
    haproxy_stats_port: Port = Field(8404, description="Local head port of the forecast API's HAProxy stats page.")
    num_cpus: int | None = Field(None, ge=1, description="CPUs the local head offers; default: all.")
    auth_token: Secret | None = Field(
        None,
        description="Ray token-authentication token; default: Ray's own `~/.ray/auth_token`, made on first `local up`.",
    )
    temp_dir: Path = Field(
        Path("/tmp/scalar-ray"),  # noqa: S108 - Ray's socket paths must stay short, so not under the data dir
        description="Ray's session directory; kept short because Ray's Unix socket paths are length-limited.",
    )


class LocalSettings(_Section):
    """The embedded one-machine stack started by `scalar-ray local up` and by the tests."""

    data_dir: Path = Field(Path(".scalar"), description="Data, logs and pid files of the local services.")
    java_home: Path | None = Field(None, description="JDK for Pulsar (17 or newer); default: JAVA_HOME, then PATH.")
    pulsar_home: Path | None = Field(
        None,
        description="Folder with Pulsar's pom and lib/; default `cluster/local/pulsar` of this checkout.",
    )
    pulsar_heap_mb: int = Field(1024, ge=256, description="Pulsar JVM heap (and direct memory) in MiB.")
    pulsar_quick_start: bool = Field(
        True,
        description=(
            "Run Pulsar's JVM with its quick compiler only (C1): ready in 9 s instead of 13 s on half the CPU, for "
            "a lower peak throughput; the benchmarks turn it off."
        ),
    )
    redis_server: str = Field("redis-server", description="redis-server executable (Debian package redis-server).")
    start_timeout_s: float = Field(180.0, gt=0, description="How long a local service may take to become ready.")
    simulator_port: Port = Field(
        8900,
        description="Port of the provider simulator `local up` starts (the providers' default base URLs use 8900).",
    )
    simulator_faults: float = Field(
        0.0, ge=0, le=0.5, description="Share of simulator requests answered 429 or 503 (half each); 0 locally."
    )


class Settings(BaseSettings):
    """All of scalar-ray's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="SCALAR_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
        case_sensitive=False,
    )

    broker: BrokerSettings = Field(default_factory=BrokerSettings, description="Apache Pulsar.")
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings, description="Warehouse.")
    cache: CacheSettings = Field(default_factory=CacheSettings, description="Redis cache.")
    ingestion: IngestionSettings = Field(default_factory=IngestionSettings, description="Ingestion.")
    acquisition: AcquisitionSettings = Field(default_factory=AcquisitionSettings, description="Acquisition.")
    registry: RegistrySettings = Field(default_factory=RegistrySettings, description="Model registry.")
    forecasting: ForecastingSettings = Field(default_factory=ForecastingSettings, description="Forecasting.")
    serve: ServeSettings = Field(default_factory=ServeSettings, description="Forecast API (Ray Serve).")
    providers: ProvidersSettings = Field(default_factory=ProvidersSettings, description="Providers.")
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings, description="Telemetry.")
    ray: RaySettings = Field(default_factory=RaySettings, description="Ray.")
    local: LocalSettings = Field(default_factory=LocalSettings, description="Local stack.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read keyword arguments first, then the environment mapping the loader hands over."""
        return init_settings, MappingEnvSource(settings_cls)

    @model_validator(mode="after")
    def _secrets_travel_as_references(self) -> Self:
        # Each secret learns its variable (and mounted file), so pickled for a Ray worker it is a reference.
        name_secrets(self, mounted_secret_files())
        return self

    @property
    def data_dir(self) -> Path:
        """The local data directory as an absolute path."""
        return self.local.data_dir.expanduser().resolve()

    @property
    def duckdb_path(self) -> Path:
        """The DuckDB file the embedded warehouse uses."""
        return (self.warehouse.duckdb.path or self.data_dir / "warehouse.duckdb").expanduser().resolve()

    @property
    def registry_url(self) -> str:
        """The model registry location (an fsspec URL or a local folder)."""
        return self.registry.url or str(self.data_dir / "models")
