"""An HTTP load generator, run as its own process so its CPU is not the server's: `python -m bench.loadgen`.

Two shapes:
- closed loop (``--concurrency N``): N clients, each sending its next request when the last one answered; measures
  the throughput the server sustains and the latency at that load;
- open loop (``--rate R``): requests start on a fixed schedule of R per second whether or not earlier ones have
  answered, and latency counts from the scheduled start, so a server that falls behind shows it (no coordinated
  omission).

With ``--vary N``, request ``i`` asks for the URL with ``{n}`` replaced by ``i mod N`` (say, a different series each
time, so no cache of one answer flatters the figures).

Prints one JSON object: requests, errors (non-2xx or failed), requests/s, p50/p90/p99/max in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import aiohttp


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def _request(session: aiohttp.ClientSession, method: str, url: str, body: str | None) -> bool:
    async with session.request(method, url, data=body, headers={"Content-Type": "application/json"}) as response:
        await response.read()
        return 200 <= response.status < 300


async def closed_loop(
    method: str, url: str, body: str | None, concurrency: int, duration_s: float, headers: dict[str, str]
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        deadline = time.perf_counter() + duration_s

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    ok = await _request(session, method, url, body)
                except aiohttp.ClientError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return summary(latencies, errors, elapsed)


async def open_loop(
    method: str, url: str, body: str | None, rate: float, duration_s: float, headers: dict[str, str], vary: int = 0
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(scheduled: float, target: str) -> None:
            nonlocal errors
            try:
                ok = await _request(session, method, target, body)
            except aiohttp.ClientError:
                ok = False
            latencies.append(time.perf_counter() - scheduled)
            errors += not ok

        start = time.perf_counter()
        tasks = []
        for index in range(int(rate * duration_s)):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            target = url.replace("{n}", str(index % vary)) if vary else url
            tasks.append(asyncio.create_task(one(scheduled, target)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return summary(latencies, errors, elapsed)


def summary(latencies: list[float], errors: int, elapsed_s: float) -> dict[str, Any]:
    """The figures of one run."""
    ms = [value * 1000 for value in latencies]
    return {
        "requests": len(ms),
        "errors": errors,
        "rps": round(len(ms) / elapsed_s, 1) if elapsed_s else 0.0,
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p90_ms": round(percentile(ms, 0.90), 1) if ms else None,
        "p99_ms": round(percentile(ms, 0.99), 1) if ms else None,
        "max_ms": round(max(ms), 1) if ms else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", help="JSON body")
    parser.add_argument("--token", help="bearer API key")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--vary", type=int, default=0, help="open loop: {n} in the URL cycles through 0..N-1")
    shape = parser.add_mutually_exclusive_group(required=True)
    shape.add_argument("--concurrency", type=int)
    shape.add_argument("--rate", type=float)
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    if args.concurrency:
        result = closed_loop(args.method, args.url, args.body, args.concurrency, args.duration, headers)
    else:
        result = open_loop(args.method, args.url, args.body, args.rate, args.duration, headers, args.vary)
    print(json.dumps(asyncio.run(result)))


if __name__ == "__main__":
    main()
