"""`scalar-ray train`, `forecast`, `models` and `strategy`: the forecast models and the DK day-ahead strategy.

``train`` submits ``jobs.train`` with `ray job submit` to the platform's cluster (the local head by default);
``forecast`` issues forecasts now with the champions (a one-off run of what the forecasting actor does on schedule);
``models`` lists the registry; ``strategy`` backtests the DK day-ahead battery strategy and draws its plot.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scalar_ray.config import Settings
from scalar_ray.local.ray_head import use_ray_token

__all__ = ["add_forecasting_commands"]

EXIT_OK, EXIT_FAILED = 0, 1


def add_forecasting_commands(commands: Any) -> None:
    """Register the commands on the CLI's subparsers."""
    train = commands.add_parser("train", help="train every family x zone model on the cluster (`ray job submit`)")
    train.add_argument("--families", help="comma-separated families (default: all)")
    train.add_argument("--zones", help="comma-separated zones (default: all of each family)")
    train.add_argument("--models", help="AutoGluon models instead of the families' own (e.g. SeasonalNaive,Average)")
    train.add_argument("--time-limit", type=int, help="seconds of fitting per model")
    train.add_argument("--backtest-windows", type=int, help="rolling-origin backtest windows")
    train.set_defaults(handler=_train)
    forecast = commands.add_parser("forecast", help="issue forecasts now with the champion models")
    forecast.add_argument("--families", help="comma-separated families (default: all)")
    forecast.add_argument("--zones", help="comma-separated zones (default: all)")
    forecast.add_argument("--no-publish", action="store_true", help="print only; do not publish to the topic")
    forecast.set_defaults(handler=_forecast)
    models = commands.add_parser("models", help="the model registry: champions, versions and backtest metrics")
    models.add_argument("--all", action="store_true", help="every version, not just the champions")
    models.set_defaults(handler=_models)
    strategy = commands.add_parser(
        "strategy", help="backtest the DK day-ahead battery strategy against naive bidding and perfect foresight"
    )
    strategy.add_argument(
        "--zones", help="comma-separated zones (default: those of dk_dayahead the platform forecasts, DK1,DK2)"
    )
    strategy.add_argument("--days", type=int, default=7, help="latest out-of-sample delivery days (default 7)")
    strategy.add_argument("--power", type=float, default=10.0, help="battery power, MW (default 10)")
    strategy.add_argument("--energy", type=float, default=20.0, help="battery energy, MWh (default 20)")
    strategy.add_argument("--efficiency", type=float, default=0.9, help="round-trip efficiency (default 0.9)")
    strategy.add_argument("--plot", type=Path, help="PNG to write (default <data_dir>/strategy/dk_dayahead.png)")
    strategy.set_defaults(handler=_strategy)


def _train(settings: Settings, args: argparse.Namespace) -> int:
    use_ray_token(settings)
    from commands.platform import submit_job

    arguments: list[str] = []
    for option in ("families", "zones", "models", "time_limit", "backtest_windows"):
        value = getattr(args, option)
        if value is not None:
            arguments += [f"--{option.replace('_', '-')}", str(value)]
    return submit_job(settings, "jobs.train", *arguments)


def _forecast(settings: Settings, args: argparse.Namespace) -> int:
    use_ray_token(settings)
    from actors.cluster import connect
    from actors.warehouse import ensure_warehouse_actor
    from scalar_ray.broker.messaging import PulsarPublisher
    from scalar_ray.composition import forecast_service, pulsar_client, worker_warehouse

    updates: dict[str, Any] = {}
    if args.families:
        updates["families"] = args.families.split(",")
    if args.zones:
        updates["zones"] = args.zones.split(",")
    settings = settings.model_copy(update={"forecasting": settings.forecasting.model_copy(update=updates)})
    connect(settings)
    if settings.warehouse.kind == "duckdb":
        ensure_warehouse_actor(settings)
    client = None if args.no_publish else pulsar_client(settings)
    try:
        service = forecast_service(settings, worker_warehouse(settings), PulsarPublisher(client) if client else None)
        now = datetime.now(UTC)
        failed = 0
        for spec, zone in service.models():
            issued = service.issue(spec, zone, now)
            if issued is None:
                failed += 1
                error = next(m.error for m in service.snapshot().models if m.model == f"{spec.name}/{zone}")
                print(f"{spec.name}/{zone:<6} FAILED {error}")
                continue
            targets = sorted(set(issued.forecasts["target"].to_pylist()))
            print(
                f"{spec.name}/{zone:<6} {issued.version}  {issued.window}  {issued.forecasts.num_rows} intervals "
                f"({', '.join(targets)})"
            )
        destination = "printed only" if args.no_publish else f"published to {service.topic}"
        print(f"\n{len(service.models()) - failed} forecast(s) issued at {now:%Y-%m-%d %H:%M:%S} UTC, {destination}")
        return EXIT_FAILED if failed else EXIT_OK
    finally:
        if client is not None:
            client.close()


