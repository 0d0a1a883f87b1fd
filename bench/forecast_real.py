"""Forecast quality on real data: England and Wales half-hourly demand, 2000 (Taylor, 2003), on the paper's protocol.

The first 8 weeks fit, the last 4 weeks evaluate from rolling origins at lead times 1 to 48 half-hours
(bench/data/SOURCE.md). Four forecasters, in one run, on the same origins:

- **the platform's demand configuration**: the `dk_demand` family (its models, time limit, validation windows,
  quantiles, promotion rule) pointed at this series, trained by `train_model` exactly as the platform trains: the
  series sits in a real DuckDB warehouse, the frame is built from it, the backtest and the registry entry are the
  platform's. The version serves what the platform would serve (its ensemble, or SeasonalNaive where that lost);
- **the same without its weekly model** (SeasonalAverage over P7D): what the family's model list was before, so the
  run shows what the weekly cycle adds;
- **seasonal naive**: the same half-hour one week before (Taylor's benchmark), its 10-90 % interval from the
  training weeks' weekly differences;
- **MSTL** (statsforecast): daily and weekly seasonality with an AutoETS trend, fitted on the 8 weeks and applied
  from each origin with those parameters (as the paper does with its exponential smoothing).

Reported: MAPE by lead time (and its mean), WQL over q10/q50/q90, and the coverage of the 10-90 % interval.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.report import markdown_table, publish
from scalar_ray.core.forecasts import quantile_column
from scalar_ray.core.window import Window
from scalar_ray.forecasting.families import load_families
from scalar_ray.forecasting.issuing import load_predictor, predict_with
from scalar_ray.forecasting.metrics import weighted_quantile_loss
from scalar_ray.forecasting.registry import ModelRegistry
from scalar_ray.forecasting.training import train_model
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.warehouse import DuckDBWarehouse

DATA = Path(__file__).parent / "data" / "taylor_2000_england_wales_demand.csv"
PLOT = Path("docs/images/forecast_real.png")
ZONE = "GB"
SERIES = f"bench/taylor/{ZONE}/demand"
STEP = timedelta(minutes=30)
FIT_WEEKS, EVAL_WEEKS, LEADS, WEEK = 8, 4, 48, 336
ORIGIN_EVERY = 4  # an origin every 2 hours (Taylor: every half-hour; the same leads, a quarter of the origins)
QUANTILES = (0.1, 0.5, 0.9)


@dataclass
class Forecasts:
    """One method's forecasts: [origin, lead] arrays per quantile."""

    name: str
    quantiles: dict[float, np.ndarray]
    seconds: float


def load() -> pd.Series:
    frame = pd.read_csv(DATA, parse_dates=["period_start"])
    series = pd.Series(frame["demand_mw"].to_numpy(float), index=pd.DatetimeIndex(frame["period_start"]))
    if len(series) != (FIT_WEEKS + EVAL_WEEKS) * WEEK:
        raise ValueError(f"{DATA} holds {len(series)} half-hours, not 4,032")
    return series


def origins(series: pd.Series) -> list[int]:
    """Positions of the first forecast interval: every ORIGIN_EVERY-th half-hour of the last 4 weeks, 48 leads each."""
    first = FIT_WEEKS * WEEK
    return list(range(first, len(series) - LEADS + 1, ORIGIN_EVERY))


WEEKLY_MODEL = "SeasonalAverage"


