"""The ``scalar-ray`` command line: the composition root of every command an operator runs by hand.

Exit codes: 0 success; 1 a service is not healthy; 2 bad configuration or usage; 3 a local service failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from commands.api import add_serve_command
from commands.forecasting import add_forecasting_commands
from commands.platform import add_platform_commands
from commands.series import add_series_commands
from scalar_ray import __version__
from scalar_ray.config import Settings, load_settings, markdown_table
from scalar_ray.core.errors import ConfigurationError, LocalServiceError, ScalarError
from scalar_ray.local import LocalStack, ServiceStatus

__all__ = ["main"]

EXIT_OK, EXIT_UNHEALTHY, EXIT_CONFIG, EXIT_SERVICE = 0, 1, 2, 3

_logger = logging.getLogger("commands.main")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_CONFIG
    try:
        settings = load_settings()
        _configure_logging(settings)
        handler: Callable[[Settings, argparse.Namespace], int] = args.handler
        return handler(settings, args)
    except ConfigurationError as exc:
        print(f"scalar-ray: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except LocalServiceError as exc:
        print(f"scalar-ray: {exc}", file=sys.stderr)
        return EXIT_SERVICE
    except ScalarError as exc:
        print(f"scalar-ray: {exc}", file=sys.stderr)
        return EXIT_SERVICE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scalar-ray",
        description="European energy-market data platform on Ray. Settings come from SCALAR_* variables.",
    )
    parser.add_argument("--version", action="version", version=f"scalar-ray {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    local = commands.add_parser("local", help="the embedded one-machine stack (Pulsar, Redis, Ray head, DuckDB)")
    local_commands = local.add_subparsers(title="local commands", metavar="ACTION")
    up = local_commands.add_parser("up", help="start the local services and wait until they answer")
    up.add_argument("--json", action="store_true", help="print the status as JSON")
    up.set_defaults(handler=_local_up)
    down = local_commands.add_parser("down", help="stop the local services (data stays)")
    down.set_defaults(handler=_local_down)
    status = local_commands.add_parser("status", help="probe the local services; exit 1 unless all are healthy")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=_local_status)

    fetch = commands.add_parser("fetch", help="fetch one catalogue dataset for an area and window, and summarise it")
    fetch.add_argument("provider", help="elia, entsoe, nordpool, energinet, meteologica, volue or jao")
    fetch.add_argument("dataset", help="catalogue dataset id, e.g. A44 or DayAheadPriceIndices-15")
    fetch.add_argument("--area", help="area (default: the dataset's first), e.g. DK1 or DK1>SE3")
    fetch.add_argument("--start", help="window start, ISO-8601 (UTC unless an offset is given)")
    fetch.add_argument("--end", help="window end, ISO-8601 (default: now)")
    fetch.add_argument("--last", help="window length before --end as an ISO-8601 duration, e.g. P2D or PT6H")
    fetch.add_argument("--output", type=Path, help="also write the rows to a .parquet or .csv file")
    fetch.set_defaults(handler=_fetch)

    sim = commands.add_parser("sim", help="run the provider simulator (all seven providers' APIs) in the foreground")
    sim.add_argument("--port", type=int, default=8900, help="port on 127.0.0.1 (default 8900, the providers' default)")
    sim.add_argument("--seed", type=int, default=7, help="weather seed of the synthetic market")
    sim.add_argument("--rate-429", type=float, default=0.0, help="share of requests answered 429 with Retry-After")
    sim.add_argument("--rate-5xx", type=float, default=0.0, help="share of requests answered 503")
    sim.add_argument("--rate-slow", type=float, default=0.0, help="share of requests delayed by --slow-s")
    sim.add_argument("--rate-malformed", type=float, default=0.0, help="share of answers cut short")
    sim.add_argument("--slow-s", type=float, default=2.0, help="delay of a slow answer, seconds")
    sim.set_defaults(handler=_sim)

    add_platform_commands(commands)
    add_forecasting_commands(commands)
    add_serve_command(commands)
    add_series_commands(commands)

    config = commands.add_parser("config", help="inspect the configuration")
    config_commands = config.add_subparsers(title="config commands", metavar="ACTION")
    config_commands.add_parser("docs", help="print every setting as a Markdown table").set_defaults(
        handler=_config_docs
    )
    config_commands.add_parser("show", help="print the effective settings (secrets masked)").set_defaults(
        handler=_config_show
    )
    config_commands.add_parser("check", help="validate the configuration and exit").set_defaults(handler=_config_check)
    return parser


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.telemetry.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request at INFO, which buries the CLI's own lines during readiness polling.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


def _local_up(settings: Settings, args: argparse.Namespace) -> int:
    print(
        f"Starting the local stack (data in {settings.data_dir}); the first start resolves Pulsar's jars.",
        file=sys.stderr,
    )
    return _report(LocalStack(settings).up(), as_json=args.json)


def _local_down(settings: Settings, _: argparse.Namespace) -> int:
    stopped = LocalStack(settings).down()
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return EXIT_OK


def _local_status(settings: Settings, args: argparse.Namespace) -> int:
    return _report(LocalStack(settings).status(), as_json=args.json)


def _report(statuses: list[ServiceStatus], *, as_json: bool) -> int:
    if as_json:
        rows = [{**asdict(s), "state": s.state.value, "log_file": str(s.log_file or "")} for s in statuses]
        print(json.dumps(rows, indent=2))
    else:
        print(_status_table(statuses))
    return EXIT_OK if all(s.healthy for s in statuses) else EXIT_UNHEALTHY


def _status_table(statuses: list[ServiceStatus]) -> str:
    header = ("SERVICE", "STATE", "PID", "ENDPOINT", "DETAIL")
    rows = [(s.name, s.state.value, str(s.pid or "-"), s.endpoint, s.detail) for s in statuses]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def _fetch(settings: Settings, args: argparse.Namespace) -> int:
    from scalar_ray.providers.fetching import fetch_dataset, window_from

    try:
        window = window_from(args.start, args.end, args.last)
    except ValueError as exc:
        print(f"scalar-ray: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        result = fetch_dataset(settings, args.provider, args.dataset, args.area, window)
    except KeyError as exc:
        print(f"scalar-ray: {exc.args[0]}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"{args.provider}/{result.spec.id} {result.area} {window}: {result.table.num_rows} rows, "
        f"{len(result.summaries)} series, {result.requests} requests ({result.retries} retried)"
    )
    header = ("SERIES", "ROWS", "FIRST", "LAST", "MIN", "MEAN", "MAX", "UNIT")
    rows = [
        (
            s.series_id,
            str(s.rows),
            f"{s.first:%Y-%m-%d %H:%M}",
            f"{s.last:%Y-%m-%d %H:%M}",
            f"{s.minimum:.2f}",
            f"{s.mean:.2f}",
            f"{s.maximum:.2f}",
            s.unit,
        )
        for s in result.summaries
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if args.output:
        result.write(args.output)
        print(f"wrote {result.table.num_rows} rows to {args.output}")
    return EXIT_OK


def _sim(_: Settings, args: argparse.Namespace) -> int:
    from scalar_ray.simulator import FaultConfig, SimulatorServer

    for name in ("rate_429", "rate_5xx", "rate_slow", "rate_malformed"):
        if not 0 <= getattr(args, name) <= 1:
            print(f"scalar-ray: --{name.replace('_', '-')} must be between 0 and 1", file=sys.stderr)
            return EXIT_CONFIG
    faults = FaultConfig(
        rate_429=args.rate_429,
        rate_5xx=args.rate_5xx,
        rate_slow=args.rate_slow,
        rate_malformed=args.rate_malformed,
        slow_s=args.slow_s,
    )
    server = SimulatorServer(args.port, faults, args.seed)
    print(f"provider simulator on {server.base_url}/<provider>/... (Ctrl-C stops it)", file=sys.stderr)
    server.serve_forever()
    return EXIT_OK


def _config_docs(_: Settings, __: argparse.Namespace) -> int:
    print(markdown_table(), end="")
    return EXIT_OK


def _config_show(settings: Settings, _: argparse.Namespace) -> int:
    print(json.dumps(_masked(settings.model_dump()), indent=2, default=str))
    return EXIT_OK


def _config_check(settings: Settings, _: argparse.Namespace) -> int:
    print(f"configuration OK (warehouse {settings.warehouse.kind}, broker {settings.broker.service_url})")
    return EXIT_OK


def _masked(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "**********"
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


if __name__ == "__main__":
    sys.exit(main())
