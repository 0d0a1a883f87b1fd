"""`scalar-ray platform start|stop`, `status`, `query` and `demo`: the running platform from the shell.

These commands drive the Ray layer (``actors/``, ``jobs/``), so they import it when they run, never at start-up.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx

from scalar_ray.config import Settings
from scalar_ray.local import LocalStack
from scalar_ray.local.ray_head import use_ray_token
from scalar_ray.ray_output import TerminalFilter, run_job
from scalar_ray.status import IngestionStatus
from scalar_ray.status_text import render_status

__all__ = ["add_platform_commands", "submit_job"]

EXIT_OK, EXIT_UNHEALTHY = 0, 1

# What `demo` acquires: every provider, a handful of areas, so a 2-core machine keeps up and the output stays short.
DEMO_AREAS = "DK1,DK2,SE3,BE,DK,CORE,NORDIC,DK1>DE-LU,IF1-FR-GB"
DEMO_HISTORY = (
    "entsoe/A44,entsoe/A65-actual,entsoe/A65-forecast,entsoe/A75,entsoe/A85,energinet/ElectricityProdex5MinRealtime,"
    "meteologica/demand_forecast,meteologica/wind_power_forecast,meteologica/solar_power_forecast",
    "DK1,DK2",
    "P7D",
)
# What the demo's last step reads through the client.
DEMO_PRICE = "entsoe/A44/DK1/price"
# What `demo` trains and forecasts: the Danish families (four models), so training takes a minute, not ten.
DEMO_FAMILIES = "dk_demand,dk_dayahead"


def add_platform_commands(commands: Any) -> None:
    """Register the commands on the CLI's subparsers."""
    platform = commands.add_parser("platform", help="start or stop the platform's actors on the Ray cluster")
    actions = platform.add_subparsers(title="platform commands", metavar="ACTION")
    actions.add_parser("start", help="start acquisition, ingestion and warehouse actors").set_defaults(
        handler=_platform_start
    )
    actions.add_parser("stop", help="stop them (ingestion writes what it holds first)").set_defaults(
        handler=_platform_stop
    )
    status = commands.add_parser("status", help="the operator's checklist: services, actors, backlog, dead letters")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_status)
    query = commands.add_parser("query", help="run one read-only SQL statement on the warehouse")
    query.add_argument("sql", help='a SELECT statement, e.g. "select count(*) from observations"')
    query.add_argument("--json", action="store_true", help="rows as JSON objects")
    query.set_defaults(handler=_query)
    demo = commands.add_parser("demo", help="local stack, actors, a backfill, then live ingestion with a report")
    demo.add_argument("--live", type=float, default=90.0, help="seconds of live ingestion to watch (default 90)")
    demo.add_argument("--history", default=DEMO_HISTORY[2], help="backfill depth, ISO-8601 (default P7D)")
    demo.set_defaults(handler=_demo)


def _platform_start(settings: Settings, _: argparse.Namespace) -> int:
    use_ray_token(settings)
    from actors.cluster import connect
    from actors.supervisor import start_platform

    connect(settings)
    actors = start_platform(settings)
    names = [*actors.acquisition, *actors.ingestion] + (["warehouse"] if actors.warehouse else [])
    names += ["forecasting"] if actors.forecasting else []
    print(f"started: {', '.join(names)}")
    return EXIT_OK


def _platform_stop(settings: Settings, _: argparse.Namespace) -> int:
    use_ray_token(settings)
    from actors.cluster import connect
    from actors.supervisor import stop_platform

    connect(settings)
    stopped = stop_platform(settings)
    print(f"stopped: {', '.join(stopped)}" if stopped else "no platform actors were running")
    return EXIT_OK


def _status(settings: Settings, args: argparse.Namespace) -> int:
    use_ray_token(settings)
    from actors.cluster import connect
    from scalar_ray.operations import platform_status
    from scalar_ray.serving.ray_serve import api_status

    services = LocalStack(settings).status()
    connect(settings)
    report = dataclasses.replace(platform_status(settings), api=api_status())
    if args.json:
        services_up = [s.name for s in services if s.healthy]
        print(json.dumps({"services": services_up, **dataclasses.asdict(report)}, indent=2, default=str))
    else:
        print(render_status(report))
    alive = all(actor.state == "ALIVE" for actor in report.actors) and bool(report.actors)
    return EXIT_OK if alive else EXIT_UNHEALTHY


