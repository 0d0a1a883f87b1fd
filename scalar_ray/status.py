"""Typed status records: what each long-lived service reports, what the supervisor gathers, what `status` prints.

The actors return these records (Ray pickles them), ``scalar-ray status`` renders them by type, and ``--json`` dumps
them as they are; times are aware UTC datetimes throughout, as text only at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from scalar_ray.telemetry.snapshot import ChecklistLine, MetricPoint

__all__ = [
    "AcquisitionStatus",
    "ActorReport",
    "ActorState",
    "ApiStatus",
    "BrokerStatus",
    "DeploymentStatus",
    "ForecastModelStatus",
    "ForecastingStatus",
    "IngestionStatus",
    "PlatformStatus",
    "TaskStatus",
    "TopicBacklog",
    "UnreachableActor",
]


@dataclass
class TaskStatus:
    """One acquisition task's health (a dataset and area of a provider)."""

    next_run: datetime
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_errors: int = 0
    throttled: int = 0
    messages: int = 0
    rows: int = 0
    # Re-fetched rows whose value had already been published (not sent again).
    unchanged_rows: int = 0


@dataclass(frozen=True)
class AcquisitionStatus:
    """One provider's schedules, spool and HTTP traffic."""

    provider: str
    tasks: dict[str, TaskStatus]
    spooled: int
    spooled_total: int
    drained_total: int
    requests: int
    retries: int
    throttled: int
    http_failures: int
    spool_bytes: int = 0
    # The alarm: the spool holds its limit and refuses more (the broker has been away long).
    spool_full: bool = False
    # Spooled messages that could never be sent (unreadable, or refused by the broker for good), kept aside on disk.
    spool_set_aside: int = 0
    # Cursors that were missing at start (the state folder lost) and were re-derived from the warehouse.
    cursors_recovered: int = 0

    @property
    def failing(self) -> list[str]:
        """The tasks whose last attempt failed."""
        return [name for name, task in self.tasks.items() if task.consecutive_errors]


@dataclass(frozen=True)
class IngestionStatus:
    """One ingestion replica's counters, its freshness over the last five minutes and its cache's health."""

    messages: int
    rows_written: int
    batches: int
    dead_lettered: int
    duplicates_dropped: int
    redelivered: int
    warehouse_errors: int
    broker_errors: int
    last_batch_rows: int
    last_batch_ms: float
    last_commit_at: datetime | None
    last_error: str
    writing_blocked_since: datetime | None
    freshness_p50_ms: float | None
    freshness_p99_ms: float | None
    # None when the replica has no guarded cache.
    cache_enabled: bool | None = None
    cache_failures: int = 0
    cache_updates: int = 0


@dataclass(frozen=True)
class ForecastModelStatus:
    """One family x zone of the forecasting service."""

    model: str
    version: str | None
    last_issue: datetime | None
    rows: int
    issued: int
    failures: int
    error: str | None
    awaiting_model: bool
    duration_s: float
    # Issues the baseline made because an input check failed, and the newest one's reason (None: the model issued).
    fallbacks: int = 0
    fallback: str | None = None


@dataclass(frozen=True)
class ForecastingStatus:
    """The scheduled forecasts: each model's state, and when each family runs next."""

    models: tuple[ForecastModelStatus, ...]
    next_runs: dict[str, datetime]


@dataclass(frozen=True)
class AutoscalerStatus:
    """The ingestion autoscaler: the replicas now and their bounds, the backlog it last read, its last decision."""

    replicas: int
    min_replicas: int
    max_replicas: int
    backlog: int | None
    decision: str
    changes: int = 0
    changed_at: datetime | None = None


@dataclass(frozen=True)
class ActorReport:
    """What a live actor says of itself: its service's status, its process, and its metric points."""

    detail: AcquisitionStatus | IngestionStatus | ForecastingStatus | AutoscalerStatus
    uptime_s: int
    rss_mb: int
    loop_error: str = ""
    metrics: tuple[MetricPoint, ...] = ()


@dataclass(frozen=True)
class UnreachableActor:
    """An actor that did not answer its status call."""

    error: str


@dataclass(frozen=True)
class ActorState:
    """An actor as Ray's state API lists it."""

    name: str
    state: str
    restarts: int
    pid: int | None


@dataclass(frozen=True)
class TopicBacklog:
    """The ingestion subscription on one topic."""

    backlog: int
    unacked: int
    consumers: int
    # Backlog per partition index; empty for a non-partitioned topic.
    partitions: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BrokerStatus:
    """Ingestion backlog per topic (by its last segment), dead letters awaiting review, or why they are unknown."""

    backlog: dict[str, TopicBacklog] = field(default_factory=dict)
    dead_letters: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class DeploymentStatus:
    """One Serve deployment: its status and its replicas by state."""

    status: str
    replicas: dict[str, int]


@dataclass(frozen=True)
class ApiStatus:
    """The forecast API's application (``NOT_DEPLOYED`` before `scalar-ray serve`)."""

    state: str
    deployments: dict[str, DeploymentStatus] = field(default_factory=dict)


@dataclass(frozen=True)
class PlatformStatus:
    """The operator's checklist as the supervisor gathers it."""

    actors: list[ActorState]
    details: dict[str, ActorReport | UnreachableActor]
    broker: BrokerStatus
    checklist: list[ChecklistLine]
    api: ApiStatus | None = None

    def reports(
        self, kind: type[AcquisitionStatus | IngestionStatus | ForecastingStatus | AutoscalerStatus]
    ) -> dict[str, ActorReport]:
        """The live actors' reports whose service status is of ``kind``."""
        return {
            name: report
            for name, report in self.details.items()
            if isinstance(report, ActorReport) and isinstance(report.detail, kind)
        }
