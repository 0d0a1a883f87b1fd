"""`python -m bench`: run every benchmark and update docs/benchmarks.md (and the capacity model in docs/scaling.md)."""

from __future__ import annotations

from bench import capacity, demand_history, forecast_real, ingest, providers, pulsar_throughput, serve, telemetry, train

BENCHMARKS = (capacity, pulsar_throughput, providers, ingest, telemetry, train, demand_history, forecast_real, serve)

for benchmark in BENCHMARKS:
    print(f"== {benchmark.__name__}")
    benchmark.main()
