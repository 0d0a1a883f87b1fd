"""With a collector configured, a process exports its traces, metrics and logs over OTLP/HTTP: the real exporters
against a local HTTP receiver that decodes OpenTelemetry's protobuf, in a fresh process (providers are per process)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.integration

SECRET = "otlp-backend-key-7c1e"
PROGRAM = f"""
import logging
from pydantic import SecretStr
from scalar_ray.config.settings import TelemetrySettings
from scalar_ray.telemetry.instruments import provider_errors, tracer
from scalar_ray.telemetry.setup import configure
import sys
settings = TelemetrySettings(otlp_endpoint=sys.argv[1], otlp_headers=SecretStr("x-api-key={SECRET}"))
telemetry = configure(settings, "export-test")
with tracer.start_as_current_span("acquire test"):
    logging.getLogger("scalar_ray.test").warning("fetched a window")
provider_errors.add(1, {{"scalar.provider": "test", "error.type": "ProviderHTTPError"}})
telemetry.flush()
"""


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_traces_metrics_and_logs_reach_the_collector_with_the_headers(receiver: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM, receiver],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr

    by_path: dict[str, list[bytes]] = {}
    for path, headers, body in Receiver.received:
        assert headers.get("x-api-key") == SECRET
        by_path.setdefault(path, []).append(body)
    spans = [
        span
        for body in by_path["/v1/traces"]
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    metrics = {
        metric.name
        for body in by_path["/v1/metrics"]
        for resource in ExportMetricsServiceRequest.FromString(body).resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    records = [
        record
        for body in by_path["/v1/logs"]
        for resource in ExportLogsServiceRequest.FromString(body).resource_logs
        for scope in resource.scope_logs
        for record in scope.log_records
    ]
    acquire = next(span for span in spans if span.name == "acquire test")
    assert {"scalar.provider.errors", "process.uptime"} <= metrics
    logged = next(record for record in records if record.body.string_value == "fetched a window")
    assert logged.trace_id == acquire.trace_id  # the log line is correlated with its span
    assert SECRET not in run.stdout + run.stderr  # the header never reaches a log line