def _query(settings: Settings, args: argparse.Namespace) -> int:
    use_ray_token(settings)
    from actors.cluster import connect
    from actors.warehouse import ensure_warehouse_actor
    from scalar_ray.composition import worker_warehouse

    connect(settings)
    if settings.warehouse.kind == "duckdb":
        ensure_warehouse_actor(settings)  # the file's one owner; queries go through it
    table = worker_warehouse(settings).query(args.sql)
    if args.json:
        print(json.dumps(table.to_pylist(), default=str))
    else:
        print(table.to_pandas().to_string(index=False))
    return EXIT_OK


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    logs = settings.data_dir / "logs"
    _keep_the_terminal_for_the_steps(logs / "demo.log")
    print("1/8 local stack: Pulsar, Redis, Ray head, DuckDB, provider simulator", flush=True)
    statuses = LocalStack(settings).up()
    if not all(status.healthy for status in statuses):
        return EXIT_UNHEALTHY
    use_ray_token(settings)  # the head made the token if there was none
    from actors.cluster import connect
    from actors.supervisor import start_platform
    from scalar_ray.operations import platform_status
    from scalar_ray.warehouse.remote import RemoteWarehouse

    demo_settings = settings if settings.acquisition.areas else _with_areas(settings, DEMO_AREAS)
    if settings.forecasting.families is None:
        forecasting = demo_settings.forecasting.model_copy(update={"families": DEMO_FAMILIES.split(",")})
        demo_settings = demo_settings.model_copy(update={"forecasting": forecasting})
    connect(demo_settings)
    print("2/8 actors: warehouse, ingestion replicas, one acquisition actor per provider, forecasting", flush=True)
    actors = start_platform(demo_settings)
    print(f"    {len(actors.acquisition)} acquisition, {len(actors.ingestion)} ingestion actors", flush=True)
    datasets, areas, _ = DEMO_HISTORY
    print(f"3/8 backfill {args.history} of {datasets} ({areas}) with `ray job submit`", flush=True)
    backfill = submit_job(
        demo_settings, "jobs.backfill", "--datasets", datasets, "--areas", areas, "--last", args.history, indent="    "
    )
    if backfill != 0:
        print("    the backfill reported failed windows (see above); live ingestion goes on", flush=True)
    print(f"4/8 train the Danish models ({DEMO_FAMILIES}) with `ray job submit`", flush=True)
    families = ",".join(demo_settings.forecasting.families or DEMO_FAMILIES.split(","))
    training = ("--families", families, "--zones", "DK1,DK2", "--time-limit", "30")
    if submit_job(demo_settings, "jobs.train", *training, indent="    ") != 0:
        print("    some models failed (see the summary above); the others forecast", flush=True)
    print(f"5/8 live: acquisition on schedule, ingestion into the warehouse ({args.live:.0f} s)", flush=True)
    warehouse = RemoteWarehouse(demo_settings.ray.namespace)
    deadline = time.monotonic() + args.live
    while time.monotonic() < deadline:
        time.sleep(min(15.0, max(0.0, deadline - time.monotonic())))
        report = platform_status(demo_settings)
        replicas = [r.detail for r in report.reports(IngestionStatus).values() if isinstance(r.detail, IngestionStatus)]
        rows = sum(replica.rows_written for replica in replicas)
        p99 = max((replica.freshness_p99_ms or 0 for replica in replicas), default=0)
        backlog = sum(entry.backlog for entry in report.broker.backlog.values())
        print(
            f"    {datetime.now(UTC):%H:%M:%S} warehouse {warehouse.count():,} rows; live ingestion {rows:,} rows, "
            f"backlog {backlog}, p99 freshness (last 5 min) {p99:.0f} ms",
            flush=True,
        )
    print("6/8 what is in the warehouse", flush=True)
    for title, sql in SAMPLE_QUERIES:
        print(f"\n-- {title}\n{sql.strip()}")
        print(warehouse.query(sql).to_pandas().to_string(index=False))
    print("\n7/8 the forecast API (Ray Serve): `scalar-ray serve`", flush=True)
    url = show_forecast_api(demo_settings)
    print("\n8/8 market data through the client (scalar_ray.client): DK1 prices and the price forecast's staircase")
    show_market_data(demo_settings, url)
    print(f"\nThe explorer, on the same API: {explorer_link(url)} (the DK1 price chart; search and overlay there)")
    print(
        f"The actors and the API keep running: watch them at {_dashboard(settings)} (Actors, Serve), "
        f"`scalar-ray status` for the checklist, {url}/docs for the API, `scalar-ray platform stop` or `make down` "
        "to stop."
    )
    print(
        f"Logs: this run's in {logs / 'demo.log'}, the jobs' (Ray's lines included) in {logs / 'jobs'}, "
        f"the services' in {logs}, Ray's own in {settings.ray.temp_dir}/session_latest/logs."
    )
    return EXIT_OK


