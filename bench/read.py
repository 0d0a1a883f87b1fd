"""The read path's latency: the read model and the HTTP API against the same query run directly on DuckDB.

The bench builds a DuckDB warehouse of ``series`` x a year of quarter-hours x ``vintages`` issues (the issue's
target, 1,000 series, is 105 million rows; ``python -m bench.read --series 100`` builds a tenth), in SQL in one
transaction, then times, each ``REPEATS`` times, in the same run:

* (a) one series-year as of a moment (the middle vintage in force);
* (b) 50 series x one month, wide;
* (c) a 24-hour staircase of one series over the year;

each three ways: the SQL the read runs, straight on DuckDB; the read model (``MarketData``) on the same file; and
the HTTP API (``/v1/series/values``, ``/v1/instances/staircase``, Arrow on the wire) served by uvicorn in this
process, called sequentially. The ratio API / direct is the API's overhead.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import uvicorn

from bench.report import markdown_table, publish
from scalar_ray.core.window import Window
from scalar_ray.marketdata import MarketData, SeriesRequest
from scalar_ray.serving.api import build_api
from scalar_ray.warehouse.duckdb import DuckDBWarehouse

REPEATS = 30
YEAR = Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
QUARTERS = 365 * 96


def build(path: Path, series: int, vintages: int) -> tuple[int, float]:
    """Fill the warehouse in SQL, one transaction; the row count and seconds taken."""
    warehouse = DuckDBWarehouse(path)
    warehouse.close()
    started = time.perf_counter()
    import duckdb  # noqa: PLC0415 - the bench writes the file directly, as a bulk load would

    connection = duckdb.connect(str(path))
    connection.execute("set TimeZone = 'UTC'")
    connection.execute(
        f"""insert into series select 'bench/load/Z' || s || '/power', 'bench', 'load', 'Z' || s, 'power', 'MW', 'PT15M'
            from range({series}) t(s)"""  # noqa: S608 - integers of the bench
    )
    connection.execute(
        f"""insert into observations (series_id, ts, issued_at, value)
            select 'bench/load/Z' || s || '/power',
                   timestamptz '2025-01-01 00:00:00+00' + to_minutes(q * 15),
                   timestamptz '2025-01-01 00:00:00+00' + to_minutes(q * 15) - to_hours(48 - v * 24),
                   (s * 7 + q % 96) + v
            from range({series}) a(s), range({QUARTERS}) b(q), range({vintages}) c(v)"""  # noqa: S608
    )
    rows = connection.execute("select count(*) from observations").fetchall()[0][0]
    connection.close()
    return int(rows), time.perf_counter() - started


def timed(call: Callable[[], Any]) -> dict[str, float]:
    call()  # warm
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))]}


def serve(app: Any) -> tuple[str, uvicorn.Server, threading.Thread]:
    import socket  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop="asyncio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def main(series: int = 1000, vintages: int = 3) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-read-"))
    path = folder / "read.duckdb"
    rows, build_s = build(path, series, vintages)
    warehouse = DuckDBWarehouse(path)
    market = MarketData(warehouse)
    one = "bench/load/Z0/power"
    fifty = [f"bench/load/Z{n}/power" for n in range(min(50, series))]
    month = Window(datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
    as_of = datetime(2025, 7, 1, tzinfo=UTC)
    lead = timedelta(hours=24)
    sql_a = f"""select series_id, ts, value, issued_at from observations
        where series_id = '{one}' and ts >= '2025-01-01' and ts < '2026-01-01' and issued_at <= '{as_of.isoformat()}'
        qualify row_number() over (partition by series_id, ts order by issued_at desc) = 1 order by ts"""  # noqa: S608
    ids = ", ".join(f"'{sid}'" for sid in fifty)
    sql_b = f"""select * from (pivot (select series_id, ts, value from observations where series_id in ({ids})
        and ts >= '2025-06-01' and ts < '2025-07-01'
        qualify row_number() over (partition by series_id, ts order by issued_at desc) = 1)
        on series_id using first(value)) order by ts"""  # noqa: S608
    sql_c = f"""select series_id, ts, value, issued_at from observations
        where series_id = '{one}' and ts >= '2025-01-01' and ts < '2026-01-01' and issued_at <= ts - interval 24 hour
        qualify row_number() over (partition by series_id, ts order by issued_at desc) = 1 order by ts"""  # noqa: S608

    connection = warehouse._connection  # straight on DuckDB: the connection the read model uses

    def query(sql: str) -> Any:
        return connection.sql(sql).to_arrow_table()

    api = build_api(None, None, market=market)  # type: ignore[arg-type]  # the forecast backend is not called
    url, server, thread = serve(api)
    client = httpx.Client(base_url=url, timeout=60)
    arrow = {"format": "arrow"}

    def http(path_: str, params: dict[str, Any]) -> None:
        client.get(path_, params={**params, **arrow}).raise_for_status()

    year = {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    cases = [
        (
            "(a) one series-year as of a moment",
            lambda: query(sql_a),
            lambda: market.series(SeriesRequest((one,), YEAR, as_of=as_of)),
            lambda: http("/v1/series/values", {"id": one, "as_of": "2025-07-01T00:00:00Z", **year}),
        ),
        (
            "(b) 50 series x one month, wide",
            lambda: query(sql_b),
            lambda: market.series(SeriesRequest(tuple(fifty), month)).wide(),
            lambda: http(
                "/v1/series/values",
                {"id": fifty, "layout": "wide", "start": "2025-06-01T00:00:00Z", "end": "2025-07-01T00:00:00Z"},
            ),
        ),
        (
            "(c) 24-hour staircase over a year",
            lambda: query(sql_c),
            lambda: market.staircase([one], YEAR, lead),
            lambda: http("/v1/instances/staircase", {"id": one, "lead": "P1D", **year}),
        ),
    ]
    results = []
    for title, raw, library, through_api in cases:
        d, m, h = timed(raw), timed(library), timed(through_api)
        results.append(
            {
                "query": title,
                "direct DuckDB p50 / p99 ms": f"{d['p50_ms']:.0f} / {d['p99_ms']:.0f}",
                "read model p50 / p99 ms": f"{m['p50_ms']:.0f} / {m['p99_ms']:.0f}",
                "HTTP API p50 / p99 ms": f"{h['p50_ms']:.0f} / {h['p99_ms']:.0f}",
                "API / direct (p50)": f"{h['p50_ms'] / d['p50_ms']:.2f}x",
                "raw": {"direct": d, "model": m, "api": h},
            }
        )
    server.should_exit = True
    thread.join(timeout=10)
    rss_gib = psutil.Process().memory_info().rss / 2**30
    size_gib = path.stat().st_size / 2**30
    warehouse.close()
    columns = [
        "query",
        "direct DuckDB p50 / p99 ms",
        "read model p50 / p99 ms",
        "HTTP API p50 / p99 ms",
        "API / direct (p50)",
    ]
    body = (
        f"{rows:,} observation rows ({series} series x a year of quarter-hours x {vintages} vintages), built in SQL "
        f"in one transaction in {build_s:.0f} s; file {size_gib:.1f} GiB; this process (bench, warehouse and API) "
        f"{rss_gib:.1f} GiB RSS after the run. {REPEATS} sequential calls per cell after one warm-up; the API is "
        "uvicorn in this process, answering Arrow IPC.\n\n"
        + markdown_table(results, columns)
        + "\n\nNot measured here yet: (a) at 100 requests/s from a separate process, and (d) SSE latency from commit "
        "to client at this scale (the end-to-end test asserts under a second on a small feed)."
    )
    publish(
        "read",
        "Read path: the read model and the API against direct DuckDB (bench/read.py)",
        body,
        {"rows": rows, "build_s": build_s, "file_gib": size_gib, "rss_gib": rss_gib, "results": results},
    )
    print(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000, help="series in the warehouse (1,000: 105 million rows)")
    parser.add_argument("--vintages", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.series, arguments.vintages)
