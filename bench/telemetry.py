"""What OpenTelemetry costs the ingestion path: the same messages through the library's ingestion loop, three ways.

Each mode runs in its own process (OpenTelemetry's providers are process-wide):

* off (baseline): no SDK installed, OpenTelemetry's API answers with no-ops;
* local default: the SDK installed as every actor installs it without a collector (spans made and dropped, metrics
  aggregated in memory for `scalar-ray status`);
* exporting: as production, spans also queued to a batch processor (its exporter drops them: the network is not
  what is measured).

The loop is `IngestionWorker` over the in-memory broker into a DuckDB file, every message carrying trace context as
acquisition sends it, for two message sizes: live-like windows (4 series x 8 quarter-hours) and a day of a typical
fetch (24 series x 96 quarter-hours). Best of five runs per mode.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import markdown_table, publish

# (messages, series, points per series)
WORKLOADS = ((3000, 4, 8), (300, 24, 96))
MODES = ("off", "local", "exporting")


def run_mode(mode: str, messages: int, series_count: int, points: int) -> dict[str, float]:
    """Time the loop in this process, with telemetry set up as ``mode`` says."""
    from opentelemetry.sdk.trace import ReadableSpan  # noqa: PLC0415 - imported where the mode is chosen
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult  # noqa: PLC0415

    from scalar_ray.broker.envelope import Envelope  # noqa: PLC0415
    from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage  # noqa: PLC0415
    from scalar_ray.config.settings import TelemetrySettings  # noqa: PLC0415
    from scalar_ray.core.window import Window  # noqa: PLC0415
    from scalar_ray.ingestion.batcher import FlushPolicy  # noqa: PLC0415
    from scalar_ray.ingestion.worker import IngestionWorker  # noqa: PLC0415
    from scalar_ray.providers.parsing import FetchContext, ObservationBuilder  # noqa: PLC0415
    from scalar_ray.telemetry.instruments import tracer  # noqa: PLC0415
    from scalar_ray.telemetry.propagation import with_trace_context  # noqa: PLC0415
    from scalar_ray.telemetry.setup import configure  # noqa: PLC0415
    from scalar_ray.warehouse.duckdb import DuckDBWarehouse  # noqa: PLC0415
    from scalar_ray.warehouse.instrumented import InstrumentedWarehouse  # noqa: PLC0415

    class Dropping(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    if mode != "off":
        telemetry = configure(TelemetrySettings(log_level="WARNING"), "bench")
        if mode == "exporting":
            telemetry.tracer_provider.add_span_processor(BatchSpanProcessor(Dropping()))

    topic = "persistent://bench/acquisition/entsoe"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=15)
    broker = InMemoryBroker()
    for index in range(messages):
        begin = start + step * points * index
        window = Window(begin, begin + step * points)
        builder = ObservationBuilder(FetchContext("entsoe", "A44", window, begin, "DK1"))
        for series in range(series_count):
            for point in range(points):
                builder.add(
                    area=f"Z{series}",
                    variable="price",
                    ts=begin + step * point,
                    value=float(point),
                    issued_at=begin,
                    unit="EUR/MWh",
                    resolution="PT15M",
                )
        payload, properties = Envelope("entsoe", "A44", window, f"f{index}", builder.build()).encode()
        with tracer.start_as_current_span("send"):
            properties = with_trace_context(properties)
        broker.send(OutgoingMessage(topic, payload, properties, f"k{index % 16}"))
    folder = Path(tempfile.mkdtemp(prefix="scalar-bench-otel-"))
    warehouse = InstrumentedWarehouse(DuckDBWarehouse(folder / "w.duckdb"), "duckdb")
    worker = IngestionWorker(
        broker.source(), warehouse, None, broker, f"{topic}-dead-letter", FlushPolicy(max_rows=2048)
    )
    started = time.perf_counter()
    while worker.stats.messages < messages or broker.backlog:
        worker.step()
    elapsed = time.perf_counter() - started
    warehouse.close()
    return {"messages_per_s": messages / elapsed, "us_per_message": elapsed / messages * 1e6}


def measure(mode: str, workload: tuple[int, int, int], runs: int = 5) -> dict[str, float]:
    """The best of ``runs`` fresh processes."""
    results = []
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-m", "bench.telemetry", "--mode", mode, *map(str, workload)],
            capture_output=True,
            text=True,
            check=True,
            timeout=900,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    return max(results, key=lambda r: r["messages_per_s"])


def main() -> None:
    """Run every mode on every workload and publish the comparison."""
    rows, data = [], {}
    for workload in WORKLOADS:
        _, series, points = workload
        results = {mode: measure(mode, workload) for mode in MODES}
        data[f"{series}x{points}"] = results
        baseline = results["off"]
        rows += [
            {
                "message": f"{series} x {points} = {series * points:,} rows",
                "mode": mode,
                "messages/s": f"{result['messages_per_s']:,.0f}",
                "µs per message": f"{result['us_per_message']:,.0f}",
                "added µs per message": f"{result['us_per_message'] - baseline['us_per_message']:,.0f}",
                "throughput vs off": f"{result['messages_per_s'] / baseline['messages_per_s']:.2f}x",
            }
            for mode, result in results.items()
        ]
    columns = ["message", "mode", "messages/s", "µs per message", "added µs per message", "throughput vs off"]
    body = (
        "Messages through `IngestionWorker` into a DuckDB file, in one process per mode (best of five): "
        f"{', '.join(f'{m:,} of {s} x {p}' for m, s, p in WORKLOADS)}. Per message the instrumented loop opens and "
        "ends a consumer span (child of the sender's context), counts it and records its freshness; per batch it "
        "adds the batch span and the INSERT span with its duration.\n\n" + markdown_table(rows, columns)
    )
    publish("telemetry", "Telemetry overhead on ingestion (bench/telemetry.py)", body, data)
    print(body)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--mode":
        print(json.dumps(run_mode(sys.argv[2], *map(int, sys.argv[3:]))))
    else:
        main()
