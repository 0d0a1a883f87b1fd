"""`python -m bench`: run every benchmark and update docs/benchmarks.md."""

from __future__ import annotations

from bench import ingest, providers, pulsar_throughput

for benchmark in (pulsar_throughput, providers, ingest):
    print(f"== {benchmark.__name__}")
    benchmark.main()