def platform_forecasts(
    series: pd.Series, starts: list[int], workdir: Path, *, weekly: bool = True
) -> tuple[Forecasts, dict[str, Any]]:
    """dk_demand's configuration on this series, trained through the platform's training code."""
    workdir.mkdir(parents=True, exist_ok=True)
    family = load_families()["dk_demand"]
    models = family.models if weekly else {k: v for k, v in family.models.items() if k != WEEKLY_MODEL}
    spec = family.model_copy(
        update={
            "models": models,
            "name": "taylor_demand",
            "zones": (ZONE,),
            "targets": ("bench/taylor/{zone}/demand",),
            "known_covariates": (),
            "past_covariates": (),
            "resolution": "PT30M",
            "horizon": "PT24H",
            "history": f"P{FIT_WEEKS * 7}D",
        }
    )
    warehouse = DuckDBWarehouse(workdir / "taylor.duckdb")
    index = [ts.to_pydatetime().replace(tzinfo=UTC) for ts in series.index]
    builder = ObservationBuilder(FetchContext("bench", "taylor", Window(index[0], index[-1] + STEP), index[-1], ZONE))
    for ts, value in zip(index, series.to_numpy(), strict=True):
        builder.add(
            area=ZONE, variable="demand", ts=ts, value=float(value), issued_at=ts + STEP, unit="MW",
            resolution="PT30M",
        )  # fmt: skip
    warehouse.write(builder.build())
    registry = ModelRegistry(str(workdir / "registry"), workdir / "cache")
    fit_end = index[FIT_WEEKS * WEEK]
    started = time.monotonic()
    outcome = train_model(spec, ZONE, warehouse, registry, issue_time=fit_end, workdir=workdir)
    train_s = time.monotonic() - started
    if outcome.status == "failed" or outcome.version is None:
        raise RuntimeError(f"training failed: {outcome.reason}")
    entry = registry.entry(spec.name, ZONE, outcome.version)
    predictor = load_predictor(registry, entry)
    started = time.monotonic()
    # From each origin, the forecast the platform would issue then: the frame as known at that moment (calendar
    # covariates included), the version's serving model, quantiles sorted; the same path as the scheduler and the API.
    by_origin = []
    for position in starts:
        issued = predict_with(entry, predictor, spec, ZONE, warehouse, index[position])
        rows = issued.forecasts.sort_by("ts")
        if rows.num_rows < LEADS or rows["ts"][0].as_py() != index[position]:
            raise RuntimeError(f"the forecast from {index[position]} does not start there or is short")
        by_origin.append({q: rows[quantile_column(q)].to_numpy()[:LEADS] for q in QUANTILES})
    quantiles = {q: np.stack([one[q] for one in by_origin]) for q in QUANTILES}
    warehouse.close()
    facts = {
        "models": entry.models,
        "serving_model": entry.serving_model or predictor.model_best,
        "fitted_model": entry.fitted_metrics.get("model") if entry.fitted_metrics else None,
        "backtest_skill": outcome.skill,
        "train_s": round(train_s, 1),
        "decision": outcome.reason,
    }
    name = "platform (dk_demand configuration)" if weekly else f"platform without {WEEKLY_MODEL} weekly"
    return Forecasts(name, quantiles, time.monotonic() - started), facts


def seasonal_naive(series: pd.Series, starts: list[int]) -> Forecasts:
    """The same half-hour one week before; the interval from the fitting weeks' weekly differences."""
    started = time.monotonic()
    values = series.to_numpy()
    fit = values[: FIT_WEEKS * WEEK]
    differences = fit[WEEK:] - fit[:-WEEK]
    low, high = np.quantile(differences, [0.1, 0.9])
    point = np.stack([values[position - WEEK : position - WEEK + LEADS] for position in starts])
    quantiles = {0.1: point + low, 0.5: point, 0.9: point + high}
    return Forecasts("seasonal naive (one week)", quantiles, time.monotonic() - started)


def mstl(series: pd.Series, starts: list[int]) -> Forecasts:
    """MSTL with daily and weekly seasons and an AutoETS trend, parameters from the fitting weeks."""
    from statsforecast.models import MSTL, AutoETS  # noqa: PLC0415 - only this bench uses statsforecast

    started = time.monotonic()
    values = series.to_numpy()
    model = MSTL(season_length=[48, WEEK], trend_forecaster=AutoETS(model="ZZN"))
    model.fit(values[: FIT_WEEKS * WEEK])
    low, mean, high = [], [], []
    for position in starts:
        answer = model.forward(y=values[:position], h=LEADS, level=[80])
        low.append(answer["lo-80"])
        mean.append(answer["mean"])
        high.append(answer["hi-80"])
    quantiles = {0.1: np.stack(low), 0.5: np.stack(mean), 0.9: np.stack(high)}
    return Forecasts("MSTL (daily + weekly, AutoETS trend)", quantiles, time.monotonic() - started)


def scores(forecasts: Forecasts, actual: np.ndarray) -> dict[str, Any]:
    """MAPE per lead and overall, WQL, and the 10-90 % interval's coverage."""
    median = forecasts.quantiles[0.5]
    ape = np.abs(median - actual) / np.abs(actual)
    inside = (actual >= forecasts.quantiles[0.1]) & (actual <= forecasts.quantiles[0.9])
    return {
        "method": forecasts.name,
        "mape_by_lead": [round(float(v) * 100, 3) for v in ape.mean(axis=0)],
        "mape_pct": round(float(ape.mean()) * 100, 2),
        "mape_1_pct": round(float(ape[:, 0].mean()) * 100, 2),
        "mape_48_pct": round(float(ape[:, -1].mean()) * 100, 2),
        "wql": round(weighted_quantile_loss(actual.ravel(), {q: v.ravel() for q, v in forecasts.quantiles.items()}), 5),
        "coverage_80_pct": round(float(inside.mean()) * 100, 1),
        "seconds": round(forecasts.seconds, 1),
    }