def explorer_link(api_url: str) -> str:
    """The explorer showing the demo's DK1 prices hourly in Copenhagen time (the README's link, at this API)."""
    view = {"id": DEMO_PRICE, "tz": "Europe/Copenhagen", "frequency": "PT1H"}
    return f"{api_url}/explorer?{urlencode(view, safe='/')}"


def show_market_data(settings: Settings, url: str) -> None:
    """DK1 day-ahead prices hourly in Copenhagen time, and the DK1 price forecast as it stood an hour ahead."""
    from scalar_ray.client import ClientError, MarketDataClient

    copenhagen = ZoneInfo("Europe/Copenhagen")
    today = datetime.now(copenhagen).replace(hour=0, minute=0, second=0, microsecond=0)
    key = settings.serve.api_keys[0].get_secret_value() if settings.serve.api_keys else None
    with MarketDataClient(url, key) as client:
        try:
            prices = client.series(
                [DEMO_PRICE], today - timedelta(days=1), today + timedelta(days=2), tz="Europe/Copenhagen",
                frequency="PT1H",
            )  # fmt: skip
            unit = prices.meta["series"][0]["unit"]
            print(f"    {DEMO_PRICE}, hourly mean in {unit}, Copenhagen time (last 6 of {prices.table.num_rows}):")
            print(textwrap.indent(prices.to_pandas()[["value", "count", "expected"]].tail(6).to_string(), "      "))
            # The day-ahead model forecasts the day after the one already auctioned: today's run covers the day
            # after tomorrow, so the window reaches three days out.
            stairs = client.forecast_staircase(
                "dk_dayahead", "DK1", today, today + timedelta(days=3), lead="PT1H", tz="Europe/Copenhagen"
            )
            frame = stairs.to_pandas()
            print(f"    dk_dayahead/DK1 staircase, lead 1 h ({len(frame)} values; first 6):")
            columns = [name for name in ("target", "model_version", "issued_at", "mean", "q10", "q90") if name in frame]
            print(textwrap.indent(frame[columns].head(6).to_string(), "      "))
        except ClientError as exc:
            print(f"    the read API answered {exc}")


