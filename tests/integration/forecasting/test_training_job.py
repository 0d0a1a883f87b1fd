"""The training job on the real local Ray: AutoGluon models fanned out as tasks over a DuckDB warehouse of simulator
history, a registry on disk, promotion only of better models, and per-model errors that stop nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from jobs.train import run
from scalar_ray.broker.envelope import ForecastEnvelope
from scalar_ray.broker.messaging import InMemoryBroker
from scalar_ray.composition import model_registry
from scalar_ray.config import Settings
from scalar_ray.core.window import Window
from scalar_ray.forecasting.families import CovariateRef, FamilySpec, load_families
from scalar_ray.forecasting.issuing import ForecastService
from scalar_ray.forecasting.selection import summary_table
from scalar_ray.ingestion.forecast_validation import validate_forecast
from scalar_ray.warehouse.remote import RemoteWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def family(name: str, **overrides: object) -> FamilySpec:
    # Short fits keep the module quick; the models are the families' own.
    return load_families()[name].model_copy(update={"time_limit_s": 20, **overrides})


def stored_span(warehouse: RemoteWarehouse, series: str) -> tuple[datetime, datetime]:
    """The first and last interval the warehouse holds of ``series``."""
    sql = f"select min(ts) as first, max(ts) as last from observations where series_id = '{series}'"  # noqa: S608
    table = warehouse.query(sql)  # the tests' own series ids
    return table["first"][0].as_py(), table["last"][0].as_py()


Column = pa.Array | pa.ChunkedArray | np.ndarray


def write_copy(warehouse: RemoteWarehouse, variable: str, ts: Column, value: Column, issued_at: Column) -> None:
    """Rows of a derived DK1 series ``entsoe/A65/DK1/<variable>`` (same dataset, unit and resolution as the load)."""
    n = len(ts)
    metadata = {"provider": "entsoe", "dataset": "A65", "area": "DK1", "unit": "MW", "resolution": "PT15M"}
    warehouse.write(
        pa.table(
            {
                "series_id": [f"entsoe/A65/DK1/{variable}"] * n,
                "ts": ts,
                "value": value,
                "issued_at": issued_at,
                **{name: [text] * n for name, text in metadata.items()},
                "variable": [variable] * n,
            }
        )
    )


def gappy_copy(settings: Settings) -> None:
    """DK1's load again as ``load_gappy``, with every other day missing."""
    warehouse = RemoteWarehouse(settings.ray.namespace)
    table = warehouse.query("select ts from observations where series_id = 'entsoe/A65/DK1/load' order by ts")
    first = table["ts"][0].as_py()
    keep = [ts.as_py() for ts in table["ts"] if ((ts.as_py() - first) // timedelta(days=1)) % 2 == 0]
    rows = warehouse.read(["entsoe/A65/DK1/load"], Window(first, keep[-1] + timedelta(minutes=15)))
    chosen = rows.filter(pa.compute.is_in(rows["ts"], value_set=pa.array(keep, rows.schema.field("ts").type)))
    write_copy(warehouse, "load_gappy", chosen["ts"], chosen["value"], chosen["issued_at"])


def flat_copy(settings: Settings, flat_for: timedelta) -> None:
    """DK1's load again as ``load_flat``, its last ``flat_for`` stuck at one value (a meter that stopped)."""
    warehouse = RemoteWarehouse(settings.ray.namespace)
    first, last = stored_span(warehouse, "entsoe/A65/DK1/load")
    rows = warehouse.read(["entsoe/A65/DK1/load"], Window(first, last + timedelta(minutes=15)))
    stuck = pa.compute.greater(rows["ts"], pa.scalar(last - flat_for, rows.schema.field("ts").type))
    values = pa.compute.if_else(stuck, pa.scalar(1234.5), rows["value"])
    write_copy(warehouse, "load_flat", rows["ts"], values, rows["issued_at"])


def stopped_copy(settings: Settings, stopped_at: datetime) -> None:
    """DK1's day-ahead load forecast again as ``load_da_stopped``, every vintage issued up to ``stopped_at``."""
    warehouse = RemoteWarehouse(settings.ray.namespace)
    first, last = stored_span(warehouse, "entsoe/A65/DK1/load_da")
    vintages = warehouse.read_vintages(["entsoe/A65/DK1/load_da"], Window(first, last + timedelta(minutes=15)))
    kept = vintages.filter(
        pa.compute.less_equal(vintages["issued_at"], pa.scalar(stopped_at, vintages["issued_at"].type))
    )
    write_copy(warehouse, "load_da_stopped", kept["ts"], kept["value"], kept["issued_at"])


def test_a_flat_lining_input_makes_the_baseline_issue_and_says_so(dk_history: Settings) -> None:
    """Trained when the meter still moved and the day-ahead feed still issued, the model is champion; once the meter
    sticks and the feed has been silent for 40 hours, the issue falls back, naming both."""
    now = datetime.now(UTC)
    flat_copy(dk_history, timedelta(hours=30))
    stopped_copy(dk_history, now - timedelta(hours=40))
    spec = family("dk_demand").model_copy(
        update={
            "name": "dk_flat",
            "targets": ("entsoe/A65/{zone}/load_flat",),
            "known_covariates": (CovariateRef(template="entsoe/A65/{zone}/load_da_stopped"),),
            "min_history": "P3D",
        }
    )
    trained_at = now - timedelta(days=2)
    (outcome,) = run(dk_history, [(spec, "DK1")], issue_time=trained_at, echo=False)
    assert outcome.status == "promoted" and outcome.fallback is None, outcome
    broker = InMemoryBroker()
    registry = model_registry(dk_history)
    warehouse = RemoteWarehouse(dk_history.ray.namespace)
    service = ForecastService([spec], warehouse, registry, broker, "forecasts", zones=["DK1"])

    (issued,) = service.run_due(datetime.now(UTC))

    assert issued.fallback is not None and issued.fallback.model == "SeasonalNaive"
    assert "entsoe/A65/DK1/load_flat: flat-lining: 1234.5 for the last P1D" in issued.fallback.reason
    assert "entsoe/A65/DK1/load_da_stopped: stale: the newest forecast was issued " in issued.fallback.reason
    (message,) = broker.topics["forecasts"]
    stored = ForecastEnvelope.decode(message.payload, message.properties).forecasts
    assert set(stored["fallback"].to_pylist()) == {"SeasonalNaive"}
    assert set(stored["fallback_reason"].to_pylist()) == {issued.fallback.reason}
    warehouse.write_forecasts(stored)
    read = warehouse.read_forecasts(
        "dk_flat", "DK1", Window(issued.issue_time, issued.issue_time + timedelta(seconds=1))
    )
    assert set(read["fallback"].to_pylist()) == {"SeasonalNaive"}  # the stored forecast says so
    (status,) = service.snapshot().models
    assert status.fallbacks == 1 and status.fallback == issued.fallback.reason


def test_models_train_in_parallel_and_bad_input_fails_only_its_own_model(dk_history: Settings) -> None:
    gappy_copy(dk_history)
    demand, dayahead = family("dk_demand"), family("dk_dayahead")
    pairs = [
        (demand, "DK1"),
        (dayahead, "DK1"),
        (demand, "DK2"),  # a zone with no data
        (dayahead.model_copy(update={"name": "dk_dayahead_long", "min_history": "P30D"}), "DK1"),  # too little
        (demand.model_copy(update={"name": "dk_gappy", "targets": ("entsoe/A65/{zone}/load_gappy",)}), "DK1"),
    ]

    outcomes = {o.model_id: o for o in run(dk_history, pairs, echo=False)}

    assert outcomes["dk_demand/DK1"].status == "promoted", outcomes["dk_demand/DK1"]
    assert outcomes["dk_dayahead/DK1"].status == "promoted", outcomes["dk_dayahead/DK1"]
    assert outcomes["dk_demand/DK2"].status == "failed"
    assert "no data for entsoe/A65/DK2/load" in outcomes["dk_demand/DK2"].reason
    # Less history than its models need: only the baseline is fitted, and it serves, named as a fallback.
    long = outcomes["dk_dayahead_long/DK1"]
    assert long.status == "promoted" and long.serving_model == "SeasonalNaive", long
    assert long.fallback is not None and "too little history" in long.fallback, long
    assert "gaps: " in outcomes["dk_gappy/DK1"].reason
    assert "is missing on the PT15M grid" in outcomes["dk_gappy/DK1"].reason
    for model in ("dk_demand/DK1", "dk_dayahead/DK1"):
        outcome = outcomes[model]
        assert outcome.skill is not None and outcome.skill >= 0
        assert outcome.metrics["windows"] == 2
        assert 0 < outcome.peak_rss_mb < 4096
    table = summary_table(list(outcomes.values()))
    assert "dk_demand/DK2" in table and "failed" in table

    registry = model_registry(dk_history)
    entry = registry.champion("dk_dayahead", "DK1")
    assert entry is not None and entry.version == outcomes["dk_dayahead/DK1"].version
    assert entry.status == "champion"
    assert set(entry.metrics) >= {"wql", "mase", "pinball"}
    assert entry.baseline_metrics["wql"] > 0
    assert entry.data_window["train_end"] < entry.data_window["end"]
    assert entry.code_version.startswith("0.1.0")
    assert "SeasonalNaive" in entry.models
    assert (registry.model_dir(entry) / "predictor.pkl").exists()


def periodic_copy(settings: Settings) -> None:
    """``load_periodic``: one daily shape plus seeded noise on DK1's load intervals (and their issue times).

    A series whose best forecast is known: the average of the same quarter-hour over past days beats repeating
    yesterday (half the noise variance), and the overall mean, having no daily shape, is far worse than either.
    """
    warehouse = RemoteWarehouse(settings.ray.namespace)
    first, last = stored_span(warehouse, "entsoe/A65/DK1/load")
    rows = warehouse.read(["entsoe/A65/DK1/load"], Window(first, last + timedelta(minutes=15)))
    hours = np.array([(ts.hour + ts.minute / 60) for ts in rows["ts"].to_pylist()])
    noise = np.random.default_rng(7).normal(0.0, 60.0, rows.num_rows)
    write_copy(
        warehouse,
        "load_periodic",
        rows["ts"],
        np.round(3000 + 800 * np.sin(2 * np.pi * hours / 24) + noise, 2),
        rows["issued_at"],
    )


def test_a_worse_configuration_is_not_promoted(dk_history: Settings) -> None:
    """The rule on a series where which configuration is better is not in doubt, whatever the machine's load."""
    periodic_copy(dk_history)
    spec = family("dk_demand").model_copy(
        update={
            "name": "dk_periodic",
            "targets": ("entsoe/A65/{zone}/load_periodic",),
            "known_covariates": (),
            "past_covariates": (),
            "min_history": "P3D",
        }
    )
    registry = model_registry(dk_history)
    (first,) = run(dk_history, [(spec.with_models({"SeasonalAverage": {}}), "DK1")], echo=False)
    assert first.status == "promoted", first
    champion = registry.champion_pointer("dk_periodic", "DK1")

    # The overall mean: no daily shape at all.
    (outcome,) = run(dk_history, [(spec.with_models({"Average": {}}), "DK1")], echo=False)

    assert outcome.status == "rejected", outcome
    merit = ("does not beat champion", f"lost to SeasonalNaive; champion {first.version}", "is below the required")
    assert any(reason in outcome.reason for reason in merit), outcome.reason
    assert registry.champion_pointer("dk_periodic", "DK1") == champion
    rejected = registry.entry("dk_periodic", "DK1", outcome.version or "")
    assert rejected.status == "rejected"
    assert rejected.champion_metrics is not None
    assert rejected.champion_metrics["wql"] < rejected.metrics["wql"]


def test_the_champion_issues_a_forecast_ingestion_accepts(dk_history: Settings) -> None:
    registry = model_registry(dk_history)
    if registry.champion("dk_demand", "DK1") is None:
        run(dk_history, [(family("dk_demand"), "DK1")], echo=False)
    broker = InMemoryBroker()
    service = ForecastService(
        [family("dk_demand")], RemoteWarehouse(dk_history.ray.namespace), registry, broker, "forecasts", zones=["DK1"]
    )

    (issued,) = service.run_due(datetime.now(UTC))

    (message,) = broker.topics["forecasts"]
    envelope = ForecastEnvelope.decode(message.payload, message.properties)
    verdict = validate_forecast(envelope, ["entsoe/A65/DK1/load"], issued.issue_time + timedelta(seconds=1))
    assert verdict.accepted, verdict.reasons
    table = envelope.forecasts
    assert set(table["target"].to_pylist()) == {"entsoe/A65/DK1/load"}
    assert set(table["issued_at"].to_pylist()) == {issued.issue_time}
    assert set(table["model_version"].to_pylist()) == {issued.version}
    assert table.num_rows == 96
    assert (np.diff(table.select(["q10", "q50", "q90"]).to_pandas().to_numpy(), axis=1) >= 0).all()
    assert message.key == "scalar/dk_demand/DK1"
    # Eight days are less than dk_demand's min_history (P14D): SeasonalNaive issues, and every row says why.
    assert issued.fallback is not None and "too little history" in issued.fallback.reason, issued.fallback
    assert set(table["fallback"].to_pylist()) == {"SeasonalNaive"}
    assert service.snapshot().models[0].version == registry.champion_pointer("dk_demand", "DK1").version
