"""Forecast accuracy (pure numpy): MASE for the median, pinball loss and WQL for the quantiles.

The definitions follow AutoGluon-TimeSeries (and the literature): WQL is the pinball loss summed over quantiles and
time, times two, divided by the sum of absolute actuals and averaged over the quantile levels; MASE scales the median's
absolute error by the in-sample absolute error of a seasonal naive forecast on the context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Scores", "mase", "mean_scores", "pinball_loss", "weighted_quantile_loss"]


@dataclass(frozen=True)
class Scores:
    """One model's accuracy over a set of windows (lower is better for the three losses)."""

    wql: float
    mase: float
    pinball: float
    windows: int = 1
    # The share of actuals inside the outermost quantiles' interval (10-90 %: nominal 0.8); higher is not better.
    coverage: float | None = None

    def as_dict(self) -> dict[str, float]:
        """For registry entries and summaries."""
        return {key: round(value, 6) if isinstance(value, float) else value for key, value in asdict(self).items()}


def pinball_loss(actual: np.ndarray, predicted: np.ndarray, quantile: float) -> float:
    """Mean pinball (quantile) loss of one quantile forecast."""
    error = actual - predicted
    return float(np.mean(np.maximum(quantile * error, (quantile - 1) * error)))


def weighted_quantile_loss(actual: np.ndarray, quantiles: Mapping[float, np.ndarray]) -> float:
    """WQL: 2 x summed pinball loss over time, per quantile, scaled by the summed absolute actuals; mean over levels."""
    scale = float(np.sum(np.abs(actual)))
    if scale == 0:
        scale = float(len(actual))  # an all-zero window: fall back to the unscaled loss per point
    losses = [2 * pinball_loss(actual, predicted, q) * len(actual) / scale for q, predicted in quantiles.items()]
    return float(np.mean(losses))


def mase(actual: np.ndarray, median: np.ndarray, context: np.ndarray, season: int) -> float:
    """Mean absolute error of the median over the context's mean absolute seasonal difference."""
    lag = season if len(context) > season else 1
    differences = np.abs(context[lag:] - context[:-lag])
    scale = float(np.mean(differences)) if len(differences) else 0.0
    error = float(np.mean(np.abs(actual - median)))
    return error / scale if scale > 0 else error


def mean_scores(scores: Sequence[Scores]) -> Scores:
    """Average over windows (and items)."""
    if not scores:
        raise ValueError("no scores to average")
    covered = [s.coverage for s in scores if s.coverage is not None]
    return Scores(
        wql=float(np.mean([s.wql for s in scores])),
        mase=float(np.mean([s.mase for s in scores])),
        pinball=float(np.mean([s.pinball for s in scores])),
        windows=sum(s.windows for s in scores),
        coverage=float(np.mean(covered)) if covered else None,
    )
