"""Training fan-out: every family x zone as Ray tasks against the same models one after another in one process.

Both runs train identical models on identical data (simulator history in a DuckDB file, read through the warehouse
actor as the platform does) with no time limit, so they do the same work; each writes to its own registry, so
neither compares against a champion the other made. Reported: wall times, the speedup against the CPUs given (target
at least 0.8 x CPUs), peak memory per task, and each family's backtest skill against SeasonalNaive (simulator data).
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import ray

from actors.warehouse import RemoteWarehouse, ensure_warehouse_actor
from bench.report import markdown_table, publish
from jobs.train import run
from scalar_ray.config import Settings, load_settings
from scalar_ray.forecasting.families import load_families
from scalar_ray.forecasting.training import ModelOutcome
from scalar_ray.simulator.server import SimulatorServer
from tests.integration.conftest import free_port
from tests.integration.forecasting.history import forecasting_environment, load_history
from tests.integration.providers.conftest import simulator_environment

CPUS = 2
HISTORY_DAYS = 10


def _settings(base: dict[str, str], data_dir: Path, registry: str) -> Settings:
    return load_settings({**base, "SCALAR_LOCAL__DATA_DIR": str(data_dir), "SCALAR_REGISTRY__URL": registry})


def main() -> None:
    """Load history, train sequentially, train fanned out, publish."""
    families = list(load_families().values())
    # No time limit: both runs fit every model to the end, so they do the same work.
    families = [spec.model_copy(update={"time_limit_s": 3600}) for spec in families]
    pairs = [(spec, zone) for spec in families for zone in spec.zones]
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch, SimulatorServer(free_port()) as simulator:
        root = Path(scratch)
        base = {
            **simulator_environment(simulator.base_url),
            **forecasting_environment(families),
            "SCALAR_RAY__NAMESPACE": f"bench-train-{uuid.uuid4().hex[:6]}",
        }
        settings = _settings(base, root, str(root / "registry-sequential"))
        ray.init(num_cpus=CPUS, include_dashboard=False, log_to_driver=False, namespace=settings.ray.namespace)
        try:
            ensure_warehouse_actor(settings)
            started = time.monotonic()
            rows = load_history(settings, RemoteWarehouse(settings.ray.namespace), HISTORY_DAYS)
            print(f"history: {rows:,} rows in {time.monotonic() - started:.0f} s", flush=True)

            started = time.monotonic()
            sequential = run(settings, pairs, sequential=True, echo=False)
            sequential_s = time.monotonic() - started
            print(f"sequential: {len(pairs)} models in {sequential_s:.0f} s", flush=True)

            fanned_settings = _settings(base, root, str(root / "registry-fanned"))
            started = time.monotonic()
            fanned = run(fanned_settings, pairs, echo=False)
            fanned_s = time.monotonic() - started
            print(f"fan-out: {len(pairs)} models in {fanned_s:.0f} s", flush=True)
        finally:
            ray.shutdown()
    _publish(pairs, sequential, sequential_s, fanned, fanned_s)


def _publish(
    pairs: list[Any], sequential: list[ModelOutcome], sequential_s: float, fanned: list[ModelOutcome], fanned_s: float
) -> None:
    speedup = sequential_s / fanned_s
    failed = [o.model_id for o in [*sequential, *fanned] if o.status == "failed"]
    rss = [o.peak_rss_mb for o in fanned]
    by_family: dict[str, list[ModelOutcome]] = defaultdict(list)
    for outcome in fanned:
        if outcome.status != "failed":
            by_family[outcome.family].append(outcome)
    skill_rows = []
    for family, outcomes in sorted(by_family.items()):
        fitted_wql = statistics.mean(o.fitted["wql"] for o in outcomes)
        naive_wql = statistics.mean(o.baseline["wql"] for o in outcomes)
        skill = statistics.mean(1 - o.fitted["wql"] / o.baseline["wql"] for o in outcomes)
        skill_rows.append(
            {
                "family": family,
                "zones": len(outcomes),
                "AutoGluon best WQL": f"{fitted_wql:.3f}",
                "SeasonalNaive WQL": f"{naive_wql:.3f}",
                "skill (mean over zones)": f"{skill:+.2f}",
                "zones where SeasonalNaive serves": sum(o.serving_model == "SeasonalNaive" for o in outcomes),
                "MASE best / naive": (
                    f"{statistics.mean(o.fitted['mase'] for o in outcomes):.2f} / "
                    f"{statistics.mean(o.baseline['mase'] for o in outcomes):.2f}"
                ),
            }
        )
    timing = [
        {
            "run": "one process, one model after another (baseline)",
            "models": len(pairs),
            "wall s": f"{sequential_s:.0f}",
        },
        {"run": f"Ray tasks, 1 CPU each, {CPUS} CPUs", "models": len(pairs), "wall s": f"{fanned_s:.0f}"},
    ]
    body = "\n\n".join(
        [
            f"Every family x zone ({len(pairs)} models: SeasonalNaive, Naive, RecursiveTabular, DirectTabular and the "
            f"ensemble, no time limit) on {HISTORY_DAYS} days of simulator history, trained one after another in one "
            f"process and then fanned out as Ray tasks (1 CPU reserved and threads capped per task).",
            markdown_table(timing, ["run", "models", "wall s"]),
            f"**Speedup {speedup:.2f}x on {CPUS} CPUs = {speedup / CPUS:.2f} x CPUs** (target at least 0.8 x CPUs). "
            f"Peak RSS per training task: median {statistics.median(rss):.0f} MiB, max {max(rss):.0f} MiB "
            f"(the worker process: Python, AutoGluon, torch and one model's frame). "
            + (f"Failed: {', '.join(failed)}." if failed else "No model failed."),
            "Backtest skill against SeasonalNaive per family (rolling-origin windows over the most recent data; "
            "**simulator data**, whose series are smooth daily shapes with weekly effects, so these figures say the "
            "pipeline works, not how the models do on real markets). Skill = 1 - WQL / WQL of SeasonalNaive; where "
            "AutoGluon's best lost to its baseline, that version serves SeasonalNaive.",
            markdown_table(skill_rows, list(skill_rows[0]) if skill_rows else ["family"]),
        ]
    )
    publish(
        "train",
        "Training fan-out and backtest skill (bench/train.py)",
        body,
        {
            "models": len(pairs),
            "cpus": CPUS,
            "sequential_s": sequential_s,
            "fanned_s": fanned_s,
            "speedup": speedup,
            "speedup_per_cpu": speedup / CPUS,
            "peak_rss_mb": rss,
            "failed": failed,
            "skill": skill_rows,
            "outcomes": [o.as_dict() for o in fanned],
        },
    )
    print(f"speedup {speedup:.2f}x ({speedup / CPUS:.2f} x CPUs)")


if __name__ == "__main__":
    main()
