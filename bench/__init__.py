"""Benchmarks: each prints a table, writes JSON under bench/results/ and its section of docs/benchmarks.md."""