def plot(results: list[dict[str, Any]]) -> None:
    import matplotlib as mpl  # noqa: PLC0415 - only where a plot is drawn

    mpl.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    figure, axis = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    leads = np.arange(1, LEADS + 1)
    for result in results:
        axis.plot(leads, result["mape_by_lead"], label=f"{result['method']} (mean {result['mape_pct']} %)")
    axis.set_xlabel("lead time (half-hours)")
    axis.set_ylabel("MAPE (%)")
    axis.set_title("England and Wales demand, June-August 2000: the last 4 weeks from rolling origins")
    axis.grid(alpha=0.3)
    axis.legend()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(PLOT, dpi=100)
    plt.close(figure)


def verdict(results: list[dict[str, Any]]) -> str:
    """Where the platform's configuration loses, from this run's figures, and why."""
    platform, daily_only, naive, classical = results
    lines = [
        f"Against the weekly seasonal naive the platform's configuration wins "
        f"({platform['mape_pct']} % against {naive['mape_pct']} % MAPE)."
        if platform["mape_pct"] < naive["mape_pct"]
        else f"It does not beat the weekly seasonal naive ({platform['mape_pct']} % against {naive['mape_pct']} %).",
        f"The weekly model ({WEEKLY_MODEL} over P7D) takes MAPE from {daily_only['mape_pct']} % to "
        f"{platform['mape_pct']} %, WQL from {daily_only['wql']} to {platform['wql']} and the interval's coverage "
        f"from {daily_only['coverage_80_pct']} % to {platform['coverage_80_pct']} %.",
    ]
    if platform["mape_pct"] > classical["mape_pct"]:
        lines.append(
            f"**It loses to MSTL** ({platform['mape_pct']} % against {classical['mape_pct']} % MAPE; at the first "
            f"half-hour {platform['mape_1_pct']} % against {classical['mape_1_pct']} %, at the 48th "
            f"{platform['mape_48_pct']} % against {classical['mape_48_pct']} %). Why: the configuration is built for "
            "a day-ahead horizon with TSO and weather forecasts as covariates; here it has none, so its tree models "
            "see only lags and the calendar. MSTL decomposes the daily and the weekly cycle and its ETS trend "
            "follows the newest level, which matters most at short leads; the platform's statistical models "
            "(seasonal naive and average) do not track the level."
        )
    else:
        lines.append(f"It beats MSTL ({platform['mape_pct']} % against {classical['mape_pct']} % MAPE).")
    lines.append(
        f"The 10-90 % interval held {platform['coverage_80_pct']} % of the actuals for the platform, "
        f"{classical['coverage_80_pct']} % for MSTL and {naive['coverage_80_pct']} % for the naive (nominal 80 %)."
    )
    return " ".join(lines)


def main() -> None:
    series = load()
    starts = origins(series)
    actual = np.stack([series.to_numpy()[position : position + LEADS] for position in starts])
    with tempfile.TemporaryDirectory(prefix="forecast-real-") as folder:
        platform, facts = platform_forecasts(series, starts, Path(folder) / "weekly")
        daily_only, daily_facts = platform_forecasts(series, starts, Path(folder) / "daily", weekly=False)
    methods = [platform, daily_only, seasonal_naive(series, starts), mstl(series, starts)]
    results = [scores(method, actual) for method in methods]
    plot(results)
    table = markdown_table(
        [{key: value for key, value in result.items() if key != "mape_by_lead"} for result in results],
        ["method", "mape_pct", "mape_1_pct", "mape_48_pct", "wql", "coverage_80_pct", "seconds"],
    )
    body = (
        f"Half-hourly demand of England and Wales, 5 June to 27 August 2000 (Taylor, 2003; bench/data/SOURCE.md): "
        f"the first {FIT_WEEKS} weeks fit, the last {EVAL_WEEKS} weeks evaluate, {len(starts)} rolling origins "
        f"(every {ORIGIN_EVERY // 2} hours) x leads 1-{LEADS} half-hours. The platform's model is the `dk_demand` "
        f"configuration trained by `train_model` from a DuckDB warehouse holding the series: models "
        f"{', '.join(facts['models'])}; serving {facts['serving_model']}; its own backtest skill against "
        f"SeasonalNaive (daily) {facts['backtest_skill']}; trained in {facts['train_s']} s (without the weekly model: "
        f"serving {daily_facts['serving_model']}, skill {daily_facts['backtest_skill']}). `seconds` is forecasting "
        f"time for all origins.\n\n{table}\n\n![MAPE by lead time](images/forecast_real.png)\n\n{verdict(results)}\n"
    )
    publish("forecast_real", "Forecast quality on real data: Taylor's demand series (bench/forecast_real.py)", body,
            {"results": results, "platform": facts, "daily_only": daily_facts, "origins": len(starts)})  # fmt: skip
    print(body)


if __name__ == "__main__":
    main()
