"""Conformal calibration of the forecast interval, from the backtest's own windows.

A model's outermost quantiles (q10 and q90 by default) make an interval that should hold its nominal share of the
actuals (80 %). Backtests often find it narrower (the models were fitted on the same history they are scored near)
or wider. Where the backtest coverage misses the nominal by more than ``TOLERANCE``, the interval is recalibrated by
conformalized quantile regression (Romano, Patterson and Candès, 2019): the score of an actual is how far it falls
outside the interval, ``max(low - y, y - high)``; the ``nominal x (1 + 1/n)`` quantile of those scores is added to
both edges (negative: the interval narrows). Offsets are per target, in the target's unit.

The coverage *after* is estimated honestly, by cross-conformal: each window is scored with the offsets learned on the
other windows. Offsets whose estimate lands no closer to the nominal than the models' own interval are not applied
(on two windows of unlike days, one day's offsets can widen or narrow the other's interval the wrong way).
Quantiles are sorted again after the shift, so a narrowed interval never crosses its median.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "TOLERANCE",
    "IntervalCalibration",
    "WindowInterval",
    "calibrate",
    "conformal_offset",
    "interval_coverage",
    "shift_interval",
]

TOLERANCE = 0.05  # coverage within nominal +- 5 points is left as the models made it


@dataclass(frozen=True)
class WindowInterval:
    """One backtest window's actuals of one target and the interval forecast for them."""

    target: str
    actual: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class IntervalCalibration:
    """What the backtest found and what issuing applies: offsets per target (zero when not applied)."""

    low_level: float
    high_level: float
    coverage_before: float
    coverage_after: float
    applied: bool
    offsets: dict[str, float] = field(default_factory=dict)
    # The cross-validated coverage recalibrating would give, also when it was not applied for being no better.
    estimated_after: float | None = None

    @property
    def nominal(self) -> float:
        """The share of actuals the interval should hold."""
        return self.high_level - self.low_level

    def as_dict(self) -> dict[str, Any]:
        """For the registry entry."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IntervalCalibration:
        """From a registry entry."""
        return cls(**{**data, "offsets": dict(data.get("offsets", {}))})


def interval_coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """The share of actuals inside ``[low, high]``."""
    if len(actual) == 0:
        return math.nan
    return float(np.mean((actual >= low) & (actual <= high)))


def conformal_offset(actual: np.ndarray, low: np.ndarray, high: np.ndarray, nominal: float) -> float:
    """The CQR offset: the finite-sample ``nominal`` quantile of how far actuals fall outside the interval."""
    scores = np.maximum(low - actual, actual - high)
    count = len(scores)
    if count == 0:
        return 0.0
    level = min(1.0, nominal * (1 + 1 / count))
    return float(np.quantile(scores, level, method="higher"))


def _offsets(windows: Sequence[WindowInterval], nominal: float) -> dict[str, float]:
    offsets = {}
    for target in sorted({window.target for window in windows}):
        mine = [window for window in windows if window.target == target]
        offsets[target] = conformal_offset(
            np.concatenate([w.actual for w in mine]),
            np.concatenate([w.low for w in mine]),
            np.concatenate([w.high for w in mine]),
            nominal,
        )
    return offsets


def _inside(windows: Sequence[WindowInterval], offsets: Mapping[str, float] | None = None) -> tuple[int, int]:
    """Actuals inside the (shifted) intervals, and actuals in all."""
    inside = total = 0
    for window in windows:
        offset = (offsets or {}).get(window.target, 0.0)
        inside += int(np.sum((window.actual >= window.low - offset) & (window.actual <= window.high + offset)))
        total += len(window.actual)
    return inside, total


def _share(inside: int, total: int) -> float:
    return inside / total if total else math.nan


def calibrate(windows: Sequence[Sequence[WindowInterval]], low_level: float, high_level: float) -> IntervalCalibration:
    """Coverage of the backtest windows (outer sequence: windows; inner: targets), and offsets where it misses.

    With a single window the offsets are learned and scored on the same window (no cross-conformal estimate is
    possible); the backtest has two or more windows in every family.
    """
    nominal = high_level - low_level
    flat = [interval for window in windows for interval in window]
    before = _share(*_inside(flat))
    applied = not math.isnan(before) and abs(before - nominal) > TOLERANCE
    if not applied:
        return IntervalCalibration(low_level, high_level, before, before, applied=False)
    inside = total = 0
    for index, held_out in enumerate(windows):
        others = [interval for k, window in enumerate(windows) if k != index for interval in window] or list(held_out)
        held_inside, held_total = _inside(held_out, _offsets(others, nominal))
        inside, total = inside + held_inside, total + held_total
    after = _share(inside, total)
    if not abs(after - nominal) < abs(before - nominal):
        return IntervalCalibration(low_level, high_level, before, before, applied=False, estimated_after=after)
    offsets = _offsets(flat, nominal)
    return IntervalCalibration(
        low_level, high_level, before, after, applied=True, offsets=offsets, estimated_after=after
    )


def shift_interval(
    quantiles: np.ndarray, levels: Sequence[float], calibration: IntervalCalibration | None, target: str
) -> np.ndarray:
    """``quantiles`` ([interval, level], ``levels`` ascending) with the target's offset on the outer edges, sorted."""
    shifted = np.array(quantiles, dtype="float64", copy=True)
    if calibration is not None and calibration.applied:
        offset = calibration.offsets.get(target, 0.0)
        for index, level in enumerate(levels):
            if math.isclose(level, calibration.low_level):
                shifted[:, index] -= offset
            elif math.isclose(level, calibration.high_level):
                shifted[:, index] += offset
    shifted.sort(axis=1)  # separately fitted quantiles can cross, and so can a narrowed interval and its median
    return shifted
