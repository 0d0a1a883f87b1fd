"""Why dk_demand lost to SeasonalNaive in the training bench, and the fix: the same simulator history, the family's
own models, trained on 10 days (what bench/train.py gives every family) and on 28 (the family's configured history),
each with and without its day-ahead covariates. Every variant is backtested on the same two last days.

The training bench's 10 days leave 8 before the backtest: one weekend, and 768 quarter-hours on which the tree models
fit three day-ahead covariates whose simulated errors are independent from interval to interval (about +-8 %).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import ray

from actors.warehouse import ensure_warehouse_actor
from bench.report import markdown_table, publish
from jobs.train import run
from scalar_ray.config import load_settings
from scalar_ray.forecasting.families import load_families
from scalar_ray.simulator.server import SimulatorServer
from scalar_ray.warehouse.remote import RemoteWarehouse
from tests.integration.conftest import free_port
from tests.integration.forecasting.history import forecasting_environment, load_history
from tests.integration.providers.conftest import simulator_environment

DAYS = 30
VARIANTS = {  # name: (history, with the known covariates)
    "10 days, day-ahead covariates (the training bench)": ("P10D", True),
    "10 days, no day-ahead covariates": ("P10D", False),
    "28 days, day-ahead covariates (the family's history)": ("P28D", True),
    "28 days, no day-ahead covariates": ("P28D", False),
}


def main() -> None:
    """Load 30 days of history once; train every variant for DK1 and DK2; publish the skill table."""
    family = load_families()["dk_demand"]
    # No time limit (as bench/train.py); the input checks' min_history is the family's, below the 10 days here.
    family = family.model_copy(update={"time_limit_s": 3600, "min_history": "P3D"})
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-demand-") as scratch, SimulatorServer(free_port()) as simulator:
        root = Path(scratch)
        base = {
            **simulator_environment(simulator.base_url),
            **forecasting_environment([family], ["DK1", "DK2"]),
            "SCALAR_RAY__NAMESPACE": f"bench-demand-{uuid.uuid4().hex[:6]}",
            "SCALAR_LOCAL__DATA_DIR": str(root),
        }
        settings = load_settings(base)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace=settings.ray.namespace)
        try:
            ensure_warehouse_actor(settings)
            loaded = load_history(settings, RemoteWarehouse(settings.ray.namespace), DAYS)
            print(f"history: {loaded:,} rows", flush=True)
            for index, (name, (history, known)) in enumerate(VARIANTS.items()):
                update: dict[str, object] = {"history": history}
                if not known:
                    update["known_covariates"] = ()
                spec = family.model_copy(update=update)
                variant = load_settings({**base, "SCALAR_REGISTRY__URL": str(root / f"registry-{index}")})
                started = time.monotonic()
                outcomes = run(variant, [(spec, "DK1"), (spec, "DK2")], sequential=True, echo=False)
                for outcome in sorted(outcomes, key=lambda o: o.zone):
                    rows.append(
                        {
                            "variant": name,
                            "zone": outcome.zone,
                            "AutoGluon best WQL": round(outcome.fitted["wql"], 4),
                            "SeasonalNaive WQL": round(outcome.baseline["wql"], 4),
                            "skill": round(1 - outcome.fitted["wql"] / outcome.baseline["wql"], 2),
                            "serves": outcome.serving_model,
                            "coverage_80_pct": round(100 * outcome.fitted["coverage"], 1),
                        }
                    )
                print(f"{name}: {time.monotonic() - started:.0f} s", flush=True)
        finally:
            ray.shutdown()
    body = (
        f"dk_demand's models ({', '.join(family.model_settings)}, ensemble; no time limit) on one "
        f"load of {DAYS} days of simulator history, backtested on the same last two days. Skill = 1 - WQL / WQL of "
        "SeasonalNaive. The 10-day history is what bench/train.py gives every family: after the two backtest days it "
        "leaves 8 days, one weekend, on which the tree models fit three day-ahead covariates whose simulated errors "
        "are independent per interval. With the family's 28 days the same models win clearly; hence dk_demand's "
        "`min_history` is now P14D (each weekday seen twice): with less, the input checks let SeasonalNaive serve, "
        "named as a fallback, instead of a model fitted on a week. The simulator's day-ahead covariates "
        "are truth plus independent noise, so here they add nothing (skill is higher still without them); real TSO "
        "and weather forecasts carry information, so they stay. `coverage_80_pct` is before calibration: where it "
        "misses 80 % by more than 5 points the interval is recalibrated at training.\n\n"
        + markdown_table(rows, list(rows[0]))
    )
    publish(
        "demand_history",
        "Why dk_demand lost to SeasonalNaive: history length (bench/demand_history.py)",
        body,
        {"rows": rows},
    )


if __name__ == "__main__":
    main()
