"""Trace context across Pulsar: W3C ``traceparent``/``tracestate`` in the message properties.

The producer writes the context of its send span into the properties; the consumer starts its process span as that
span's child, so one trace runs from the provider fetch through the broker to the warehouse commit, across processes.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["context_from", "with_trace_context"]

_propagator = TraceContextTextMapPropagator()


def with_trace_context(properties: Mapping[str, str]) -> dict[str, str]:
    """``properties`` plus the current span's context (unchanged outside a recording span)."""
    carrier = dict(properties)
    _propagator.inject(carrier)
    return carrier


def context_from(properties: Mapping[str, str]) -> Context:
    """The sender's context from a message's properties (an empty context when it carried none)."""
    return _propagator.extract(dict(properties))
