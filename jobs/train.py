"""`ray job submit -- python -m jobs.train [--families dk_demand] [--zones DK1,DK2] [--models SeasonalNaive,Average]`.

Trains every selected family x zone model as its own Ray task, fanned out over the cluster. Each task reserves the
family's CPUs and caps its threads to them (BLAS, OpenMP, torch, AutoGluon), so tasks sharing a node do not fight
over its cores. A task builds its point-in-time frame from the warehouse, fits AutoGluon-TimeSeries, runs the
rolling-origin backtest against SeasonalNaive and the current champion, writes a registry version and promotes it if
the rule holds. Progress is printed as models finish; the summary table lists every model, failed ones with their
error (one model's bad data never stops the others). Exit status 1 when a model failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ray

from actors.warehouse import ensure_warehouse_actor
from scalar_ray.composition import model_registry, worker_warehouse
from scalar_ray.config import Settings, load_settings
from scalar_ray.forecasting.families import FamilySpec, load_families
from scalar_ray.forecasting.selection import adjusted, progress_line, save_summary, select, split_names, summary_table
from scalar_ray.forecasting.training import ModelOutcome, thread_caps, train_model
from scalar_ray.telemetry.instruments import tracer, training_completed
from scalar_ray.telemetry.setup import configure


def train_one(settings: Settings, spec: FamilySpec, zone: str, issue_time: datetime) -> dict[str, Any]:
    """One model, inside a Ray task (or in-process for the sequential baseline)."""
    import torch  # noqa: PLC0415 - only where models train (it comes with autogluon.timeseries)

    torch.set_num_threads(spec.cpus)
    workdir = settings.data_dir / "training"
    workdir.mkdir(parents=True, exist_ok=True)
    outcome = train_model(
        spec, zone, worker_warehouse(settings), model_registry(settings), issue_time=issue_time, workdir=workdir
    )
    return outcome.as_dict()


train_task = ray.remote(max_retries=0)(train_one)


def run(
    settings: Settings,
    pairs: list[tuple[FamilySpec, str]],
    *,
    issue_time: datetime | None = None,
    sequential: bool = False,
    echo: bool = True,
) -> list[ModelOutcome]:
    """Train every pair (as Ray tasks, or one after another in this process); outcomes in finishing order."""
    issue_time = issue_time or datetime.now(UTC)
    # Longest first (a model's cost grows with its targets), so no long model starts last on an otherwise idle node.
    pairs = sorted(pairs, key=lambda pair: -len(pair[0].targets))
    outcomes: list[ModelOutcome] = []
    started = time.monotonic()

    def report(outcome: ModelOutcome) -> None:
        outcomes.append(outcome)
        training_completed.add(
            1, {"scalar.family": outcome.family, "scalar.area": outcome.zone, "scalar.outcome": outcome.status}
        )
        if echo:
            print(progress_line(outcome, len(outcomes), len(pairs)), flush=True)

    if sequential:
        for spec, zone in pairs:
            report(ModelOutcome(**train_one(settings, spec, zone, issue_time)))
    else:
        pending = {
            train_task.options(
                num_cpus=spec.cpus,
                name=f"train {spec.name}/{zone}",
                runtime_env={"env_vars": thread_caps(spec.cpus)},
            ).remote(settings, spec, zone, issue_time): (spec, zone)
            for spec, zone in pairs
        }
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            spec, zone = pending.pop(done[0])
            try:
                report(ModelOutcome(**ray.get(done[0])))
            except ray.exceptions.RayError as exc:  # the worker died (out of memory, killed): that model only
                report(ModelOutcome(spec.name, zone, "failed", f"the training task died: {exc}"))
    if echo:
        print(f"\n{len(pairs)} model(s) in {time.monotonic() - started:.0f} s\n")
        print(summary_table(outcomes))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, train, print and save the summary; exit status 1 when a model failed."""
    parser = argparse.ArgumentParser(prog="python -m jobs.train", description=__doc__.splitlines()[0])
    parser.add_argument("--families", help="comma-separated families (default: all)")
    parser.add_argument("--zones", help="comma-separated zones (default: every zone of each family)")
    parser.add_argument("--models", help="AutoGluon models instead of the families' (e.g. SeasonalNaive,Average)")
    parser.add_argument("--time-limit", type=int, help="seconds of fitting per model (default: the family's)")
    parser.add_argument("--backtest-windows", type=int, help="rolling-origin windows (default: the family's)")
    parser.add_argument("--sequential", action="store_true", help="train one after another in this process")
    parser.add_argument("--summary", type=Path, help="also write the outcomes as JSON here")
    args = parser.parse_args(argv)
    settings = load_settings()
    settings = settings.model_copy(update={"local": settings.local.model_copy(update={"data_dir": settings.data_dir})})
    overrides = (split_names(args.models), args.time_limit, args.backtest_windows)
    families = {name: adjusted(spec, *overrides) for name, spec in load_families().items()}
    try:
        pairs = select(families, split_names(args.families), split_names(args.zones))
    except ValueError as exc:
        parser.error(str(exc))
    ray.init(address=settings.ray.address or "auto", namespace=settings.ray.namespace, log_to_driver=False)
    if settings.warehouse.kind == "duckdb":
        ensure_warehouse_actor(settings)  # the file has one writer; tasks read through it
    print(f"training {len(pairs)} model(s) into {settings.registry_url}", flush=True)
    telemetry = configure(settings.telemetry, "train-job")
    with tracer.start_as_current_span("train", attributes={"scalar.models": len(pairs)}):
        outcomes = run(settings, pairs, sequential=args.sequential)
    telemetry.flush()  # a job's driver exits right after: export before it does
    print(f"\nsummary: {save_summary(outcomes, args.summary, settings.data_dir)}")
    return 1 if any(outcome.status == "failed" for outcome in outcomes) else 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a model that tried to download weights fails at once
    sys.exit(main())