def _models(settings: Settings, args: argparse.Namespace) -> int:
    from scalar_ray.composition import model_registry

    registry = model_registry(settings)
    rows = []
    for family, zone in registry.models():
        entries = registry.versions(family, zone)
        champion = registry.champion_pointer(family, zone)
        for entry in entries if args.all else [e for e in entries if champion and e.version == champion.version]:
            rows.append(
                f"{family + '/' + zone:<26} {entry.version:<22} {entry.status:<9} "
                f"WQL {entry.metrics.get('wql', float('nan')):.3f}  naive {entry.baseline_metrics.get('wql', 0):.3f}  "
                f"MASE {entry.metrics.get('mase', float('nan')):.3f}  data to {_minute(entry.data_window.get('end'))}"
            )
        if not args.all and champion is None:
            rows.append(f"{family + '/' + zone:<26} {'-':<22} no champion ({len(entries)} version(s) rejected)")
    print("\n".join(rows) if rows else f"no models in {registry.url} yet: run `scalar-ray train`")
    return EXIT_OK


def _minute(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else "?"


def _strategy(settings: Settings, args: argparse.Namespace) -> int:
    use_ray_token(settings)
    from actors.cluster import connect
    from actors.warehouse import ensure_warehouse_actor
    from scalar_ray.composition import model_registry, worker_warehouse
    from scalar_ray.core.errors import ForecastDataError
    from scalar_ray.forecasting.families import family_or_error
    from scalar_ray.forecasting.strategy import Battery
    from scalar_ray.forecasting.strategy_backtest import backtest_strategy, plot_strategy

    battery = Battery(power_mw=args.power, energy_mwh=args.energy, efficiency=args.efficiency, start_soc=0.5)
    spec = family_or_error("dk_dayahead")
    connect(settings)
    if settings.warehouse.kind == "duckdb":
        ensure_warehouse_actor(settings)
    warehouse, registry = worker_warehouse(settings), model_registry(settings)
    reports, failed = [], 0
    configured = settings.forecasting.zones
    zones = args.zones.split(",") if args.zones else [z for z in spec.zones if configured is None or z in configured]
    for zone in zones:
        try:
            reports.append(backtest_strategy(warehouse, registry, spec, zone, battery, max_days=args.days))
        except ForecastDataError as exc:
            failed += 1
            print(f"{zone}: {exc}")
    if reports:
        print(
            f"{'zone':<5} {'days':>4} {'P&L forecast':>13} {'naive':>10} {'perfect':>10} {'captured':>8} "
            f"{'imbalance MWh':>13} {'EUR/MWh':>8}"
        )
        for report in reports:
            totals = report.totals()
            captured = f"{totals['captured']:.0%}" if totals["captured"] is not None else "-"
            print(
                f"{totals['zone']:<5} {totals['days']:>4} {totals['pnl_forecast_eur']:>13,.0f} "
                f"{totals['pnl_naive_eur']:>10,.0f} {totals['pnl_perfect_eur']:>10,.0f} {captured:>8} "
                f"{totals['imbalance_mwh']:>13.1f} {totals['imbalance_cost_eur_per_mwh']:>8.1f}"
            )
        path = plot_strategy(reports, args.plot or settings.data_dir / "strategy" / "dk_dayahead.png")
        print(f"\nplot: {path}")
    return EXIT_FAILED if failed else EXIT_OK
