"""The operator's checklist as metrics: one place that names what operators watch every day.

Each item names the OpenTelemetry metric that measures it (semantic-convention names where OpenTelemetry defines one:
``db.client.operation.duration``, ``process.uptime``; ``scalar.*`` for the platform's own), the attributes that
select it, and how a summary reads it. `scalar-ray status` and the Grafana dashboard (``cluster/grafana/``, generated
from this list) both show exactly these items, so the terminal and the dashboard never disagree on what is watched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CHECKLIST", "ChecklistItem", "MetricKind", "prometheus_name"]

MetricKind = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the checklist: a title, the metric behind it and how to read it."""

    title: str
    metric: str
    kind: MetricKind
    unit: str
    meaning: str
    # Attribute values that select this item's points (one metric can serve two items, e.g. INSERT and SELECT).
    where: dict[str, str] = field(default_factory=dict)
    # The attribute a breakdown groups by (a panel's legend, a status line's detail).
    by: str = ""
    # How a gauge's points combine: summed (a backlog), or the lowest or highest that counts (uptime, fill).
    reads: Literal["sum", "min", "max"] = "sum"


CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        "Consumer backlog",
        "scalar.pulsar.backlog",
        "gauge",
        "{message}",
        "messages waiting for ingestion, per topic (dead letters awaiting review are reported apart)",
        where={"messaging.consumer.group.name": "ingestion"},
        by="messaging.destination.name",
    ),
    ChecklistItem(
        "Batch insert time",
        "db.client.operation.duration",
        "histogram",
        "s",
        "time to commit one ingestion batch to the warehouse",
        where={"db.operation.name": "INSERT"},
        by="db.system.name",
    ),
    ChecklistItem(
        "Failed messages",
        "scalar.ingestion.failed_messages",
        "counter",
        "{message}",
        "messages ingestion could not decode or validate, sent to the dead-letter topic",
        by="error.type",
    ),
    ChecklistItem(
        "Redeliveries",
        "scalar.ingestion.redelivered_messages",
        "counter",
        "{message}",
        "messages the broker delivered again (a replica died or failed to acknowledge)",
        by="messaging.destination.name",
    ),
    ChecklistItem(
        "API throttling",
        "scalar.provider.throttled",
        "counter",
        "{response}",
        "HTTP 429 answers from the providers' APIs",
        by="scalar.provider",
    ),
    ChecklistItem(
        "Provider errors",
        "scalar.provider.errors",
        "counter",
        "{error}",
        "fetches that failed after their retries",
        by="scalar.provider",
    ),
    ChecklistItem(
        "Worker uptime",
        "process.uptime",
        "gauge",
        "s",
        "seconds since each long-lived actor started (a drop is a restart)",
        by="scalar.worker",
        reads="min",
    ),
    ChecklistItem(
        "Forecast completion",
        "scalar.forecast.completed",
        "counter",
        "{forecast}",
        "scheduled forecasts by outcome: ok, fallback (an input was flat, stale or too short: the baseline issued "
        "it), no_model (no champion yet, before the first training) or failed",
        by="scalar.outcome",
    ),
    ChecklistItem(
        "Query latency",
        "db.client.operation.duration",
        "histogram",
        "s",
        "time of the warehouse's reads (forecast inputs, the API's stored forecasts)",
        where={"db.operation.name": "SELECT"},
        by="db.system.name",
    ),
    ChecklistItem(
        "Spool fill",
        "scalar.acquisition.spool.fill",
        "gauge",
        "1",
        "share of each provider's spool cap in use while the broker is away; 1 is full: new windows wait, an alarm",
        by="scalar.provider",
        reads="max",
    ),
)

# UCUM units Prometheus spells out as a name suffix (what the OTLP → Prometheus translation appends).
_UNIT_SUFFIXES = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "1": "ratio"}


def prometheus_name(metric: str, unit: str, kind: MetricKind) -> str:
    """The metric's name in Prometheus after OTLP translation.

    ``db.client.operation.duration`` (s) → ``db_client_operation_duration_seconds``; counters end in ``_total``;
    ``{…}`` annotation units add nothing.
    """
    name = metric.replace(".", "_")
    suffix = _UNIT_SUFFIXES.get(unit, "")
    if suffix and not name.endswith(suffix):
        name = f"{name}_{suffix}"
    return f"{name}_total" if kind == "counter" else name
