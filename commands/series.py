"""`scalar-ray series search|get|instances|staircase|stream`: market data from the shell, through the read API's client.

The parameters are the API's (and the client's). Times may be dates or ISO-8601 times; without an offset they are
read in ``--tz``, so ``--start 2026-01-16 --tz Europe/Copenhagen`` is that local day. The API is the running
platform's (``--url``, default the local one); the key is ``--api-key`` or the first of ``SCALAR_SERVE__API_KEYS``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scalar_ray.client import Answer, ClientError, MarketDataClient
from scalar_ray.config import Settings
from scalar_ray.core.durations import fixed_duration

__all__ = ["add_series_commands"]

EXIT_OK, EXIT_REFUSED = 0, 2


def add_series_commands(commands: Any) -> None:
    """Register ``series`` and its actions on the CLI's subparsers."""
    series = commands.add_parser("series", help="market data: search the catalogue, read series and issues")
    actions = series.add_subparsers(title="series commands", metavar="ACTION")

    search = actions.add_parser("search", help="search the series catalogue")
    for name in ("provider", "dataset", "area", "variable", "unit", "resolution"):
        search.add_argument(f"--{name}", help=f"exact {name} (case-insensitive)")
    search.add_argument("--q", help="words found anywhere in the id or metadata")
    search.add_argument("--page", type=int, default=1)
    search.add_argument("--page-size", type=int, default=50)
    _common(search)
    search.set_defaults(handler=_search)

    get = actions.add_parser("get", help="values of series over a window, as known at a moment")
    get.add_argument("ids", nargs="+", metavar="ID", help="series ids (from `series search`)")
    _window(get)
    get.add_argument("--as-of", help="the values known at this moment (default: now)")
    get.add_argument("--vintage", choices=("latest", "first", "all"), default="latest")
    get.add_argument("--frequency", help="PT15M, PT1H, P1D, P1W, P1M, P1Y (default: as stored)")
    get.add_argument("--aggregation", choices=("mean", "sum", "min", "max", "first", "last"))
    get.add_argument("--hours", choices=("base", "peak", "offpeak"), default="base")
    get.add_argument("--wide", action="store_true", help="one column per series")
    _common(get)
    get.set_defaults(handler=_get)

    issues = actions.add_parser("instances", help="the issue times of a series")
    issues.add_argument("id", metavar="ID")
    _common(issues)
    issues.set_defaults(handler=_instances)

    stairs = actions.add_parser("staircase", help="per interval, the newest value issued at least --lead before it")
    stairs.add_argument("ids", nargs="+", metavar="ID")
    _window(stairs)
    stairs.add_argument("--lead", default="P1D", help="ISO-8601 lead time (PT6H, P1D)")
    _common(stairs)
    stairs.set_defaults(handler=_staircase)

    _add_stream(actions)


def _add_stream(actions: Any) -> None:
    follow = actions.add_parser("stream", help="follow committed changes live (JSON lines; resumes after a drop)")
    follow.add_argument("--id", action="append", dest="ids", metavar="ID", help="a series to follow (repeat)")
    for name in ("provider", "area", "variable"):
        follow.add_argument(f"--{name}", help=f"follow every series of this {name}")
    follow.add_argument("--last-id", help="resume after this event id")
    follow.add_argument("--max-events", type=int, help="stop after this many changes")
    _common(follow)
    follow.set_defaults(handler=_stream)


def _stream(settings: Settings, args: argparse.Namespace) -> int:
    filters = {"id": args.ids, "provider": args.provider, "area": args.area, "variable": args.variable}
    try:
        with _client(settings, args) as client:
            for change in client.stream(last_id=args.last_id, max_events=args.max_events, **filters):
                print(json.dumps(change), flush=True)
    except ClientError as exc:
        print(f"scalar-ray: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the API (default: the local one, http://127.0.0.1:SCALAR_SERVE__PORT)")
    parser.add_argument("--api-key", help="bearer key (default: the first of SCALAR_SERVE__API_KEYS)")
    parser.add_argument("--tz", default="UTC", help="time zone of the output and of times given without offset")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", dest="output")


def _window(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", help="window start (inclusive); a date is its midnight in --tz")
    parser.add_argument("--end", help="window end (exclusive; default: now)")
    parser.add_argument("--last", help="instead of --start: this long before --end (P7D, PT48H)")


def _client(settings: Settings, args: argparse.Namespace) -> MarketDataClient:
    url = args.url or f"http://127.0.0.1:{settings.serve.port}"
    key = args.api_key or (settings.serve.api_keys[0].get_secret_value() if settings.serve.api_keys else None)
    return MarketDataClient(url, key)


def _zone(args: argparse.Namespace) -> ZoneInfo:
    try:
        return ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SystemExit(f"scalar-ray: --tz {args.tz!r} is not an IANA time zone") from exc


def _moment(text: str, zone: ZoneInfo) -> datetime:
    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SystemExit(f"scalar-ray: {text!r} is not a date or ISO-8601 time") from exc
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _bounds(args: argparse.Namespace) -> tuple[datetime, datetime]:
    zone = _zone(args)
    end = _moment(args.end, zone) if args.end else datetime.now(zone)
    if args.start:
        return _moment(args.start, zone), end
    if args.last:
        try:
            return end - fixed_duration(args.last), end
        except ValueError as exc:
            raise SystemExit(f"scalar-ray: --last: {exc}") from exc
    raise SystemExit("scalar-ray: give --start or --last")


def _show(answer: Answer, args: argparse.Namespace, *, wide: bool = False) -> int:
    if args.output == "json":
        print(json.dumps({"meta": answer.meta, "rows": answer.table.to_pylist()}, default=str))
        return EXIT_OK
    frame = answer.to_pandas(layout="wide") if wide else answer.to_pandas()
    print(frame.to_csv() if args.output == "csv" else frame.to_string())
    return EXIT_OK


def _run(settings: Settings, args: argparse.Namespace, read: Any, *, wide: bool = False) -> int:
    try:
        with _client(settings, args) as client:
            answer = read(client)
    except ClientError as exc:
        print(f"scalar-ray: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    return _show(answer, args, wide=wide)


def _search(settings: Settings, args: argparse.Namespace) -> int:
    filters = {name: getattr(args, name) for name in ("provider", "dataset", "area", "variable", "unit", "resolution")}
    return _run(settings, args, lambda c: c.search(**filters, q=args.q, page=args.page, page_size=args.page_size))


def _get(settings: Settings, args: argparse.Namespace) -> int:
    start, end = _bounds(args)
    options = {
        "as_of": _moment(args.as_of, _zone(args)) if args.as_of else None,
        "vintage": args.vintage,
        "tz": args.tz,
        "frequency": args.frequency,
        "aggregation": args.aggregation,
        "hours": args.hours,
    }
    return _run(settings, args, lambda c: c.series(args.ids, start, end, **options), wide=args.wide)


def _instances(settings: Settings, args: argparse.Namespace) -> int:
    return _run(settings, args, lambda c: c.issues(args.id))


def _staircase(settings: Settings, args: argparse.Namespace) -> int:
    start, end = _bounds(args)
    return _run(settings, args, lambda c: c.staircase(args.ids, start, end, args.lead, tz=args.tz))
