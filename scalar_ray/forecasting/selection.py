"""Which models a training run trains, adjusted by its options, and what it reports (no Ray in it)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scalar_ray.forecasting.families import FamilySpec
from scalar_ray.forecasting.training import ModelOutcome

__all__ = ["adjusted", "progress_line", "save_summary", "select", "split_names", "summary_table"]


def select(
    families: dict[str, FamilySpec], names: list[str] | None, zones: list[str] | None
) -> list[tuple[FamilySpec, str]]:
    """(family, zone) pairs to train; ``ValueError`` for an unknown family or a zone no selected family has."""
    unknown = [name for name in names or [] if name not in families]
    if unknown:
        raise ValueError(f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {unknown}; known: {sorted(families)}")
    chosen = [families[name] for name in names] if names else list(families.values())
    pairs = [(spec, zone) for spec in chosen for zone in spec.zones if zones is None or zone in zones]
    stray = [zone for zone in zones or [] if all(zone not in spec.zones for spec in chosen)]
    if stray:
        raise ValueError(f"no selected family forecasts zone(s) {stray}")
    return pairs


def adjusted(
    spec: FamilySpec, models: list[str] | None, time_limit_s: int | None, backtest_windows: int | None
) -> FamilySpec:
    """The family with a run's overrides: other AutoGluon models, a fitting time limit, a backtest window count."""
    if models:
        spec = spec.with_models({name: {} for name in models})
    update: dict[str, Any] = {}
    if time_limit_s:
        update["time_limit_s"] = time_limit_s
    if backtest_windows:
        update["backtest"] = spec.backtest.model_copy(update={"windows": backtest_windows})
    return spec.model_copy(update=update) if update else spec


def split_names(text: str | None) -> list[str] | None:
    """``"a, b"`` → ``["a", "b"]``; None for no text."""
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def summary_table(outcomes: list[ModelOutcome]) -> str:
    """One line per model: decision, WQL against SeasonalNaive and the champion, MASE, coverage, time, memory, reason.

    Coverage is the 10-90 % interval's share of the backtest's actuals (and after calibration, where it was applied).
    """
    header = (
        f"{'model':<26} {'status':<8} {'WQL':>7} {'naive':>7} {'skill':>7} {'champ':>7} {'MASE':>6} "
        f"{'cover %':>11} {'time s':>7} {'RSS MB':>7}  version / reason"
    )
    lines = [header, "-" * len(header)]
    for outcome in sorted(outcomes, key=lambda o: o.model_id):
        champion = outcome.champion.get("wql") if outcome.champion else None
        lines.append(
            f"{outcome.model_id:<26} {outcome.status:<8} {_num(outcome.metrics.get('wql'))} "
            f"{_num(outcome.baseline.get('wql'))} {_num(outcome.skill)} {_num(champion)} "
            f"{_num(outcome.metrics.get('mase'), 6)} {_coverage(outcome.calibration)} "
            f"{outcome.training_s:>7.1f} {outcome.peak_rss_mb:>7.0f}  "
            f"{outcome.version or ''} {_serves(outcome)}{outcome.reason}"
        )
    return "\n".join(lines)


def _coverage(calibration: dict[str, Any] | None) -> str:
    """``  62 -> 80`` where the interval was recalibrated, `` 81`` where not, ``-`` without a backtest figure."""
    if not calibration or calibration.get("coverage_before") is None:
        return f"{'-':>11}"
    before = 100 * calibration["coverage_before"]
    if not calibration.get("applied"):
        return f"{before:>11.0f}"
    after = 100 * calibration["coverage_after"]
    return f"{before:.0f} -> {after:.0f}".rjust(11)


def _serves(outcome: ModelOutcome) -> str:
    return f"(serves {outcome.serving_model}) " if outcome.serving_model else ""


def _num(value: float | None, width: int = 7) -> str:
    return f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"


def progress_line(outcome: ModelOutcome, done: int, total: int) -> str:
    """``[3/8] dk_demand/DK1  promoted  41.2 s  …`` as each model finishes."""
    return f"[{done}/{total}] {outcome.model_id:<26} {outcome.status:<8} {outcome.training_s:>6.1f} s  {outcome.reason}"


def save_summary(outcomes: list[ModelOutcome], path: Path | None, data_dir: Path) -> Path:
    """The outcomes as JSON at ``path``, or in ``<data_dir>/training/summary-<UTC time>-<random>.json``."""
    if path is None:
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:4]}"
        path = data_dir / "training" / f"summary-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([outcome.as_dict() for outcome in outcomes], indent=2), encoding="utf-8")
    return path
