"""`python -m bench`: run every benchmark and update docs/benchmarks.md."""

from __future__ import annotations

from bench import demand_history, forecast_real, ingest, providers, pulsar_throughput, serve, telemetry, train

for benchmark in (pulsar_throughput, providers, ingest, telemetry, train, demand_history, forecast_real, serve):
    print(f"== {benchmark.__name__}")
    benchmark.main()
