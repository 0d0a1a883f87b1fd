"""Shared test configuration: every test starts from an environment without SCALAR_* variables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from scalar_ray.config.settings import TelemetrySettings
from scalar_ray.telemetry.setup import Telemetry, configure

# No time limit per example: Hypothesis's default 200 ms deadline is a timed test, and fails on a busy machine
# (a property test parsing real payloads ran past it while CI's services started beside it).
settings.register_profile("scalar-ray", deadline=None)
settings.load_profile("scalar-ray")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def clean_scalar_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A developer's own SCALAR_* variables must not change what a test sees."""
    for name in list(os.environ):
        if name.upper().startswith("SCALAR_"):
            monkeypatch.delenv(name)
    yield


def fixture_file(relative: str) -> Path:
    """A recorded payload under tests/fixtures/, or a clear failure naming what is missing."""
    path = FIXTURES / relative
    if not path.exists():
        pytest.fail(f"missing fixture {path}: every recorded payload lives under tests/fixtures/ with its SOURCE.md")
    return path


@dataclass
class Captured:
    """The test process's telemetry: its metric points, and the spans finished since the test began."""

    telemetry: Telemetry
    spans: InMemorySpanExporter

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())


@pytest.fixture(scope="session")
def _session_telemetry() -> tuple[Telemetry, InMemorySpanExporter]:
    # OpenTelemetry's providers are process-wide: installed once, spans kept in memory for the tests to read.
    telemetry = configure(TelemetrySettings(), "tests")
    return telemetry, telemetry.capture_spans()


@pytest.fixture
def captured(_session_telemetry: tuple[Telemetry, InMemorySpanExporter]) -> Captured:
    """The process's telemetry with the span memory emptied; metrics are cumulative (compare before and after)."""
    telemetry, spans = _session_telemetry
    spans.clear()
    return Captured(telemetry, spans)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Unit tests first, then the integration modules that start a local stack of their own, then the rest.

    The stack runs before the session's services (tests/integration/conftest.py) start, so none of them idles beside
    it: idle, a Ray instance with its dashboard costs about 12 % of a core and Pulsar about 4 % (measured here), and
    the stack's journey is CPU-bound on this two-core machine. Whole modules move together (a module's fixtures are
    set up once); the collection order within each group is kept."""
    own_stack = {item.path for item in items if "stack" in item.fixturenames}

    def group(item: pytest.Item) -> int:
        if PROJECT_ROOT / "tests" / "unit" in item.path.parents:
            return 0
        return 1 if item.path in own_stack else 2

    items.sort(key=group)  # stable
