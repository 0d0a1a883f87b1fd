"""`scalar-ray status` as text: one line per actor by what its service reports, the broker, the API, the checklist."""

from __future__ import annotations

from datetime import datetime

from scalar_ray.status import (
    AcquisitionStatus,
    ActorReport,
    AutoscalerStatus,
    ForecastingStatus,
    IngestionStatus,
    PlatformStatus,
    TopicBacklog,
    UnreachableActor,
)
from scalar_ray.telemetry.snapshot import ChecklistLine

__all__ = ["render_checklist", "render_status"]


def render_status(report: PlatformStatus) -> str:
    """The checklist as text: one line per actor, then the broker, the forecast API and the metrics' checklist."""
    lines = [f"{'ACTOR':<24} {'STATE':<10} {'RESTARTS':>8}  DETAIL"]
    for actor in sorted(report.actors, key=lambda a: a.name):
        detail = _detail(report.details.get(actor.name))
        lines.append(f"{actor.name:<24} {actor.state:<10} {actor.restarts:>8}  {detail}")
    broker = report.broker
    backlog = ", ".join(f"{name} {_backlog(entry)}" for name, entry in broker.backlog.items())
    lines.append(f"consumer backlog: {backlog or 'unknown'}")
    lines.append(f"dead letters awaiting review: {'unknown' if broker.dead_letters is None else broker.dead_letters}")
    if broker.error:
        lines.append(f"broker: {broker.error}")
    if report.api is None:
        lines.append("forecast API: unknown")
    else:
        deployments = ", ".join(
            f"{name} {' '.join(f'{count} {state}' for state, count in entry.replicas.items())}"
            for name, entry in sorted(report.api.deployments.items())
        )
        lines.append(f"forecast API: {report.api.state}" + (f" ({deployments})" if deployments else ""))
    lines += render_checklist(report.checklist)
    return "\n".join(lines)


def _backlog(entry: TopicBacklog) -> str:
    """``12`` for a plain topic, ``12 (p0 3, p1 9, p2 0, p3 0)`` for a partitioned one: a hot partition shows."""
    if not entry.partitions:
        return str(entry.backlog)
    return f"{entry.backlog} (" + ", ".join(f"p{index} {count}" for index, count in entry.partitions.items()) + ")"


def render_checklist(checklist: list[ChecklistLine]) -> list[str]:
    """The operator's checklist from the metrics: the items and order of the Grafana dashboard's first row."""
    if not checklist:
        return []
    lines = ["", "OPERATOR CHECKLIST (metrics; the Grafana dashboard shows the same items)"]
    for line in checklist:
        breakdown = ", ".join(f"{key} {value}" for key, value in list(line.breakdown.items())[:6])
        more = len(line.breakdown) - 6
        breakdown += f", +{more} more" if more > 0 else ""
        lines.append(f"  {line.title:<20} {line.value}" + (f"  [{breakdown}]" if breakdown else ""))
    return lines


def _detail(report: ActorReport | UnreachableActor | None) -> str:
    if report is None:
        return ""
    if isinstance(report, UnreachableActor):
        return report.error
    detail = report.detail
    if isinstance(detail, AcquisitionStatus):
        return _acquisition(detail)
    if isinstance(detail, ForecastingStatus):
        return _forecasting(detail)
    if isinstance(detail, AutoscalerStatus):
        return _autoscaler(detail)
    return _ingestion(detail)


def _autoscaler(detail: AutoscalerStatus) -> str:
    backlog = "unknown" if detail.backlog is None else f"{detail.backlog:,}"
    changed = f", last change at {_time(detail.changed_at)}" if detail.changed_at else ""
    return (
        f"{detail.replicas} replicas ({detail.min_replicas}-{detail.max_replicas}), backlog {backlog}, "
        f"{detail.changes} changes{changed}; {detail.decision}"
    )


def _acquisition(detail: AcquisitionStatus) -> str:
    failing = detail.failing
    text = (
        f"{len(detail.tasks)} tasks, {len(failing)} failing, {detail.requests} requests "
        f"({detail.retries} retried, {detail.throttled} throttled), spooled {detail.spooled}"
    )
    if detail.spool_full:
        text += f"; SPOOL FULL ({detail.spool_bytes:,} bytes): windows wait for the broker"
    if detail.spool_set_aside:
        text += f"; {detail.spool_set_aside} spooled message(s) set aside (see the spool folder)"
    if detail.cursors_recovered:
        text += f"; {detail.cursors_recovered} cursor(s) re-derived from the warehouse at start"
    return text + (f"; failing: {', '.join(failing[:3])}" if failing else "")


def _forecasting(detail: ForecastingStatus) -> str:
    models = detail.models
    issued = [m.last_issue for m in models if m.last_issue]
    failing = [m for m in models if m.error]
    awaiting = [m for m in models if m.awaiting_model]
    text = f"{len(models)} models, {len(issued)} issuing, last forecast at {_time(max(issued, default=None))}; "
    text += f"{len(awaiting)} awaiting a first model (`scalar-ray train`); " if awaiting else ""
    falling_back = [m for m in models if m.fallback]
    if falling_back:  # the baseline issues these: an input failed its check (the forecast says which)
        text += f"{len(falling_back)} on the baseline ({falling_back[0].model}: {falling_back[0].fallback}); "
    text += f"{len(failing)} failing"
    return text + (f": {failing[0].error}" if failing else "")


def _ingestion(detail: IngestionStatus) -> str:
    p99 = detail.freshness_p99_ms
    cache = "cache ok" if detail.cache_enabled in (True, None) else f"cache down ({detail.cache_failures})"
    blocked = f", WRITES BLOCKED since {_time(detail.writing_blocked_since)}" if detail.writing_blocked_since else ""
    return (
        f"{detail.messages:,} msgs, {detail.rows_written:,} rows; "
        f"last batch {detail.last_batch_rows:,} rows at {_time(detail.last_commit_at)} "
        f"({detail.last_batch_ms:.0f} ms); "
        f"p99 freshness (5 min) {p99 if p99 is None else round(p99)} ms; redelivered {detail.redelivered}; "
        f"dead-lettered {detail.dead_lettered}; {cache}{blocked}"
    )


def _time(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "-"
