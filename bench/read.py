"""The read path at scale: the read model and the HTTP API against the same query run directly on DuckDB.

The bench builds a DuckDB warehouse of ``series`` x a year of quarter-hours x ``vintages`` issues (default 1,000
series: 105 million rows), written in arrival order (issue by issue, every series interleaved, as ingestion appends)
through the warehouse's own layout, then clusters it with the warehouse's compaction. In the same run it times:

* the layout: one series-year straight on DuckDB in arrival order, then clustered, on the series key and on the id
  alone (DuckDB prunes row groups on an integer key, not on a long string's 8-byte prefix);
* writes on the full table: a day's new issue for every series, its re-delivery, and the compaction after it (one
  month re-clustered, what the hourly job costs); a catalogue search;
* (a) one series-year as of a moment, (b) 50 series x one month wide, (c) a 24-hour staircase over a year: each
  straight on DuckDB (the SQL the adapter runs), through the read model (``MarketData``) and through the HTTP API
  (uvicorn in this process, Arrow on the wire, sequential calls);
* (a) at 100 requests/s from a separate process (``bench.loadgen``, open loop: latency from the scheduled start),
  each request a different series;
* (d) push latency: a batch committed to the full warehouse, its changes published as ingestion does, to a client
  following ``/v1/stream`` over a real Redis stream.

``python -m bench.read --series 100`` builds a tenth, in about a minute.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import uvicorn

from bench.report import markdown_table, publish
from scalar_ray.config import load_settings
from scalar_ray.core.window import Window
from scalar_ray.feed import change_events
from scalar_ray.feed.redis import RedisChangeFeed
from scalar_ray.local import RedisServer
from scalar_ray.marketdata import CatalogueQuery, MarketData, SeriesRequest
from scalar_ray.serving.api import build_api
from scalar_ray.warehouse.duckdb import DuckDBWarehouse
from scalar_ray.warehouse.duckdb_layout import recount_series
from scalar_ray.warehouse.series_keys import SeriesSelection, series_key

REPEATS = 30
RATE, RATE_S = 100.0, 20.0
PUSHES = 40
MEMORY_LIMIT = "4GB"  # the platform's default
YEAR = Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
QUARTERS_PER_DAY = 96


def peak_rss_gib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def series_name(number: int) -> str:
    return f"bench/load/Z{number}/power"


def build(warehouse: DuckDBWarehouse, series: int, vintages: int) -> float:
    """Fill the warehouse in SQL, a month of issues per transaction, in arrival order; the seconds taken.

    Vintage ``v`` of an interval is issued ``48 - 24 v`` hours before it: a two-day-ahead forecast, its revision a day
    later, and the value measured at delivery.
    """
    connection = warehouse._connection  # a bulk load, as a backfill would write it
    names = pa.table(
        {
            "s": pa.array(range(series), pa.int64()),
            "series_id": [series_name(n) for n in range(series)],
            "series_key": pa.array([series_key(series_name(n)) for n in range(series)], pa.int64()),
        }
    )
    connection.register("bench_series", names)
    connection.execute(
        """insert into series (series_id, provider, dataset, area, variable, unit, resolution, series_key)
        select series_id, 'bench', 'load', 'Z' || s, 'power', 'MW', 'PT15M', series_key from bench_series"""
    )
    started = time.perf_counter()
    for month in range(12):
        first = datetime(2025, month + 1, 1, tzinfo=UTC)
        after = datetime(2026, 1, 1, tzinfo=UTC) if month == 11 else datetime(2025, month + 2, 1, tzinfo=UTC)
        quarters = int((after - first).total_seconds() // 900)
        connection.execute(
            f"""insert into observations (series_key, series_id, ts, issued_at, value)
                select n.series_key, n.series_id, ts, ts - to_hours(48 - v * 24) as issued_at,
                       (n.s * 7 + q % 96) + v
                from bench_series n,
                     (select q, timestamptz '{first.isoformat()}' + to_minutes(q * 15) as ts
                      from range({quarters}) t(q)),
                     range({vintages}) c(v)
                order by issued_at, n.series_key"""  # noqa: S608 - integers and dates of the bench
        )
    recount_series(connection)  # a bulk load in SQL bypasses the writes that keep the catalogue's counts
    connection.execute("checkpoint")
    connection.unregister("bench_series")
    return time.perf_counter() - started


def timed(call: Callable[[], Any], repeats: int = REPEATS) -> dict[str, float]:
    call()  # warm
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))]}


def once(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


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


def day_issue(series: int, day: datetime, issued_at: datetime) -> pa.Table:
    """A new issue of one day for every series, in the canonical schema (what one ingestion batch carries)."""
    ids = [series_name(n) for n in range(series) for _ in range(QUARTERS_PER_DAY)]
    stamps = [day + timedelta(minutes=15 * q) for _ in range(series) for q in range(QUARTERS_PER_DAY)]
    areas = [f"Z{n}" for n in range(series) for _ in range(QUARTERS_PER_DAY)]
    rows = len(ids)
    return pa.table(
        {
            "series_id": ids,
            "provider": ["bench"] * rows,
            "dataset": ["load"] * rows,
            "area": areas,
            "variable": ["power"] * rows,
            "ts": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "issued_at": pa.array([issued_at] * rows, pa.timestamp("us", tz="UTC")),
            "value": pa.array([1.0] * rows, pa.float64()),
            "unit": ["MW"] * rows,
            "resolution": ["PT15M"] * rows,
        }
    )


def layout_figures(warehouse: DuckDBWarehouse, one: str, label: str) -> dict[str, str]:
    """One series-year straight on DuckDB: filtered on the series key (what the adapter does) and on the id alone."""
    base = """select series_id, ts, arg_max(value, issued_at) as value, max(issued_at) as issued_at
        from observations where {filter} and ts >= '2025-01-01' and ts < '2026-01-01'
        group by series_id, ts order by ts"""
    keyed = base.format(filter=f"{SeriesSelection.of([one]).where} and series_id = '{one}'")
    by_id = base.format(filter=f"series_id = '{one}'")
    cursor = warehouse._cursor()
    on_key = timed(lambda: cursor.sql(keyed).to_arrow_table(), 10)
    on_id = timed(lambda: cursor.sql(by_id).to_arrow_table(), 10)
    return {
        "rows stored": label,
        "series key + id p50 ms": f"{on_key['p50_ms']:.0f}",
        "id alone p50 ms": f"{on_id['p50_ms']:.0f}",
    }


def push_latency(warehouse: DuckDBWarehouse, market: MarketData, scratch: Path, series: int) -> dict[str, float]:
    """Commit → client over Server-Sent Events through a real Redis stream, ``PUSHES`` single-series batches."""
    settings = load_settings(
        {"SCALAR_LOCAL__DATA_DIR": str(scratch / "redis"), "SCALAR_CACHE__URL": f"redis://127.0.0.1:{_port()}/0"}
    )
    redis_server = RedisServer(settings)
    redis_server.start()
    redis_server.wait_ready()
    feed = RedisChangeFeed(settings.cache.url, key=f"bench:{uuid.uuid4().hex[:8]}")
    url, server, thread = serve(build_api(None, None, market=market, feed=feed))  # type: ignore[arg-type]
    received: dict[str, float] = {}

    def follow() -> None:
        params = {"max_events": PUSHES, "id": series_name(series - 1)}
        with httpx.stream("GET", f"{url}/v1/stream", params=params, timeout=120) as answer:
            for line in answer.iter_lines():
                if line.startswith("data: "):
                    received[json.loads(line[6:])["issued_at"]] = time.time()

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    time.sleep(1.0)  # subscribed
    committed: dict[str, float] = {}
    try:
        for push in range(PUSHES):
            issued = datetime(2025, 12, 31, tzinfo=UTC) + timedelta(minutes=push)
            batch = day_issue(series, datetime(2025, 12, 31, tzinfo=UTC), issued).slice(
                (series - 1) * QUARTERS_PER_DAY, QUARTERS_PER_DAY
            )
            warehouse.write(batch)
            committed[issued.isoformat().replace("+00:00", "Z")] = time.time()
            feed.publish(change_events(batch))  # what the ingestion worker does after the commit
            time.sleep(0.1)
        follower.join(timeout=30)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        feed.close()
        redis_server.stop()
    latencies = sorted((received[key] - committed[key]) * 1000 for key in committed if key in received)
    return {
        "received": len(latencies),
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan"),
    }


def _port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(series: int = 1000, vintages: int = 3) -> None:  # noqa: PLR0915 - one bench, read top to bottom
    folder = Path(tempfile.mkdtemp(prefix="bench-read-"))
    path = folder / "read.duckdb"
    warehouse = DuckDBWarehouse(path, memory_limit=MEMORY_LIMIT)
    build_s = build(warehouse, series, vintages)
    rows = warehouse.count()
    build_rss = peak_rss_gib()
    one = series_name(0)
    print(f"built {rows:,} rows in {build_s:.0f} s, peak {build_rss:.1f} GiB", flush=True)

    layout = [layout_figures(warehouse, one, "in arrival order")]
    started = time.perf_counter()
    warehouse.compact(datetime(2024, 1, 1, tzinfo=UTC))
    cluster_all_s = time.perf_counter() - started
    months_clustered = len(warehouse.clustered)
    layout.append(layout_figures(warehouse, one, "clustered by compaction"))
    print(f"clustered {months_clustered} months in {cluster_all_s:.0f} s; {layout}", flush=True)

    issue = day_issue(series, datetime(2025, 12, 30, tzinfo=UTC), datetime(2025, 12, 29, 12, 30, tzinfo=UTC))
    writes = {
        "new issue": once(lambda: warehouse.write(issue)),
        "re-delivered": once(lambda: warehouse.write(issue)),
    }
    started = time.perf_counter()
    warehouse.compact(datetime(2024, 1, 1, tzinfo=UTC))
    writes["compaction after it"] = (time.perf_counter() - started) * 1000
    print(f"writes of {issue.num_rows:,} rows: {writes}", flush=True)

    market = MarketData(warehouse)
    catalogue = timed(lambda: market.search(CatalogueQuery(text="Z7")), 10)
    print(f"catalogue search: {catalogue}", flush=True)
    fifty = [series_name(n) for n in range(min(50, series))]
    month = Window(datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
    as_of = datetime(2025, 7, 1, tzinfo=UTC)
    # The SQL the adapter runs (series by key, rows keyed; it names them in Arrow afterwards).
    key_one = SeriesSelection.of([one]).where
    sql_a = f"""select series_key, ts, arg_max(value, issued_at) as value, max(issued_at) as issued_at
        from observations where {key_one} and ts >= '2025-01-01' and ts < '2026-01-01'
        and issued_at <= '{as_of.isoformat()}' group by series_key, ts order by ts"""  # noqa: S608
    sql_b = f"""select * from (pivot (select series_key, ts, arg_max(value, issued_at) as value from observations
        where {SeriesSelection.of(fifty).where} and ts >= '2025-06-01' and ts < '2025-07-01'
        group by series_key, ts) on series_key using first(value)) order by ts"""  # noqa: S608
    sql_c = f"""select series_key, ts, arg_max(value, issued_at) as value, max(issued_at) as issued_at
        from observations where {key_one} and ts >= '2025-01-01' and ts < '2026-01-01'
        and issued_at <= ts - interval 24 hour group by series_key, ts order by ts"""  # noqa: S608
    cursor = warehouse._cursor()  # straight on DuckDB: the connection the read model's thread uses

    api = build_api(None, None, market=market)  # type: ignore[arg-type]  # the forecast backend is not called
    url, server, thread = serve(api)
    client = httpx.Client(base_url=url, timeout=60)
    arrow = {"format": "arrow"}

    def http(path_: str, params: dict[str, Any]) -> None:
        client.get(path_, params={**params, **arrow}).raise_for_status()

    year = {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    query_a = {"id": one, "as_of": "2025-07-01T00:00:00Z", **year}
    cases = [
        (
            "(a) one series-year as of a moment",
            lambda: cursor.sql(sql_a).to_arrow_table(),
            lambda: market.series(SeriesRequest((one,), YEAR, as_of=as_of)),
            lambda: http("/v1/series/values", query_a),
        ),
        (
            "(b) 50 series x one month, wide",
            lambda: cursor.sql(sql_b).to_arrow_table(),
            lambda: market.series(SeriesRequest(tuple(fifty), month)).wide(),
            lambda: http(
                "/v1/series/values",
                {"id": fifty, "layout": "wide", "start": "2025-06-01T00:00:00Z", "end": "2025-07-01T00:00:00Z"},
            ),
        ),
        (
            "(c) 24-hour staircase over a year",
            lambda: cursor.sql(sql_c).to_arrow_table(),
            lambda: market.staircase([one], YEAR, timedelta(hours=24)),
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
        print(results[-1]["query"], results[-1]["raw"], flush=True)

    # Each request a different series (cycling through all of them), each a series-year as of mid-year. DuckDB keeps
    # its default threads: one thread per query (requests in parallel instead) measured worse on 2 cores, 82/s served
    # with p50 2.3 s against 97/s with p50 83 ms, as each query then runs serially behind the others.
    target = str(httpx.URL(url + "/v1/series/values", params={**query_a, "id": series_name(999_999), **arrow}))
    target = target.replace("999999", "{n}")
    command = [sys.executable, "-m", "bench.loadgen", target, "--rate", str(RATE), "--duration", str(RATE_S)]
    command += ["--vary", str(series)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    at_rate = {"DuckDB default threads": json.loads(output.strip().splitlines()[-1])}
    print(f"(a) at {RATE:.0f}/s: {at_rate}", flush=True)
    server.should_exit = True
    thread.join(timeout=10)

    push = push_latency(warehouse, market, folder, series)
    print(f"(d) push: {push}", flush=True)
    peak = peak_rss_gib()
    size_gib = path.stat().st_size / 2**30
    warehouse.close()

    columns = ["query", "direct DuckDB p50 / p99 ms", "read model p50 / p99 ms", "HTTP API p50 / p99 ms"]
    columns.append("API / direct (p50)")
    write_rows = [{"write": name, "ms": f"{ms:,.0f}"} for name, ms in writes.items()]
    body = (
        f"{rows:,} observation rows ({series:,} series x a year of quarter-hours x {vintages} vintages, and the "
        f"writes below), bulk-loaded in arrival order in {build_s:.0f} s (a month of issues per transaction), then "
        f"clustered by the warehouse's compaction in {cluster_all_s:.0f} s (all {months_clustered} "
        f"months); file {size_gib:.1f} GiB. DuckDB memory limit {MEMORY_LIMIT}: this process (bench, warehouse and "
        f"API) peaked at {build_rss:.1f} GiB resident while building and {peak:.1f} GiB over the whole run. "
        f"{REPEATS} sequential calls per cell after one warm-up; the API is uvicorn in this process, answering Arrow "
        "IPC.\n\n"
        + markdown_table(results, columns)
        + f"\n\n**(a) at {RATE:.0f} requests/s** from a separate process (open loop, {RATE_S:.0f} s, latency from "
        f"each request's scheduled start, each request another of the {series:,} series):\n\n"
        + markdown_table(
            [{"setting": name, **figures} for name, figures in at_rate.items()],
            ["setting", "requests", "errors", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms"],
        )
        + "\n"
        f"\n\n**(d) push**, commit to client over `/v1/stream` through a real Redis stream, {PUSHES} single-series "
        f"batches committed to the full warehouse: {push['received']} received, p50 {push['p50_ms']:.1f} ms, "
        f"p99 {push['p99_ms']:.1f} ms.\n\n"
        "**Layout**, one series-year straight on DuckDB in the same run (p50 of 10):\n\n"
        + markdown_table(layout, ["rows stored", "series key + id p50 ms", "id alone p50 ms"])
        + f"\n\n**Catalogue search** (free text, {series:,} series, their intervals, last issue, vintages and rows): "
        f"p50 {catalogue['p50_ms']:.1f} ms, p99 {catalogue['p99_ms']:.1f} ms; the writes keep what it shows.\n\n"
        + f"**Writes on the full table**, one batch of {issue.num_rows:,} rows (a day's new issue of every "
        "series):\n\n" + markdown_table(write_rows, ["write", "ms"])
    )
    publish(
        "read",
        "Read path: the read model and the API against direct DuckDB at scale (bench/read.py)",
        body,
        {
            "rows": rows,
            "build_s": build_s,
            "cluster_all_s": cluster_all_s,
            "file_gib": size_gib,
            "build_peak_gib": build_rss,
            "peak_gib": peak,
            "results": results,
            "at_rate": at_rate,
            "push": push,
            "layout": layout,
            "writes_ms": writes,
            "catalogue": catalogue,
        },
    )
    print(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000, help="series in the warehouse (1,000: 105 million rows)")
    parser.add_argument("--vintages", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.series, arguments.vintages)
