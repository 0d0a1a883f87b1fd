"""Metric points as plain values, and the checklist read from them.

Actors hand their points to `scalar-ray status` over Ray (plain dataclasses pickle; OpenTelemetry's data classes are
not meant to travel); ``checklist_lines`` turns the points of every process into the checklist's lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    MetricsData,
    NumberDataPoint,
    Sum,
)

from scalar_ray.telemetry.checklist import CHECKLIST, ChecklistItem

__all__ = ["ChecklistLine", "MetricPoint", "checklist_lines", "metric_points"]


@dataclass(frozen=True)
class MetricPoint:
    """One point: a counter's total, a gauge's value or a histogram's distribution, with its attributes."""

    metric: str
    kind: str  # counter | gauge | histogram
    unit: str
    attributes: dict[str, str]
    value: float = 0.0
    count: int = 0
    total: float = 0.0
    maximum: float = 0.0
    bounds: tuple[float, ...] = ()
    buckets: tuple[int, ...] = ()

    def matches(self, item: ChecklistItem) -> bool:
        """Whether this point is one of ``item``'s."""
        return (
            self.metric == item.metric
            and self.kind == item.kind
            and all(self.attributes.get(key) == value for key, value in item.where.items())
        )


def metric_points(data: MetricsData | None) -> list[MetricPoint]:
    """The points of a reader's collection."""
    points: list[MetricPoint] = []
    for resource_metrics in data.resource_metrics if data else ():
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                kind = {Sum: "counter", Gauge: "gauge", Histogram: "histogram"}.get(type(metric.data))
                for point in metric.data.data_points if kind else ():
                    attributes = {key: str(value) for key, value in (point.attributes or {}).items()}
                    if isinstance(point, HistogramDataPoint):
                        points.append(
                            MetricPoint(
                                metric.name,
                                "histogram",
                                metric.unit or "",
                                attributes,
                                count=point.count,
                                total=point.sum,
                                maximum=point.max,
                                bounds=tuple(point.explicit_bounds),
                                buckets=tuple(point.bucket_counts),
                            )
                        )
                    elif isinstance(point, NumberDataPoint) and kind:
                        points.append(MetricPoint(metric.name, kind, metric.unit or "", attributes, point.value))
    return points


@dataclass(frozen=True)
class ChecklistLine:
    """One checklist item as status prints it: a headline value and a breakdown."""

    title: str
    value: str
    breakdown: dict[str, str] = field(default_factory=dict)
    reported: bool = True  # False: no process reported this metric yet


def checklist_lines(points: Iterable[MetricPoint]) -> list[ChecklistLine]:
    """Every checklist item, read from the points of all processes."""
    every = list(points)
    return [_line(item, [p for p in every if p.matches(item)]) for item in CHECKLIST]


def _line(item: ChecklistItem, points: Sequence[MetricPoint]) -> ChecklistLine:
    if not points:
        # A counter appears with its first event: none yet is zero for the workers that report.
        return ChecklistLine(item.title, "none yet" if item.kind == "counter" else "no data yet", reported=False)
    groups: dict[str, list[MetricPoint]] = {}
    for point in points:
        # Pulsar topics by their last segment (persistent://scalar/acquisition/elia → elia), as status names them.
        key = point.attributes.get(item.by, "-").rsplit("/", 1)[-1]
        groups.setdefault(key, []).append(point)
    if item.kind == "histogram":
        breakdown = {key: _distribution(group) for key, group in sorted(groups.items())}
        return ChecklistLine(item.title, _distribution(points), breakdown)
    if item.reads == "min":
        # Uptime reads as its shortest: a worker that restarted a minute ago is what the operator must see.
        breakdown = {key: _seconds(min(p.value for p in group)) for key, group in sorted(groups.items())}
        return ChecklistLine(item.title, f"shortest {_seconds(min(p.value for p in points))}", breakdown)
    if item.reads == "max":
        # A fill reads as its fullest: one provider's full spool is the alarm, whatever the others hold.
        breakdown = {key: _share(max(p.value for p in group)) for key, group in sorted(groups.items())}
        return ChecklistLine(item.title, f"fullest {_share(max(p.value for p in points))}", breakdown)
    breakdown = {key: _number(sum(p.value for p in group)) for key, group in sorted(groups.items())}
    return ChecklistLine(item.title, _number(sum(p.value for p in points)), breakdown)


def _share(fill: float) -> str:
    return "FULL" if fill >= 1 else f"{fill * 100:.0f} %"


def _distribution(points: Sequence[MetricPoint]) -> str:
    count = sum(p.count for p in points)
    if not count:
        return "none yet"
    mean_ms = sum(p.total for p in points) / count * 1000
    p99_ms = _quantile(points, 0.99) * 1000
    max_ms = max(p.maximum for p in points) * 1000
    return f"{count} ops, mean {mean_ms:.1f} ms, p99 ≤ {p99_ms:.0f} ms, max {max_ms:.0f} ms"


def _quantile(points: Sequence[MetricPoint], q: float) -> float:
    """The upper bound of the bucket holding the ``q`` quantile (what Prometheus' histogram_quantile bounds)."""
    bounds = points[0].bounds
    merged = [sum(p.buckets[i] for p in points if p.bounds == bounds) for i in range(len(bounds) + 1)]
    target, seen = q * sum(merged), 0
    for index, count in enumerate(merged):
        seen += count
        if seen >= target and count:
            return bounds[index] if index < len(bounds) else max(p.maximum for p in points)
    return max(p.maximum for p in points)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _seconds(value: float) -> str:
    minutes, seconds = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"