def _keep_the_terminal_for_the_steps(path: Path) -> None:
    """The terminal shows the demo's steps and figures; log records and Ray's own lines go to ``path``.

    Ray's drivers print its raylet's warnings to stdout and Serve logs to stderr, from their own threads: both
    streams pass through a ``TerminalFilter`` for the rest of the process. The CLI's log records go to the file,
    and warnings to the terminal as well.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    log = path.open("a", encoding="utf-8")  # open for the process's life: Ray's threads write to it until exit
    sys.stdout, sys.stderr = TerminalFilter(sys.stdout, log), TerminalFilter(sys.stderr, log)
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setLevel(max(handler.level, logging.WARNING))
    to_file = logging.StreamHandler(log)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(to_file)


def show_forecast_api(settings: Settings) -> str:
    """Deploy the API, then call it as a user would: the models, the latest DK1 day-ahead forecast, a prediction."""
    from commands.api import deploy_api

    url = deploy_api(settings)
    print(f"    deployed at {url}", flush=True)
    headers = {}
    if settings.serve.api_keys:
        headers["Authorization"] = f"Bearer {settings.serve.api_keys[0].get_secret_value()}"
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        models = client.get("/v1/models").json()
        champions = [f"{m['model']} {m['champion']['version']}" for m in models if m.get("champion")]
        print(f"    GET /v1/models: {len(models)} models, champions: {', '.join(champions) or 'none yet'}")
        latest = "/v1/forecasts/dk_dayahead/DK1/latest?horizon=PT2H"
        deadline = time.monotonic() + 120
        while client.get(latest).status_code == 404 and time.monotonic() < deadline:  # noqa: PLR2004 - not found
            time.sleep(5)  # the forecasting actor publishes a new champion's first forecast within a minute or two
        for label, method, path in (
            ("", "GET", latest),
            ("first call loads the model: ", "POST", "/v1/forecasts/dk_demand/DK1/predict"),
            ("again, model warm: ", "POST", "/v1/forecasts/dk_demand/DK1/predict"),
        ):
            started = time.monotonic()
            response = client.request(method, path, json={"horizon": "PT1H"} if method == "POST" else None)
            elapsed_ms = (time.monotonic() - started) * 1000
            print(f"    {method} {path}: HTTP {response.status_code}, {label}{elapsed_ms:.0f} ms")
            if label != "again, model warm: ":
                print(textwrap.indent(_forecast_lines(response), "      "))
    return url


def _forecast_lines(response: httpx.Response) -> str:
    body = response.json()
    if response.status_code != 200:  # noqa: PLR2004 - HTTP OK
        return json.dumps(body)
    lines = [f"issued {body['issue_time']} ({body['source']}, version {body['model_version'] or 'stored'})"]
    for target in body["targets"]:
        for ts, q10, q50, q90 in list(zip(target["ts"], target["q10"], target["q50"], target["q90"], strict=True))[:4]:
            lines.append(f"{target['target']} {ts}: {q50:8.2f} {target['unit']} (q10 {q10:.2f}, q90 {q90:.2f})")
    return "\n".join(lines)


SAMPLE_QUERIES = (
    (
        "rows and series per provider",
        """select s.provider, count(distinct o.series_id) as series, count(*) as rows, max(o.ts) as latest_interval
           from observations o join series s using (series_id) group by s.provider order by s.provider""",
    ),
    (
        "DK1 day-ahead price, last 8 quarter-hours known (latest vintage)",
        """select ts, value as eur_per_mwh, issued_at from observations
           where series_id = 'entsoe/A44/DK1/price' and ts <= now()
           qualify row_number() over (partition by ts order by issued_at desc) = 1
           order by ts desc limit 8""",
    ),
    (
        "DK1 day-ahead price forecast (scalar-ray's champion model), latest issue, first 8 quarter-hours",
        """select ts, q10, q50, q90, model_version, issued_at from forecasts
           where family = 'dk_dayahead' and zone = 'DK1' and target = 'entsoe/A44/DK1/price'
             and issued_at = (select max(issued_at) from forecasts where family = 'dk_dayahead' and zone = 'DK1')
           order by ts limit 8""",
    ),
    (
        "vintages: how often each Energinet 5-minute forecast was revised",
        """select series_id, count(*) as vintages, count(distinct ts) as intervals from observations
           where series_id like 'energinet/Forecasts_5Min/DK1/%' group by series_id order by series_id limit 5""",
    ),
)


def submit_job(settings: Settings, module: str, *arguments: str, indent: str = "") -> int:
    """`python -m <module> <arguments>` as a Ray job, followed to its end; 0 if it succeeded, else 1.

    The job's own lines (progress, summary) are printed, Ray's go to ``<data_dir>/logs/jobs/<submission id>.log``.
    Against the local head by default, with this machine's Python (the head shares the venv); with ``ray.address``
    set, against the cluster whose dashboard ``RAY_ADDRESS`` names, with the Python on that cluster's PATH. The
    caller has put the cluster's token in the environment (``use_ray_token``).
    """
    python, dashboard = sys.executable, _dashboard(settings)
    if settings.ray.address:
        python, dashboard = "python", os.environ.get("RAY_ADDRESS", dashboard)
    run = run_job(
        dashboard,
        [python, "-m", module, *arguments],
        settings.data_dir / "logs" / "jobs",
        show=lambda line: print((indent + line).rstrip(), flush=True),
    )
    if not run.succeeded:
        print(f"{indent}job {run.submission_id} {run.status}; its whole log: {run.log_file}", flush=True)
    return EXIT_OK if run.succeeded else EXIT_UNHEALTHY


def _with_areas(settings: Settings, areas: str) -> Settings:
    acquisition = settings.acquisition.model_copy(update={"areas": areas.split(",")})
    return settings.model_copy(update={"acquisition": acquisition})


def _dashboard(settings: Settings) -> str:
    from scalar_ray.local.ray_head import RayHead

    return RayHead(settings).dashboard_url
